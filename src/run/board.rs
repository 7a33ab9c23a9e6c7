//! What a run shows in TensorBoard (`tensorboard --logdir runs`), written to an event file in
//! its run directory as it trains:
//! - every progress tick: `batch/train_loss`, `batch/train_accuracy` (step: batches trained);
//! - every epoch (step: the epoch): each column of history.csv, `layer<N>_<name>` as
//!   `layer<N>/<name>` and the rest as `epoch/<name>`; histograms `layer<N>/weight`, `/bias`,
//!   `/weight_grad` and `/bias_grad` (the gradients of the epoch's last step);
//! - at the end: the confusion matrix (step: the epoch whose weights it shows) and each
//!   decision-boundary frame (step: its epoch) as images;
//! - an HParams session with the run's settings, ended when the run ends.

use std::path::Path;

use crate::error::{Error, Result};
use crate::nn::model::ParamLayout;
use crate::report::{png_of, Frame, BOUNDARY_FRAME_SIZE, CONFUSION_SIZE};
use crate::settings::Config;
use crate::tensorboard::{EventFile, HParam, Status};
use crate::training::history::HistoryRow;
use crate::training::train::Tick;

/// The HParams columns of a sweep, in an event file of the sweep's directory `dir`: the swept
/// settings with their values (`axes`: key and values, each as `--sweep` spells it), and the
/// final training, validation (`with_val`) and test metrics.
pub fn sweep_experiment(dir: &Path, axes: &[(String, Vec<toml::Value>)], with_val: bool) -> Result<()> {
    let hparams: Vec<(String, Vec<HParam>)> = axes
        .iter()
        .map(|(key, values)| (key.clone(), values.iter().filter_map(hparam).collect()))
        .collect();
    let splits = match with_val {
        true => &["train", "val", "test"][..],
        false => &["train", "test"][..],
    };
    let metrics: Vec<String> = splits
        .iter()
        .flat_map(|split| [format!("epoch/{split}_loss"), format!("epoch/{split}_accuracy")])
        .collect();
    let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
    let mut events = EventFile::create(dir)?;
    events.experiment("gpu-mlp train --sweep", &hparams, &metrics)?;
    events.flush()
}

/// The run's event file, and what maps batches to TensorBoard's steps.
pub struct Board {
    events: EventFile,
    steps_per_epoch: usize,
}

/// The TensorBoard tag of a history.csv column.
pub fn scalar_tag(column: &str) -> String {
    match column.split_once('_') {
        Some((layer, name)) if layer.starts_with("layer") && layer[5..].parse::<usize>().is_ok() => {
            format!("{layer}/{name}")
        }
        _ => format!("epoch/{column}"),
    }
}

/// The settings as the HParams view shows them: numbers, booleans and text (lists joined by
/// commas, as `--hidden` takes them); unset optional settings are left out.
pub fn hparams(config: &Config) -> Vec<(String, HParam)> {
    // From the TOML text, which spells f32 settings as given (0.2, not 0.20000000298…).
    let table: toml::Table = config.to_toml().parse().unwrap_or_default();
    table
        .into_iter()
        .filter_map(|(key, value)| Some((key, hparam(&value)?)))
        .collect()
}

/// A setting's TOML value as an HParams value (`None` for what has no such form).
pub fn hparam(value: &toml::Value) -> Option<HParam> {
    Some(match value {
        toml::Value::Integer(v) => HParam::Number(*v as f64),
        toml::Value::Float(v) => HParam::Number(*v),
        toml::Value::Boolean(v) => HParam::Bool(*v),
        toml::Value::String(v) => HParam::Text(v.clone()),
        // As --hidden takes it: 512,256.
        toml::Value::Array(_) => HParam::Text(crate::settings::value_text(value, ",")),
        toml::Value::Datetime(_) | toml::Value::Table(_) => return None,
    })
}

impl Board {
    /// A new event file in the run directory `dir`, starting an HParams session with `config`.
    /// A run resumed after `done_steps` batches marks the restart, so that TensorBoard drops
    /// what a killed process logged past its last checkpoint.
    pub fn open(dir: &Path, config: &Config, steps_per_epoch: usize, done_steps: usize) -> Result<Board> {
        let mut events = EventFile::create(dir)?;
        if done_steps > 0 {
            events.restart(done_steps as i64 + 1)?;
        }
        events.session_start(&hparams(config))?;
        Ok(Board {
            events,
            steps_per_epoch,
        })
    }

    /// The running training loss and accuracy since the last tick, flushed so that a running
    /// job shows it.
    pub fn tick(&mut self, tick: &Tick) -> Result<()> {
        let step = ((tick.epoch - 1) * self.steps_per_epoch + tick.batch) as i64;
        self.events.scalar("batch/train_loss", step, tick.recent.loss)?;
        self.events.scalar("batch/train_accuracy", step, tick.recent.accuracy)?;
        self.events.flush()
    }

    /// An epoch's history row, and histograms of each layer's parameters and gradients (flat,
    /// in `layout`).
    pub fn epoch(&mut self, row: &HistoryRow, layout: &ParamLayout, params: &[f32], grads: &[f32]) -> Result<()> {
        let step = row.epoch as i64;
        let layers = row.layers.len();
        for ((column, _), value) in HistoryRow::columns(layers).iter().zip(row.values(layers)) {
            if let Some(value) = value {
                self.events.scalar(&scalar_tag(column), step, value)?;
            }
        }
        for (l, slots) in layout.layers.iter().enumerate() {
            let n = l + 1;
            self.events
                .histogram(&format!("layer{n}/weight"), step, &params[slots.weight.clone()])?;
            self.events
                .histogram(&format!("layer{n}/bias"), step, &params[slots.bias.clone()])?;
            self.events
                .histogram(&format!("layer{n}/weight_grad"), step, &grads[slots.weight.clone()])?;
            self.events
                .histogram(&format!("layer{n}/bias_grad"), step, &grads[slots.bias.clone()])?;
        }
        self.events.flush()
    }

    /// At the end of a run in `dir`: the confusion matrix `plot_run` drew there (of the weights
    /// of epoch `shown`) and the decision-boundary `frames` as images; then the HParams session
    /// ends as a success, unless the run `stopped` on request (it may go on later).
    pub fn finish(&mut self, dir: &Path, shown: Option<usize>, frames: &[Frame], stopped: bool) -> Result<()> {
        let confusion = dir.join("confusion.png");
        if let (Some(epoch), true) = (shown, confusion.is_file()) {
            let png = std::fs::read(&confusion).map_err(|e| Error::io(&confusion, e))?;
            self.events
                .image("confusion_matrix", epoch as i64, png, CONFUSION_SIZE)?;
        }
        for (epoch, rgb) in frames {
            let png = png_of(rgb, BOUNDARY_FRAME_SIZE)?;
            self.events
                .image("decision_boundary", *epoch as i64, png, BOUNDARY_FRAME_SIZE)?;
        }
        self.events.flush()?;
        match stopped {
            true => Ok(()),
            false => self.end(Status::Success),
        }
    }

    /// Ends the HParams session.
    pub fn end(&mut self, status: Status) -> Result<()> {
        self.events.session_end(status)
    }
}

#[cfg(test)]
mod tests {
    use super::scalar_tag;

    #[test]
    fn layer_columns_group_by_layer_and_the_rest_by_epoch() {
        assert_eq!(scalar_tag("layer2_dead_fraction"), "layer2/dead_fraction");
        assert_eq!(scalar_tag("val_loss"), "epoch/val_loss");
        assert_eq!(scalar_tag("layers_x"), "epoch/layers_x");
    }
}

//! Settings and data turned into a ready run, in one place for every front end (the command
//! line's runs, `explain`, Python, the browser's page): the data as the settings ask for them
//! ([`Config::load_data`], [`Config::prepare`]), the network they describe for those data with
//! its initial parameters ([`start`]), and the training loop's and the backend's settings.
//! [`crate::settings`] only declares, parses and validates.

use std::sync::Arc;

use crate::data::table::{load_raw_table, load_table, Fitted, RawTable, TableCodec};
use crate::data::{load, LoadOptions, Splits};
use crate::device::create_backend_async;
use crate::error::{Error, Result};
use crate::nn::model::{initialize, MlpSpec, ParamLayout};
use crate::nn::optim::Schedule;
use crate::settings::{invalid, Config};
use crate::training::backend::{Backend, StepMetrics, TrainOptions};
use crate::training::train::TrainConfig;

/// A network ready to train: its shape and its initial parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    pub spec: MlpSpec,
    pub params: Vec<f32>,
}

impl Start {
    /// The backend `config` asks for (`device`, through `backend`'s API, with its training
    /// options) holding this network and `data`, with a sentence saying what was chosen and why.
    /// Blocks while a GPU opens: [`Start::backend_async`].
    pub fn backend(&self, config: &Config, data: Arc<Splits>) -> Result<(Box<dyn Backend>, String)> {
        pollster::block_on(self.backend_async(config, data))
    }

    /// [`Start::backend`], awaiting the GPU (a browser opens it asynchronously).
    pub async fn backend_async(&self, config: &Config, data: Arc<Splits>) -> Result<(Box<dyn Backend>, String)> {
        let (device, api, options) = (config.run.device, config.run.backend, config.train_options());
        create_backend_async(device, api, &self.spec, self.params.clone(), data, &options).await
    }
}

/// The network `config` describes for `data`, checked against what the run will ask of it
/// (validation data for early stopping, two inputs for boundary plots, memory for `copies`
/// copies of its arrays), starting from `from` (a saved model's shape and parameters, which
/// must be this network's) or freshly initialized.
pub fn start(config: &Config, data: &Splits, from: Option<(MlpSpec, &[f32])>, copies: u128) -> Result<Start> {
    // Early stopping watches validation data, which a --val-split or a front end gives.
    if config.training.patience.is_some() && data.val.is_none() {
        return Err(crate::training::train::patience_without_validation());
    }
    let spec = config.spec(data.train.dim, data.classes())?;
    config.check_memory(&spec, copies)?;
    if config.run.boundary_every.is_some() && spec.inputs() != 2 {
        return Err(invalid(
            "boundary_every",
            format!(
                "draws the decision regions of a model with 2 inputs; this one has {}",
                spec.inputs()
            ),
        ));
    }
    let params = match from {
        Some((saved, _)) if saved != spec => {
            return Err(Error::Checkpoint {
                path: "last.safetensors".into(),
                detail: format!(
                    "holds a {} network, the config asks for {}",
                    saved.describe(),
                    spec.describe()
                ),
            })
        }
        Some((_, params)) => params.to_vec(),
        None => initialize(&ParamLayout::new(&spec), config.model.init, config.run.seed),
    };
    Ok(Start { spec, params })
}

impl Config {
    /// The table's splits encoded by `codec` (a saved model's), or by one fitted now.
    pub fn load_table(&self, codec: Option<&TableCodec>) -> Result<Splits> {
        let source = self
            .table_source()
            .ok_or_else(|| invalid("data", "no --data table is configured".into()))?;
        load_table(&source, codec)
    }

    /// The splits of `main`, a table given in memory (a DataFrame), read as the `--data`
    /// table's settings say (its `data` path only names it) and encoded as `fitted` says.
    pub fn load_table_from(
        &self,
        main: RawTable,
        fitted: Option<Fitted<'_>>,
        weights: Option<&[f32]>,
    ) -> Result<Splits> {
        let source = self
            .table_source()
            .ok_or_else(|| invalid("data", "no --data table is configured".into()))?;
        let splits = load_raw_table(main, &source, fitted, weights)?;
        if let Some(why) = splits.train.refuse_weights() {
            return Err(invalid_weights(why));
        }
        Ok(splits)
    }

    /// The network for `inputs` features and `classes` classes.
    pub fn spec(&self, inputs: usize, classes: usize) -> Result<MlpSpec> {
        let model = &self.model;
        MlpSpec::for_classes(inputs, &model.hidden, classes, model.loss)?.with_activations(&model.activation)
    }

    /// Refuses a network whose parameters, gradients, optimizer state and batch activations
    /// (held once on the host even when training on the GPU), `copies` times over, would not
    /// fit in memory.
    pub fn check_memory(&self, spec: &MlpSpec, copies: u128) -> Result<()> {
        let params = ParamLayout::new(spec).len as u128;
        let arrays = 2 + self.optimizer.kind.state_per_param() as u128;
        let activations = 2 * self.training.batch_size as u128 * spec.sizes.iter().map(|&w| w as u128).sum::<u128>();
        let what = format!(
            "a {} network ({} parameters, batch {})",
            spec.describe(),
            params,
            self.training.batch_size
        );
        crate::memory::check_fits(
            "hidden",
            &what,
            4 * copies * (params * arrays + activations),
            crate::memory::available_bytes(),
        )
    }

    pub fn train_options(&self) -> TrainOptions {
        TrainOptions {
            batch_size: self.training.batch_size,
            optimizer: self.optimizer,
            dropout: self.model.dropout,
            seed: self.run.seed,
        }
    }

    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            data_dir: self.data.data_dir.clone(),
            seed: self.run.seed,
            samples: self.data.samples,
            noise: self.data.noise,
            strict_data: self.data.strict_data,
        }
    }

    /// The dataset as configured: loaded, truncated, split for validation, normalized.
    pub fn load_data(&self) -> Result<Splits> {
        if self.is_table() {
            return self.load_table(None);
        }
        let data = &self.data;
        if let Some(dir) = data.data_dir.as_deref().filter(|d| d.exists() && !d.is_dir()) {
            return Err(invalid(
                "data_dir",
                format!(
                    "{} is not a directory: give the folder holding the dataset",
                    dir.display()
                ),
            ));
        }
        if !data.dataset.is_images() {
            // Generated points: two f32 features and a label each, held about three times over
            // (generated, then split) — checked before generating.
            let bytes = 3 * 12 * data.samples as u128;
            let what = format!("{} generated points", data.samples);
            crate::memory::check_fits("samples", &what, bytes, crate::memory::available_bytes())?;
        }
        self.prepare(load(data.dataset, &self.load_options())?)
    }

    /// Loaded samples as the run trains on them: truncated (`train_samples`), split for
    /// validation (`val_split`), normalized (`normalize`).
    pub fn prepare(&self, mut splits: Splits) -> Result<Splits> {
        let data = &self.data;
        if let Some(n) = data.train_samples {
            splits.train = splits.train.truncated(n);
        }
        splits.check_not_empty()?;
        if let Some(why) = splits.train.refuse_weights() {
            return Err(invalid_weights(why));
        }
        splits.split_validation(data.val_split, self.run.seed)?;
        splits.normalize(data.normalize);
        Ok(splits)
    }

    /// The training loop's settings for `steps_per_epoch` steps per epoch.
    pub fn train_config(&self, steps_per_epoch: usize) -> TrainConfig {
        TrainConfig {
            epochs: self.training.epochs,
            schedule: self.lr_schedule(steps_per_epoch),
            seed: self.run.seed,
            patience: self.training.patience,
            monitor: self.training.monitor,
            log_every: self.run.log_every,
            shuffle: self.training.shuffle,
            start_epoch: 0,
            start_step: 0,
            start_metrics: StepMetrics::default(),
            best_so_far: None,
            eval_part: None,
        }
    }

    /// The learning-rate schedule for a run of `steps_per_epoch` steps per epoch.
    pub fn lr_schedule(&self, steps_per_epoch: usize) -> Schedule {
        let schedule = &self.schedule;
        Schedule {
            kind: schedule.kind,
            base_lr: self.optimizer.lr,
            step_epochs: schedule.step_epochs,
            gamma: schedule.gamma,
            warmup_steps: schedule.warmup_epochs * steps_per_epoch,
            total_steps: self.training.epochs * steps_per_epoch,
        }
    }
}

/// Sample weights (given by a front end) that cannot weight a loss.
fn invalid_weights(why: String) -> Error {
    Error::InvalidConfig {
        field: "sample_weight",
        detail: why,
    }
}

//! `train --sweep key=v1,v2 …`: the grid of settings, one run directory per point under one
//! parent, and the table that compares the runs when they are done.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::settings::Config;
use crate::training::backend::Metrics;

/// One `--sweep` flag: a setting and the values to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepAxis {
    /// The config key (`lr`, `activation`, `hidden`, …).
    pub key: String,
    pub values: Vec<String>,
}

impl FromStr for SweepAxis {
    type Err = String;

    /// `key=v1,v2,…`; a list-valued setting separates its items with `:` (`hidden=64,128:64`).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (key, values) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected KEY=V1,V2,… such as lr=1,0.1,0.001"))?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if key.trim().is_empty() || values.iter().any(String::is_empty) {
            return Err(format!("`{s}`: expected KEY=V1,V2,… with no empty key or value"));
        }
        Ok(SweepAxis {
            key: key.trim().replace('-', "_"),
            values,
        })
    }
}

/// One run of the grid: its settings, its resolved config, and its directory's name.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    pub settings: Vec<(String, String)>,
    pub config: Config,
    /// `lr=0.1_activation=tanh`.
    pub name: String,
}

/// The most runs one sweep may plan: each is a whole training run with its own directory.
pub const MAX_SWEEP_RUNS: usize = 1000;

/// Every combination of the axes' values (the first axis varying slowest), each resolved on
/// top of the config file and flags and validated before any run starts. A grid of more than
/// [`MAX_SWEEP_RUNS`] is refused before it is built.
pub fn plan(file: Option<&Path>, overrides: &toml::Table, axes: &[SweepAxis]) -> Result<Vec<SweepPoint>> {
    let mut seen = std::collections::HashSet::new();
    if let Some(axis) = axes.iter().find(|a| !seen.insert(a.key.as_str())) {
        return Err(Error::InvalidConfig {
            field: "sweep",
            detail: format!("`{}` is swept twice: give each setting one --sweep", axis.key),
        });
    }
    let runs = axes
        .iter()
        .try_fold(1usize, |n, axis| n.checked_mul(axis.values.len()))
        .filter(|&n| n <= MAX_SWEEP_RUNS);
    if runs.is_none() {
        let sizes: Vec<String> = axes.iter().map(|a| format!("{} {}", a.values.len(), a.key)).collect();
        return Err(Error::InvalidConfig {
            field: "sweep",
            detail: format!(
                "the grid of {} values is more than the {MAX_SWEEP_RUNS} runs a sweep may have: sweep fewer values",
                sizes.join(" × ")
            ),
        });
    }
    let mut grid: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for axis in axes {
        grid = grid
            .into_iter()
            .flat_map(|point| {
                axis.values.iter().map(move |v| {
                    let mut point = point.clone();
                    point.push((axis.key.clone(), v.clone()));
                    point
                })
            })
            .collect();
    }
    grid.into_iter()
        .map(|settings| {
            let mut table = toml::Table::new();
            for (key, value) in &settings {
                table.insert(key.clone(), Config::setting_value(key, value)?);
            }
            let config = Config::resolve_with(file, overrides, table)?;
            let name = settings
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace(['/', '\\'], "-")))
                .collect::<Vec<_>>()
                .join("_");
            Ok(SweepPoint { settings, config, name })
        })
        .collect()
}

/// Creates the sweep's directory `parent` with the columns of TensorBoard's HParams view:
/// the swept settings and the final metrics.
pub fn write_experiment(parent: &Path, axes: &[SweepAxis], points: &[SweepPoint]) -> Result<()> {
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let axes = axes
        .iter()
        .map(|axis| {
            let values = axis.values.iter().map(|v| Config::setting_value(&axis.key, v));
            Ok((axis.key.clone(), values.collect::<Result<Vec<_>>>()?))
        })
        .collect::<Result<Vec<_>>>()?;
    let with_val = points.iter().any(|p| p.config.data.val_split > 0.0);
    crate::run::board::sweep_experiment(parent, &axes, with_val)
}

/// How one run of a sweep ended.
#[derive(Debug, Clone)]
pub struct SweepResult {
    pub name: String,
    pub dir: PathBuf,
    /// The last epoch's training, validation (if any) and test metrics.
    pub last_train: Option<Metrics>,
    pub last_val: Option<Metrics>,
    pub last_test: Option<Metrics>,
    /// The best epoch by the monitored validation metric, its validation and test accuracy.
    pub best: Option<(usize, f64, f64)>,
    pub seconds: f64,
    /// Why the run failed (e.g. it diverged), if it did.
    pub failure: Option<String>,
}

/// The runs side by side: the last epoch's training loss and accuracy and its held-out ones
/// (validation when the runs have a validation split, else test, titled so), the best epoch
/// with its validation and test accuracy, and time.
pub fn comparison_table(results: &[SweepResult]) -> String {
    let width = results.iter().map(|r| r.name.len()).max().unwrap_or(3).max(3);
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", 100.0 * v));
    let loss = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    let with_val = results.iter().any(|r| r.last_val.is_some());
    let held_out = |r: &SweepResult| if with_val { r.last_val } else { r.last_test };
    let split = if with_val { "val" } else { "test" };
    let mut out = format!(
        "{:<width$} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9} {:>10} {:>8}\n",
        "run",
        "train_loss",
        "train_acc",
        format!("{split}_loss"),
        format!("{split}_acc"),
        "best_epoch",
        "best_val",
        "best_test",
        "seconds"
    );
    for r in results {
        if let Some(failure) = &r.failure {
            out += &format!("{:<width$} failed: {failure}\n", r.name);
            continue;
        }
        let (best_epoch, best_val, best_test) = match r.best {
            Some((epoch, val, test)) => (epoch.to_string(), pct(Some(val)), pct(Some(test))),
            None => ("-".into(), "-".into(), "-".into()),
        };
        out += &format!(
            "{:<width$} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9} {:>10} {:>8.1}\n",
            r.name,
            loss(r.last_train.map(|m| m.loss)),
            pct(r.last_train.map(|m| m.accuracy)),
            loss(held_out(r).map(|m| m.loss)),
            pct(held_out(r).map(|m| m.accuracy)),
            best_epoch,
            best_val,
            best_test,
            r.seconds
        );
    }
    out
}

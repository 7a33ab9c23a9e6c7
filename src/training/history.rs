//! A run's history: a row per epoch, its metrics and per-layer diagnostics, and how
//! history.csv writes each column.

use serde::{Deserialize, Serialize};

use crate::training::diagnostics::LayerDiagnostics;
use crate::training::train::EpochReport;

/// One row of the history: an epoch's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    /// None when the run has no test split.
    pub test_loss: Option<f64>,
    pub test_accuracy: Option<f64>,
    pub lr: f32,
    pub seconds: f64,
    pub samples_per_second: f64,
    /// Test ROC AUC (see `Evaluation::roc_auc`), recorded for table runs.
    #[serde(default)]
    pub test_auc: Option<f64>,
    /// Per layer, the epoch's diagnostics.
    #[serde(default)]
    pub layers: Vec<LayerDiagnostics>,
}

/// history.csv's columns per layer, each prefixed `layer<N>_` (see [`LayerDiagnostics`]).
const LAYER_COLUMNS: [&str; 7] = [
    "weight_grad_norm",
    "bias_grad_norm",
    "weight_norm",
    "update_ratio",
    "activation_mean",
    "activation_std",
    "dead_fraction",
];

/// How history.csv writes a column's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvFormat {
    /// This many decimals.
    Fixed(usize),
    /// Scientific notation with six decimals.
    Scientific,
    /// The shortest spelling that reads back as the same f32 (the learning rate).
    Shortest,
}

impl CsvFormat {
    fn apply(self, v: f64) -> String {
        match self {
            CsvFormat::Fixed(digits) => format!("{v:.digits$}"),
            CsvFormat::Scientific => format!("{v:.6e}"),
            CsvFormat::Shortest => format!("{}", v as f32),
        }
    }
}

impl HistoryRow {
    /// The history's row for an epoch the loop reports (its test AUC, for tables, added by the
    /// recorder).
    pub fn of(r: &EpochReport) -> HistoryRow {
        HistoryRow {
            epoch: r.epoch,
            train_loss: r.train.loss,
            train_accuracy: r.train.accuracy,
            val_loss: r.val.map(|v| v.loss),
            val_accuracy: r.val.map(|v| v.accuracy),
            test_loss: r.test.map(|t| t.loss),
            test_accuracy: r.test.map(|t| t.accuracy),
            lr: r.lr,
            seconds: r.train_seconds,
            samples_per_second: r.samples_per_second,
            test_auc: None,
            layers: r.layers.clone(),
        }
    }

    /// history.csv's columns after `epoch`, for rows of up to `layers` layers: each name and
    /// how it is written.
    pub fn columns(layers: usize) -> Vec<(String, CsvFormat)> {
        let fixed = [
            ("train_loss", CsvFormat::Fixed(6)),
            ("train_accuracy", CsvFormat::Fixed(6)),
            ("val_loss", CsvFormat::Fixed(6)),
            ("val_accuracy", CsvFormat::Fixed(6)),
            ("test_loss", CsvFormat::Fixed(6)),
            ("test_accuracy", CsvFormat::Fixed(6)),
            ("lr", CsvFormat::Shortest),
            ("seconds", CsvFormat::Fixed(3)),
            ("samples_per_second", CsvFormat::Fixed(1)),
            ("test_auc", CsvFormat::Fixed(6)),
        ];
        let per_layer = (1..=layers).flat_map(|l| {
            LAYER_COLUMNS
                .iter()
                .map(move |column| (format!("layer{l}_{column}"), CsvFormat::Scientific))
        });
        fixed
            .into_iter()
            .map(|(name, format)| (name.to_string(), format))
            .chain(per_layer)
            .collect()
    }

    /// history.csv's text: a header, then a row per epoch (a column per layer statistic, for
    /// as many layers as the widest row has).
    pub fn csv(rows: &[HistoryRow]) -> String {
        let layers = rows.iter().map(|r| r.layers.len()).max().unwrap_or(0);
        let columns = HistoryRow::columns(layers);
        let header: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let mut csv = format!("epoch,{}\n", header.join(","));
        for r in rows {
            csv += &r.epoch.to_string();
            for (value, (_, format)) in r.values(layers).into_iter().zip(&columns) {
                csv.push(',');
                csv += &value.map_or(String::new(), |v| format.apply(v));
            }
            csv.push('\n');
        }
        csv
    }

    /// This row's value in each of [`HistoryRow::columns`]`(layers)` (`None`: not measured).
    pub fn values(&self, layers: usize) -> Vec<Option<f64>> {
        let mut values = vec![
            Some(self.train_loss),
            Some(self.train_accuracy),
            self.val_loss,
            self.val_accuracy,
            self.test_loss,
            self.test_accuracy,
            Some(f64::from(self.lr)),
            Some(self.seconds),
            Some(self.samples_per_second),
            self.test_auc,
        ];
        for l in 0..layers {
            let d = self.layers.get(l);
            values.extend([
                d.map(|d| d.weight_grad_norm),
                d.map(|d| d.bias_grad_norm),
                d.map(|d| d.weight_norm),
                d.map(|d| d.update_ratio),
                d.and_then(|d| d.activation_mean),
                d.and_then(|d| d.activation_std),
                d.and_then(|d| d.dead_fraction),
            ]);
        }
        values
    }
}

//! Scoring a saved model: predictions from the CPU reference's forward pass, the loss, the
//! confusion matrix and per-class precision, recall and F1.

use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::cpu::net::{forward, Workspace};
use crate::cpu::ops::{loss_and_grad, sigmoid};
use std::path::Path;

use crate::data::{load, Dataset, DatasetName};
use crate::error::{Error, Result};
use crate::model::{Loss, ParamLayout};

const BATCH: usize = 256;

/// The output layer's values for every sample of `data`, row by row (`units` per sample).
pub fn outputs(checkpoint: &Checkpoint, data: &Dataset) -> Result<Vec<f32>> {
    let spec = checkpoint.meta.spec()?;
    let layout = ParamLayout::new(&spec);
    let units = spec.outputs();
    let mut ws = Workspace::<f32>::new(&layout, BATCH);
    let mut out = Vec::with_capacity(data.len() * units);
    for start in (0..data.len()).step_by(BATCH) {
        let rows = BATCH.min(data.len() - start);
        for r in 0..rows {
            data.write_row(start + r, &mut ws.acts[0][r * data.dim..(r + 1) * data.dim]);
        }
        forward(&layout, &checkpoint.params, &mut ws, rows, None);
        out.extend_from_slice(&ws.logits()[..rows * units]);
    }
    Ok(out)
}

/// Class probabilities from one sample's outputs: softmax, or [1 − σ(z), σ(z)] for one logit.
pub fn probabilities(loss: Loss, outputs: &[f32]) -> Vec<f32> {
    match loss {
        Loss::BinaryCrossEntropy => {
            let p = sigmoid(outputs[0]);
            vec![1.0 - p, p]
        }
        _ => {
            let max = outputs.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let exps: Vec<f32> = outputs.iter().map(|&v| (v - max).exp()).collect();
            let sum: f32 = exps.iter().sum();
            exps.iter().map(|e| e / sum).collect()
        }
    }
}

/// Every class with its probability from one sample's outputs, most probable first.
pub fn ranked(loss: Loss, outputs: &[f32]) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = probabilities(loss, outputs).into_iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
}

/// The predicted class: the first most probable one (for one logit: z > 0).
pub fn predicted_class(loss: Loss, outputs: &[f32]) -> usize {
    match loss {
        Loss::BinaryCrossEntropy => usize::from(outputs[0] > 0.0),
        _ => {
            outputs
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |(a, m), (j, &v)| if v > m { (j, v) } else { (a, m) },
                )
                .0
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    pub name: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Samples of this class.
    pub support: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub samples: usize,
    pub loss: f64,
    pub accuracy: f64,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<u64>>,
    pub classes: Vec<ClassScores>,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
}

/// The test split of the checkpoint's dataset (or `dataset`), transformed as in training.
pub fn test_data(checkpoint: &Checkpoint, dataset: Option<DatasetName>, data_dir: Option<&Path>) -> Result<Dataset> {
    if let Some(codec) = &checkpoint.meta.table {
        // The same rows as in training (same file, seed and split), encoded by the saved codec.
        return Ok(checkpoint.meta.config.load_table(Some(codec))?.test);
    }
    let mut opts = checkpoint.meta.config.load_options();
    if let Some(dir) = data_dir {
        opts.data_dir = Some(dir.to_path_buf());
    }
    let splits = load(dataset.unwrap_or(checkpoint.meta.config.dataset), &opts)?;
    let spec = checkpoint.meta.spec()?;
    if splits.test.dim != spec.inputs() || splits.classes() != checkpoint.meta.class_names.len() {
        return Err(Error::DatasetMismatch {
            name: splits.name.clone(),
            detail: format!(
                "has {} features and {} classes; the checkpoint's {} model expects {} and {}",
                splits.test.dim,
                splits.classes(),
                spec.describe(),
                spec.inputs(),
                checkpoint.meta.class_names.len()
            ),
        });
    }
    Ok(Dataset {
        transform: checkpoint.meta.input_transform(),
        ..splits.test
    })
}

pub fn evaluate(checkpoint: &Checkpoint, data: &Dataset) -> Result<Evaluation> {
    let spec = checkpoint.meta.spec()?;
    let units = spec.outputs();
    let names = &checkpoint.meta.class_names;
    let outputs = outputs(checkpoint, data)?;
    let mut scratch = vec![0.0f32; outputs.len()];
    let loss = loss_and_grad(spec.loss, &outputs, &data.labels, data.len(), units, &mut scratch);
    let mut confusion = vec![vec![0u64; names.len()]; names.len()];
    for (row, &label) in outputs.chunks_exact(units).zip(&data.labels) {
        confusion[label as usize][predicted_class(spec.loss, row)] += 1;
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let classes: Vec<ClassScores> = names
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let hits = confusion[c][c];
            let predicted: u64 = confusion.iter().map(|row| row[c]).sum();
            let support: u64 = confusion[c].iter().sum();
            let (precision, recall) = (ratio(hits, predicted), ratio(hits, support));
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassScores {
                name: name.clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let mean = |f: fn(&ClassScores) -> f64| classes.iter().map(f).sum::<f64>() / classes.len().max(1) as f64;
    let n = data.len().max(1) as f64;
    Ok(Evaluation {
        samples: data.len(),
        loss: loss.loss_sum / n,
        accuracy: f64::from(loss.correct) / n,
        macro_precision: mean(|c| c.precision),
        macro_recall: mean(|c| c.recall),
        macro_f1: mean(|c| c.f1),
        confusion,
        classes,
    })
}

impl Evaluation {
    /// The confusion matrix and per-class scores as aligned text tables.
    pub fn table(&self) -> String {
        let names: Vec<&str> = self.classes.iter().map(|c| c.name.as_str()).collect();
        // Room for "index name" in the first column.
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(4).max(6) + 3;
        let mut s = format!(
            "confusion matrix (rows: true class, columns: predicted)\n{:>width$}",
            ""
        );
        for (j, _) in names.iter().enumerate() {
            s += &format!(" {j:>6}");
        }
        s += "\n";
        for (i, row) in self.confusion.iter().enumerate() {
            s += &format!("{:>width$}", format!("{i} {}", names[i]));
            for v in row {
                s += &format!(" {v:>6}");
            }
            s += "\n";
        }
        s += &format!(
            "\n{:>width$} {:>9} {:>9} {:>9} {:>8}\n",
            "class", "precision", "recall", "f1", "support"
        );
        for c in &self.classes {
            s += &format!(
                "{:>width$} {:>9.4} {:>9.4} {:>9.4} {:>8}\n",
                c.name, c.precision, c.recall, c.f1, c.support
            );
        }
        s += &format!(
            "{:>width$} {:>9.4} {:>9.4} {:>9.4} {:>8}\n",
            "macro avg", self.macro_precision, self.macro_recall, self.macro_f1, self.samples
        );
        s
    }
}

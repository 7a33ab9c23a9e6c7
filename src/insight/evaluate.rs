//! Scoring a saved model: predictions from the CPU reference's forward pass, the loss, the
//! confusion matrix and per-class precision, recall and F1.

use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::cpu::net::{forward, Workspace};
use crate::cpu::ops::{loss_and_grad, sigmoid};
use std::ops::Range;
use std::path::Path;

use crate::data::{load, Dataset, DatasetName, Splits};
use crate::error::{Error, Result};
use crate::nn::model::{Loss, MlpSpec, ParamLayout};
use crate::training::backend::EvalSplit;

/// Rows per forward pass, fewer for a wide network so that its activations stay within
/// `ACTIVATION_BUDGET` values.
const BATCH: usize = 256;
const ACTIVATION_BUDGET: usize = 1 << 22;

/// The output layer's values for every sample of `data`, row by row (`units` per sample).
pub fn outputs(checkpoint: &Checkpoint, data: &Dataset) -> Result<Vec<f32>> {
    Ok(outputs_of(&checkpoint.meta.spec()?, &checkpoint.params, data))
}

/// The outputs of the network `spec` with parameters `params` for every sample of `data`.
pub fn outputs_of(spec: &MlpSpec, params: &[f32], data: &Dataset) -> Vec<f32> {
    outputs_of_part(spec, params, data, 0..data.len())
}

/// [`outputs_of`] for the samples `samples` of `data` only (within it): a host that must stay
/// responsive computes a large split part by part.
pub fn outputs_of_part(spec: &MlpSpec, params: &[f32], data: &Dataset, samples: Range<usize>) -> Vec<f32> {
    let layout = ParamLayout::new(spec);
    let units = spec.outputs();
    let batch = (ACTIVATION_BUDGET / spec.sizes.iter().sum::<usize>().max(1)).clamp(1, BATCH);
    let mut ws = Workspace::<f32>::new(&layout, batch);
    let mut out = Vec::with_capacity(samples.len() * units);
    for start in samples.clone().step_by(batch) {
        let rows = batch.min(samples.end - start);
        for r in 0..rows {
            data.write_row(start + r, &mut ws.acts[0][r * data.dim..(r + 1) * data.dim]);
        }
        forward(&layout, params, &mut ws, rows, None);
        out.extend_from_slice(&ws.logits()[..rows * units]);
    }
    out
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
    /// Means over the classes present in the evaluated set (support > 0).
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    /// Classes present in the evaluated set (what the macro averages are over).
    pub classes_present: usize,
    /// ROC AUC: of class 1's probability for two classes; else the mean one-vs-rest AUC over
    /// the classes that are present and not the only class present (None if there is none).
    pub roc_auc: Option<f64>,
    /// For two classes: the ROC curve of the second class's probability (for the plot).
    #[serde(skip)]
    pub roc_curve: Option<Vec<(f64, f64)>>,
}

/// The area under the ROC curve of `scores` for telling `positive` samples from the others
/// (the Mann–Whitney statistic, ties counted half); None without both kinds of sample.
pub fn roc_auc(scores: &[f32], positive: &[bool]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average ranks (1-based) over runs of equal scores.
    let mut rank_sum = 0f64;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[start]] {
            end += 1;
        }
        let rank = (start + end) as f64 / 2.0 + 1.0;
        rank_sum += rank * order[start..=end].iter().filter(|&&i| positive[i]).count() as f64;
        start = end + 1;
    }
    let n_pos = positive.iter().filter(|&&p| p).count() as f64;
    let n_neg = positive.len() as f64 - n_pos;
    (n_pos > 0.0 && n_neg > 0.0).then(|| (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// The ROC curve's points (false positive rate, true positive rate), from (0, 0) to (1, 1),
/// one per distinct threshold.
pub fn roc_curve(scores: &[f32], positive: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let n_pos = positive.iter().filter(|&&p| p).count().max(1) as f64;
    let n_neg = (positive.len() as f64 - positive.iter().filter(|&&p| p).count() as f64).max(1.0);
    let (mut tp, mut fp) = (0f64, 0f64);
    let mut points = vec![(0.0, 0.0)];
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_threshold = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_threshold {
            points.push((fp / n_neg, tp / n_pos));
        }
    }
    points
}

/// Class probabilities of every sample, row by row.
pub fn all_probabilities(loss: Loss, outputs: &[f32], units: usize) -> Vec<Vec<f32>> {
    outputs
        .chunks_exact(units)
        .map(|row| probabilities(loss, row))
        .collect()
}

/// ROC AUC as [`Evaluation::roc_auc`] defines it, from every sample's class probabilities.
pub fn auc_of(probabilities: &[Vec<f32>], labels: &[u32], classes: usize) -> Option<f64> {
    let score = |c: usize| -> Vec<f32> { probabilities.iter().map(|p| p[c]).collect() };
    let is = |c: usize| -> Vec<bool> { labels.iter().map(|&l| l as usize == c).collect() };
    if classes == 2 {
        return roc_auc(&score(1), &is(1));
    }
    let aucs: Vec<f64> = (0..classes).filter_map(|c| roc_auc(&score(c), &is(c))).collect();
    (!aucs.is_empty()).then(|| aucs.iter().sum::<f64>() / aucs.len() as f64)
}

/// Whether the model has test samples to be scored on: a dataset's test split, a table's
/// held-out rows or test file, or the test arrays saved in its run directory `run_dir`.
pub fn has_test_data(checkpoint: &Checkpoint, run_dir: &Path) -> bool {
    let (meta, table) = (&checkpoint.meta, &checkpoint.meta.config.table);
    match (meta.from_arrays, &meta.table) {
        (true, _) => run_dir.join(crate::data::arrays::TEST_ARRAYS).is_file(),
        (false, Some(_)) => table.test_data.is_some() || table.test_split > 0.0,
        (false, None) => true,
    }
}

/// The test split of the checkpoint's dataset (or `dataset`), transformed as in training. A
/// model trained on arrays from Python is scored on the test arrays saved in its run directory
/// (`run_dir`), unless `dataset` names another.
pub fn test_data(
    checkpoint: &Checkpoint,
    dataset: Option<DatasetName>,
    data_dir: Option<&Path>,
    run_dir: &Path,
) -> Result<Dataset> {
    if let (true, None) = (checkpoint.meta.from_arrays, dataset) {
        let file = run_dir.join(crate::data::arrays::TEST_ARRAYS);
        if !file.is_file() {
            return Err(Error::Checkpoint {
                path: run_dir.into(),
                detail: "trained on arrays from Python without test data: there is nothing to score it on (give \
                         --dataset, or evaluate it from Python)"
                    .into(),
            });
        }
        return crate::data::arrays::load(&file, checkpoint.meta.input_transform());
    }
    if let Some(codec) = &checkpoint.meta.table {
        // The same rows as in training (same file, seed and split), encoded by the saved codec.
        let splits = checkpoint.meta.config.load_table(Some(codec))?;
        return EvalSplit::Test.of(&splits).cloned();
    }
    let mut opts = checkpoint.meta.config.load_options();
    if let Some(dir) = data_dir {
        opts.data_dir = Some(dir.to_path_buf());
    }
    let splits = load(dataset.unwrap_or(checkpoint.meta.config.data.dataset), &opts)?;
    test_split_for(checkpoint, &splits)
}

/// The test split of `splits` as `checkpoint`'s network takes it (its inputs transformed as in
/// training), or an error when the data do not fit the network.
pub fn test_split_for(checkpoint: &Checkpoint, splits: &Splits) -> Result<Dataset> {
    let test = EvalSplit::Test.of(splits)?;
    let spec = checkpoint.meta.spec()?;
    if test.dim != spec.inputs() || splits.classes() != checkpoint.meta.class_names.len() {
        return Err(Error::DatasetMismatch {
            name: splits.name.clone(),
            detail: format!(
                "has {} features and {} classes; the checkpoint's {} model expects {} and {}",
                test.dim,
                splits.classes(),
                spec.describe(),
                spec.inputs(),
                checkpoint.meta.class_names.len()
            ),
        });
    }
    Ok(Dataset {
        transform: checkpoint.meta.input_transform(),
        weights: None,
        ..test.clone()
    })
}

pub fn evaluate(checkpoint: &Checkpoint, data: &Dataset) -> Result<Evaluation> {
    evaluate_params(
        &checkpoint.meta.spec()?,
        &checkpoint.params,
        &checkpoint.meta.class_names,
        data,
    )
}

/// [`evaluate`] for the network `spec` with parameters `params`, classes named `names`.
pub fn evaluate_params(spec: &MlpSpec, params: &[f32], names: &[String], data: &Dataset) -> Result<Evaluation> {
    let units = spec.outputs();
    // The outputs, the loss's scratch and the probabilities, one value per sample and class.
    crate::memory::check_fits(
        "data",
        &format!("evaluating {} samples of {} classes", data.len(), names.len()),
        3 * 4 * data.len() as u128 * names.len().max(units) as u128,
        crate::memory::available_bytes(),
    )?;
    Ok(evaluate_outputs(spec, names, data, &outputs_of(spec, params, data)))
}

/// [`evaluate_params`] from the network's `outputs` for every sample of `data` (as
/// [`outputs_of`] gives them).
pub fn evaluate_outputs(spec: &MlpSpec, names: &[String], data: &Dataset, outputs: &[f32]) -> Evaluation {
    let units = spec.outputs();
    let mut scratch = vec![0.0f32; outputs.len()];
    let loss = loss_and_grad(spec.loss, outputs, &data.labels, None, data.len(), units, &mut scratch);
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
    // A class absent from the evaluated set has no recall to speak of: it is not averaged in.
    let present: Vec<&ClassScores> = classes.iter().filter(|c| c.support > 0).collect();
    let mean = |f: fn(&ClassScores) -> f64| present.iter().map(|c| f(c)).sum::<f64>() / present.len().max(1) as f64;
    let n = data.len().max(1) as f64;
    let probabilities = all_probabilities(spec.loss, outputs, units);
    let roc_curve = (names.len() == 2).then(|| {
        let scores: Vec<f32> = probabilities.iter().map(|p| p[1]).collect();
        let positive: Vec<bool> = data.labels.iter().map(|&l| l == 1).collect();
        roc_curve(&scores, &positive)
    });
    Evaluation {
        samples: data.len(),
        loss: loss.loss_sum / n,
        accuracy: f64::from(loss.correct) / n,
        macro_precision: mean(|c| c.precision),
        macro_recall: mean(|c| c.recall),
        macro_f1: mean(|c| c.f1),
        classes_present: present.len(),
        roc_auc: auc_of(&probabilities, &data.labels, names.len()),
        roc_curve,
        confusion,
        classes,
    }
}

/// The most classes whose confusion matrix is printed as text (a column each).
const MAX_CONFUSION_TEXT_CLASSES: usize = 30;

impl Evaluation {
    /// The matrix with a row label `index name` (index right-aligned, name left-aligned) in
    /// `width` columns, and every count column as wide as its widest number.
    fn confusion_text(&self, names: &[&str], width: usize) -> String {
        let index_width = names.len().saturating_sub(1).to_string().len();
        let name_width = width.saturating_sub(index_width + 1);
        let largest = self.confusion.iter().flatten().max().copied().unwrap_or(0);
        let cell = largest.to_string().len().max(index_width).max(6);
        let mut s = format!("confusion matrix (rows: true class, columns: predicted)\n{:width$}", "");
        for (j, _) in names.iter().enumerate() {
            s += &format!(" {j:>cell$}");
        }
        s += "\n";
        for (i, row) in self.confusion.iter().enumerate() {
            s += &format!("{i:>index_width$} {:<name_width$}", names[i]);
            for v in row {
                s += &format!(" {v:>cell$}");
            }
            s += "\n";
        }
        s
    }

    /// The confusion matrix and per-class scores as aligned text tables.
    pub fn table(&self) -> String {
        let names: Vec<&str> = self.classes.iter().map(|c| c.name.as_str()).collect();
        // Room for "index name" in the first column.
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(4).max(6) + 3;
        let mut s = match names.len() {
            n if n > MAX_CONFUSION_TEXT_CLASSES => {
                format!("confusion matrix: {n} classes, too many columns to print (`eval --json` holds it)\n")
            }
            _ => self.confusion_text(&names, width),
        };
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
        s += &format!(
            "(macro averages over the {} of {} classes present in this set)\n",
            self.classes_present,
            self.classes.len()
        );
        if let Some(auc) = self.roc_auc {
            let how = if self.classes.len() == 2 {
                format!("of {}", self.classes[1].name)
            } else {
                "macro one-vs-rest".to_string()
            };
            s += &format!("ROC AUC ({how}): {auc:.4}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn's `roc_auc_score` example: 0.75; ties count half; one kind alone: none.
    #[test]
    fn roc_auc_matches_known_values() {
        let auc = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]);
        assert_eq!(auc, Some(0.75));
        assert_eq!(roc_auc(&[0.5, 0.5], &[false, true]), Some(0.5));
        assert_eq!(roc_auc(&[0.2, 0.9], &[true, true]), None);
        let curve = roc_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]);
        assert_eq!(curve, [(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]);
    }

    /// Three classes, the third absent: the one-vs-rest mean is over the two present.
    #[test]
    fn macro_auc_averages_the_classes_present() {
        let probabilities = vec![
            vec![0.8, 0.1, 0.1],
            vec![0.3, 0.6, 0.1],
            vec![0.6, 0.3, 0.1],
            vec![0.2, 0.7, 0.1],
        ];
        let labels = [0, 1, 0, 1];
        assert_eq!(auc_of(&probabilities, &labels, 3), Some(1.0));
        let two = vec![vec![0.9, 0.1], vec![0.4, 0.6], vec![0.95, 0.05]];
        assert_eq!(auc_of(&two, &[0, 1, 1], 2), Some(0.5));
    }
}

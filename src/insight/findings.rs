//! What the diagnostics of a run say went wrong, in plain language: accuracy at chance after
//! the first epoch, exploding or vanishing gradients, mostly dead hidden layers, overfitting.
//! Read from the run's history (the measurements themselves are [`crate::training::diagnostics`]').

use crate::run::artifacts::HistoryRow;

/// Held-out accuracy within this of chance after the first epoch means "not learning".
const CHANCE_MARGIN: f64 = 0.02;
/// A layer's gradient norm growing this many times over the run means exploding gradients…
const EXPLODING_GROWTH: f64 = 100.0;
/// …as does one above this.
const EXPLODING_NORM: f64 = 1e3;
/// The first layer's gradient norm this many times below the last layer's means vanishing gradients.
const VANISHING_RATIO: f64 = 1e-3;
/// At least this fraction of a hidden layer's units dead in the last epoch is worth a word.
const MOSTLY_DEAD: f64 = 0.5;
/// Training accuracy this far above held-out accuracy in the last epoch means overfitting.
const OVERFIT_GAP: f64 = 0.10;

/// What [`findings`] needs to know of the run besides its history.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// The accuracy of always answering the most frequent training class.
    pub chance: f64,
    pub lr: f32,
    /// The optimizer as its flag names it, and whether `lr` is its default.
    pub optimizer: String,
    pub lr_defaulted: bool,
}

/// Plain-language findings when the history's numbers say something went wrong: accuracy at
/// chance after the first epoch, exploding or vanishing gradients, mostly dead hidden layers,
/// training accuracy far above held-out accuracy. Empty when all looks healthy.
pub fn findings(history: &[HistoryRow], facts: &RunFacts) -> Vec<String> {
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return Vec::new();
    };
    let held_out = |r: &HistoryRow| match r.val_accuracy {
        Some(a) => ("validation", a),
        None => ("test", r.test_accuracy),
    };
    let mut out = Vec::new();
    let (split, accuracy) = held_out(first);
    if first.epoch == 1 && accuracy <= facts.chance + CHANCE_MARGIN {
        out.push(format!(
            "after epoch 1 the {split} accuracy was {:.1}%, no better than always guessing the most frequent class \
             ({:.1}%): the network is not learning. The learning rate {}{} is probably too high; try one 10× lower \
             (the defaults: {}).",
            100.0 * accuracy,
            100.0 * facts.chance,
            facts.lr,
            if facts.lr_defaulted {
                format!(" (the default, with {})", facts.optimizer)
            } else {
                String::new()
            },
            crate::nn::optim::OptimizerKind::default_lr_text()
        ));
    }
    out.extend(gradient_findings(first, last));
    for (l, d) in last.layers.iter().enumerate() {
        if let Some(dead) = d.dead_fraction.filter(|&f| f >= MOSTLY_DEAD) {
            out.push(format!(
                "{:.0}% of hidden layer {}'s units never fired in the last epoch (dead ReLUs): they output 0 for every \
                 sample, so no gradient reaches them and they cannot recover. A lower learning rate, --init he-uniform, \
                 or --activation tanh helps.",
                100.0 * dead,
                l + 1
            ));
        }
    }
    let (split, accuracy) = held_out(last);
    // A network at chance is not overfitting, whatever its training accuracy.
    if accuracy > facts.chance + CHANCE_MARGIN && last.train_accuracy - accuracy > OVERFIT_GAP {
        out.push(format!(
            "training accuracy ({:.1}%) is far above {split} accuracy ({:.1}%) in the last epoch: the network is \
             memorizing the training set (overfitting). More data, --dropout, --weight-decay, or early stopping \
             (--val-split with --patience) help.",
            100.0 * last.train_accuracy,
            100.0 * accuracy
        ));
    }
    out
}

/// Exploding gradients by layer (grown ≥ 100× over the run to above 1, or above 1e3, or not a
/// number),
/// and vanishing ones (the first layer's ≥ 1000× below the output layer's).
fn gradient_findings(first: &HistoryRow, last: &HistoryRow) -> Vec<String> {
    let mut out = Vec::new();
    for (l, d) in last.layers.iter().enumerate() {
        let start = first.layers.get(l).map_or(f64::NAN, |d| d.weight_grad_norm);
        let norm = d.weight_grad_norm;
        let grew = norm > EXPLODING_GROWTH * start && norm > 1.0;
        if !norm.is_finite() || norm > EXPLODING_NORM || grew {
            let history = if first.epoch == last.epoch {
                String::new()
            } else {
                format!(" (it was {start:.3e} in epoch {})", first.epoch)
            };
            out.push(format!(
                "layer {}'s weight gradient norm was {norm:.3e} in epoch {}{history}: exploding gradients. Lower the \
                 learning rate, or use --init he-uniform / glorot-uniform.",
                l + 1,
                last.epoch
            ));
        }
    }
    if let (Some(input), Some(output)) = (last.layers.first(), last.layers.last()) {
        if last.layers.len() > 1 && input.weight_grad_norm < VANISHING_RATIO * output.weight_grad_norm {
            out.push(format!(
                "layer 1's weight gradient norm ({:.3e}) is over 1000× smaller than the output layer's ({:.3e}) in the \
                 last epoch: vanishing gradients, so the first layers barely learn. Saturating sigmoid/tanh units or \
                 small initial weights cause this; try --activation relu with --init he-uniform.",
                input.weight_grad_norm, output.weight_grad_norm
            ));
        }
    }
    out
}

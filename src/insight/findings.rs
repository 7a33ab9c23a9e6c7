//! What the diagnostics of a run say went wrong, in plain language: accuracy at chance after
//! the first epoch, exploding or vanishing gradients, mostly dead hidden layers, overfitting.
//! Read from the run's history (the measurements themselves are [`crate::training::diagnostics`]')
//! and its settings: a finding names the run's own optimizer, lr and init and never advises a
//! setting the run already has.

use crate::nn::model::{Activation, Init};
use crate::run::artifacts::HistoryRow;
use crate::settings::declare::choice_name;
use crate::settings::Config;

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

/// Plain-language findings when the history's numbers say something went wrong: accuracy at
/// chance after the first epoch, exploding or vanishing gradients, mostly dead hidden layers,
/// training accuracy far above held-out accuracy. Empty when all looks healthy. `chance` is
/// the accuracy of always answering the most frequent training class.
pub fn findings(history: &[HistoryRow], settings: &Config, chance: f64) -> Vec<String> {
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return Vec::new();
    };
    // The held-out accuracy (validation, else test, else training) and what it was measured on.
    let held_out = |r: &HistoryRow| match (r.val_accuracy, r.test_accuracy) {
        (Some(a), _) => ("validation", a),
        (None, Some(a)) => ("test", a),
        (None, None) => ("training", r.train_accuracy),
    };
    let mut out = Vec::new();
    let (split, accuracy) = held_out(first);
    let optimizer = &settings.optimizer;
    if first.epoch == 1 && accuracy <= chance + CHANCE_MARGIN {
        out.push(format!(
            "after epoch 1 the {split} accuracy was {:.1}%, no better than always guessing the most frequent class \
             ({:.1}%): the network is not learning. The learning rate {}{} is probably too high; try one 10× lower \
             (the defaults: {}).",
            100.0 * accuracy,
            100.0 * chance,
            optimizer.lr,
            if settings.lr_defaulted {
                format!(" (the default, with {})", choice_name(&optimizer.kind))
            } else {
                String::new()
            },
            crate::settings::OptimizerKind::default_lr_text()
        ));
    }
    out.extend(gradient_findings(first, last, settings));
    for (l, d) in last.layers.iter().enumerate() {
        if let Some(dead) = d.dead_fraction.filter(|&f| f >= MOSTLY_DEAD) {
            let remedies = one_of(&[
                Some(format!("a learning rate below {}", optimizer.lr)),
                unless_init(settings, Init::HeUniform),
                Some("--activation tanh".into()),
            ]);
            out.push(format!(
                "{:.0}% of hidden layer {}'s units never fired in the last epoch (dead ReLUs): they output 0 for every \
                 sample, so no gradient reaches them and they cannot recover. {remedies} helps.",
                100.0 * dead,
                l + 1
            ));
        }
    }
    let (split, accuracy) = held_out(last);
    // A network at chance is not overfitting, whatever its training accuracy.
    if accuracy > chance + CHANCE_MARGIN && last.train_accuracy - accuracy > OVERFIT_GAP {
        let dropout = settings.model.dropout;
        let remedies = one_of(&[
            Some("More data".into()),
            Some(match dropout > 0.0 {
                true => format!("more --dropout than {dropout}"),
                false => "--dropout".into(),
            }),
            (optimizer.weight_decay == 0.0).then(|| "--weight-decay".into()),
            settings
                .training
                .patience
                .is_none()
                .then(|| "early stopping (--val-split with --patience)".into()),
        ]);
        out.push(format!(
            "training accuracy ({:.1}%) is far above {split} accuracy ({:.1}%) in the last epoch: the network is \
             memorizing the training set (overfitting). {remedies} help.",
            100.0 * last.train_accuracy,
            100.0 * accuracy
        ));
    }
    out
}

/// `--init <init>` when the run does not already use it.
fn unless_init(settings: &Config, init: Init) -> Option<String> {
    (settings.model.init != init).then(|| format!("--init {}", choice_name(&init)))
}

/// The remedies that apply, as one phrase: "a, b, or c".
fn one_of(remedies: &[Option<String>]) -> String {
    let remedies: Vec<&String> = remedies.iter().flatten().collect();
    match remedies.split_last() {
        None => String::new(),
        Some((only, [])) => only.to_string(),
        Some((last, [first])) => format!("{first} or {last}"),
        Some((last, rest)) => format!(
            "{}, or {last}",
            rest.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Exploding gradients by layer (grown ≥ 100× over the run to above 1, or above 1e3, or not a
/// number),
/// and vanishing ones (the first layer's ≥ 1000× below the output layer's).
fn gradient_findings(first: &HistoryRow, last: &HistoryRow, settings: &Config) -> Vec<String> {
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
            let inits = [Init::HeUniform, Init::GlorotUniform]
                .into_iter()
                .filter_map(|init| unless_init(settings, init))
                .collect::<Vec<_>>()
                .join(" / ");
            let remedies = one_of(&[
                Some(format!("Lower the learning rate (it is {})", settings.optimizer.lr)),
                (!inits.is_empty()).then(|| format!("use {inits}")),
            ]);
            out.push(format!(
                "layer {}'s weight gradient norm was {norm:.3e} in epoch {}{history}: exploding gradients. {remedies}.",
                l + 1,
                last.epoch
            ));
        }
    }
    if let (Some(input), Some(output)) = (last.layers.first(), last.layers.last()) {
        if last.layers.len() > 1 && input.weight_grad_norm < VANISHING_RATIO * output.weight_grad_norm {
            let relu = settings.model.activation.iter().all(|&a| a == Activation::Relu);
            let remedies = one_of(&[
                (!relu).then(|| "--activation relu".into()),
                unless_init(settings, Init::HeUniform),
                (settings.model.hidden.len() > 1).then(|| "fewer hidden layers".into()),
            ]);
            let advice = match remedies.is_empty() {
                true => String::new(),
                false => format!("; try {remedies}"),
            };
            out.push(format!(
                "layer 1's weight gradient norm ({:.3e}) is over 1000× smaller than the output layer's ({:.3e}) in the \
                 last epoch: vanishing gradients, so the first layers barely learn. Saturating sigmoid/tanh units or \
                 small initial weights cause this{advice}.",
                input.weight_grad_norm, output.weight_grad_norm
            ));
        }
    }
    out
}

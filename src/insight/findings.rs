//! What the diagnostics of a run say went wrong, in plain language: accuracy at chance (and
//! what the training loss says of why), exploding or vanishing gradients, mostly dead hidden layers, overfitting.
//! Read from the run's history (the measurements themselves are [`crate::training::diagnostics`]')
//! and its settings: a finding names the run's own optimizer, lr and init and never advises a
//! setting the run already has.

use crate::data::Normalize;
use crate::declare::choice_name;
use crate::nn::model::{Activation, Init};
use crate::settings::{Config, OptimizerKind};
use crate::training::history::HistoryRow;

/// Held-out accuracy within this of chance at the end of a run means "not learning".
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

/// A training loss above this, or not a number, has blown up whatever the loss function.
const BLOWN_UP_LOSS: f64 = 100.0;
/// The training loss moving by less than this fraction between the first and last epochs is flat.
const FLAT_LOSS: f64 = 0.05;

/// Plain-language findings when the history's numbers say something went wrong: held-out
/// accuracy at chance at the end of the run (with what the training loss says of why),
/// exploding or vanishing gradients, mostly dead hidden layers, training accuracy far above
/// held-out accuracy. Empty when all looks healthy. `chance` is the accuracy of always
/// answering the most frequent training class.
pub fn findings(history: &[HistoryRow], settings: &Config, chance: f64) -> Vec<String> {
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return Vec::new();
    };
    let vanishing = vanishing_finding(last, settings);
    // Vanishing gradients are a matter of activation, depth and init: no learning-rate advice then.
    let lr_advice = vanishing.is_none();
    let mut out = Vec::new();
    out.extend(chance_finding(history, settings, chance, lr_advice));
    out.extend(exploding_findings(first, last, settings));
    out.extend(vanishing);
    let optimizer = &settings.optimizer;
    for (l, d) in last.layers.iter().enumerate() {
        if let Some(dead) = d.dead_fraction.filter(|&f| f >= MOSTLY_DEAD) {
            let remedies = one_of(&[
                (lr_advice && lr_may_be_lowered(settings)).then(|| format!("a learning rate below {}", optimizer.lr)),
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

/// The held-out accuracy (validation, else test, else training) and what it was measured on.
fn held_out(r: &HistoryRow) -> (&'static str, f64) {
    match (r.val_accuracy, r.test_accuracy) {
        (Some(a), _) => ("validation", a),
        (None, Some(a)) => ("test", a),
        (None, None) => ("training", r.train_accuracy),
    }
}

/// Advice to lower the learning rate fits unless the run uses an adaptive optimizer (Adam,
/// AdamW) at its default rate, which is already small.
fn lr_may_be_lowered(settings: &Config) -> bool {
    let adaptive = matches!(settings.optimizer.kind, OptimizerKind::Adam | OptimizerKind::Adamw);
    !(adaptive && settings.optimizer.lr_is_default())
}

/// The run's learning rate as a finding names it: `0.1 (the default, with sgd)`.
fn lr_text(settings: &Config) -> String {
    let optimizer = &settings.optimizer;
    match optimizer.lr_is_default() {
        true => format!("{} (the default, with {})", optimizer.lr, choice_name(&optimizer.kind)),
        false => optimizer.lr.to_string(),
    }
}

/// The held-out accuracy at chance in the last epoch, and what the training loss says of why:
/// it blew up (the learning rate), it fell while training accuracy rose (the labels do not
/// follow from the inputs), it is still falling (more epochs), or it stayed flat. One epoch
/// alone is not evidence of much: it says so.
fn chance_finding(history: &[HistoryRow], settings: &Config, chance: f64, lr_advice: bool) -> Option<String> {
    let (first, last) = (history.first()?, history.last()?);
    let (split, accuracy) = held_out(last);
    if accuracy > chance + CHANCE_MARGIN {
        return None;
    }
    let epochs = match history.len() {
        1 => format!("after epoch {}", last.epoch),
        n => format!("after {n} epochs"),
    };
    let at_chance = format!(
        "{epochs} the {split} accuracy was {:.1}%, no better than always guessing the most frequent class ({:.1}%)",
        100.0 * accuracy,
        100.0 * chance
    );
    let (from, to) = (first.train_loss, last.train_loss);
    let blew_up = !to.is_finite() || to > BLOWN_UP_LOSS || (history.len() > 1 && to > (1.0 + FLAT_LOSS) * from);
    let loss_moved = match history.len() {
        1 => format!("the training loss was {}", loss_text(to)),
        _ => format!("the training loss went from {} to {}", loss_text(from), loss_text(to)),
    };
    let why = if blew_up {
        match lr_advice && lr_may_be_lowered(settings) {
            true => format!(
                "{loss_moved}: the learning rate {} is too high; try one 10× lower (the defaults: {}).",
                lr_text(settings),
                crate::settings::OptimizerKind::default_lr_text()
            ),
            false => {
                format!("{loss_moved}, blowing up even at this learning rate: check the inputs' scale and labels.")
            }
        }
    } else if !lr_advice {
        "the vanishing gradients below keep the first layers from learning.".to_string()
    } else if history.len() == 1 {
        "one epoch is too little to tell whether it is learning: train more epochs (--epochs).".to_string()
    } else if to < (1.0 - FLAT_LOSS) * from && last.train_accuracy > chance + CHANCE_MARGIN {
        format!(
            "{loss_moved} and the training accuracy rose to {:.1}%: the network memorizes its training samples, but \
             what it learns does not carry over. Check that the labels follow from the inputs (the right target \
             column, labels not shuffled).",
            100.0 * last.train_accuracy
        )
    } else if to < (1.0 - FLAT_LOSS) * from {
        format!("{loss_moved} and is still falling: train more epochs (--epochs).")
    } else {
        format!(
            "{loss_moved}, barely moving: either the inputs do not predict the labels (check the target column), or \
             the learning rate {} is too low to move the weights; try one 10× higher.",
            lr_text(settings)
        )
    };
    Some(format!("{at_chance}: the network is not learning; {why}"))
}

/// A loss to 4 decimals, or in scientific notation when huge.
fn loss_text(loss: f64) -> String {
    match loss.abs() < 1e4 {
        true => format!("{loss:.4}"),
        false => format!("{loss:.3e}"),
    }
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

/// Exploding gradients by layer: grown ≥ 100× over the run to above 1, or above 1e3, or not a
/// number.
fn exploding_findings(first: &HistoryRow, last: &HistoryRow, settings: &Config) -> Vec<String> {
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
                lr_may_be_lowered(settings)
                    .then(|| format!("Lower the learning rate (it is {})", settings.optimizer.lr)),
                (!inits.is_empty()).then(|| format!("use {inits}")),
                (settings.data.normalize != Normalize::Standard)
                    .then(|| "scale the inputs (--normalize standard)".into()),
            ]);
            out.push(format!(
                "layer {}'s weight gradient norm was {norm:.3e} in epoch {}{history}: exploding gradients. {remedies}.",
                l + 1,
                last.epoch
            ));
        }
    }
    out
}

/// Vanishing gradients: the first layer's ≥ 1000× below the output layer's in the last epoch.
fn vanishing_finding(last: &HistoryRow, settings: &Config) -> Option<String> {
    let (input, output) = (last.layers.first()?, last.layers.last()?);
    if last.layers.len() < 2 || input.weight_grad_norm >= VANISHING_RATIO * output.weight_grad_norm {
        return None;
    }
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
    Some(format!(
        "layer 1's weight gradient norm ({:.3e}) is over 1000× smaller than the output layer's ({:.3e}) in the \
         last epoch: vanishing gradients, so the first layers barely learn. Saturating sigmoid/tanh units or \
         small initial weights cause this{advice}.",
        input.weight_grad_norm, output.weight_grad_norm
    ))
}

/// The fraction of `labels` in the most frequent class: the accuracy of a constant guess.
pub fn majority_fraction(labels: &[u32], classes: usize) -> f64 {
    let mut counts = vec![0usize; classes];
    for &label in labels {
        counts[label as usize] += 1;
    }
    counts.iter().max().copied().unwrap_or(0) as f64 / labels.len().max(1) as f64
}

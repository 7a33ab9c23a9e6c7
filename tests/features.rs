//! The pieces around the math: initializers, learning-rate schedules, normalization, the
//! validation split, early stopping with best-epoch restore, progress ticks.

use crate::common;

use gpu_mlp::data::{load, DatasetName, LoadOptions, Normalize};
use gpu_mlp::nn::model::{initialize, Init, MlpSpec, ParamLayout};
use gpu_mlp::nn::optim::Schedule;
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::settings::ScheduleKind;
use gpu_mlp::training::backend::{EvalSplit, Metrics};
use gpu_mlp::training::train::{Event, Monitor};

fn moments(v: &[f32]) -> (f64, f64, f32) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt(), v.iter().fold(0f32, |m, x| m.max(x.abs())))
}

#[test]
fn initializers_have_their_documented_ranges_and_spreads() {
    let spec = MlpSpec::new(400, &[300], 10).expect("valid spec");
    let layout = ParamLayout::new(&spec);
    let (fan_in, fan_out) = (400f64, 300f64);
    let cases = [
        (Init::Uniform, 0.05 / 3f64.sqrt(), Some(0.05)),
        (Init::Normal, 0.1, None),
        (
            Init::HeUniform,
            (6.0 / fan_in).sqrt() / 3f64.sqrt(),
            Some((6.0 / fan_in).sqrt()),
        ),
        (Init::HeNormal, (2.0 / fan_in).sqrt(), None),
        (
            Init::GlorotUniform,
            (6.0 / (fan_in + fan_out)).sqrt() / 3f64.sqrt(),
            Some((6.0 / (fan_in + fan_out)).sqrt()),
        ),
    ];
    for (init, want_std, bound) in cases {
        let params = initialize(&layout, init, 3);
        let first = &layout.layers[0];
        let (mean, std, max) = moments(&params[first.weight.clone()]);
        assert!(mean.abs() < 0.05 * want_std, "{init:?}: mean {mean}");
        assert!(
            (std / want_std - 1.0).abs() < 0.02,
            "{init:?}: std {std}, expected {want_std}"
        );
        if let Some(b) = bound {
            assert!(f64::from(max) <= b, "{init:?}: |w| up to {max} > {b}");
        }
        assert!(
            params[first.bias.clone()].iter().all(|&b| b == 0.0),
            "{init:?}: biases start at 0"
        );
        assert_eq!(
            params,
            initialize(&layout, init, 3),
            "{init:?}: same seed, same weights"
        );
    }
}

#[test]
fn schedules_follow_their_formulas() {
    let base = Schedule {
        total_steps: 100,
        ..Schedule::constant(0.1)
    };
    assert_eq!(base.lr(7, 70), 0.1);
    let step = Schedule {
        kind: ScheduleKind::Step,
        step_epochs: 2,
        gamma: 0.5,
        ..base
    };
    assert_eq!(
        [step.lr(0, 0), step.lr(1, 15), step.lr(2, 20), step.lr(5, 55)],
        [0.1, 0.1, 0.05, 0.025]
    );
    let cosine = Schedule {
        kind: ScheduleKind::Cosine,
        warmup_steps: 10,
        ..base
    };
    assert!((cosine.lr(0, 0) - 0.01).abs() < 1e-7, "warm-up starts at base/warmup");
    assert!((cosine.lr(0, 9) - 0.1).abs() < 1e-7, "warm-up ends at base");
    assert!((cosine.lr(5, 55) - 0.05).abs() < 1e-6, "half way: half the rate");
    assert!(cosine.lr(9, 99) < 1e-3 && cosine.lr(9, 99) >= 0.0, "decays to ≈ 0");
}

#[test]
fn normalization_modes_map_pixels_as_documented() {
    let Ok(mut splits) = load(DatasetName::Fashion, &LoadOptions::default()) else {
        common::skip_unless_ci(
            "normalization_modes_map_pixels_as_documented",
            "Fashion-MNIST is not installed (CI installs it)",
        );
        return;
    };
    splits.train = splits.train.truncated(2000);
    let mut row = vec![0.0; 784];
    let range = |splits: &gpu_mlp::data::Splits, row: &mut Vec<f32>| {
        (0..200).fold((f32::MAX, f32::MIN), |(lo, hi), i| {
            splits.train.write_row(i, row);
            (
                row.iter().fold(lo, |a, &b| a.min(b)),
                row.iter().fold(hi, |a, &b| a.max(b)),
            )
        })
    };
    splits.normalize(Normalize::Unit);
    assert_eq!(range(&splits, &mut row), (0.0, 1.0));
    splits.normalize(Normalize::Pm1);
    assert_eq!(range(&splits, &mut row), (-1.0, 1.0));
    splits.normalize(Normalize::Standard);
    let all: Vec<f32> = (0..splits.train.len())
        .flat_map(|i| {
            splits.train.write_row(i, &mut row);
            row.clone()
        })
        .collect();
    let (mean, std, _) = moments(&all);
    assert!(
        mean.abs() < 1e-3 && (std - 1.0).abs() < 1e-3,
        "standardized: mean {mean}, std {std}"
    );
}

#[test]
fn validation_split_is_seeded_and_disjoint() {
    let base = load(
        DatasetName::Blobs,
        &LoadOptions {
            samples: 500,
            ..LoadOptions::default()
        },
    )
    .expect("blobs");
    let mut a = base.clone();
    a.split_validation(0.25, 1).expect("splits");
    let val = a.val.as_ref().expect("a validation split");
    assert_eq!((a.train.len(), val.len()), (300, 100));
    let mut b = base.clone();
    b.split_validation(0.25, 1).expect("splits");
    assert_eq!(
        b.val.as_ref().expect("split").labels,
        val.labels,
        "same seed, same split"
    );
    // A fraction that rounds to no validation sample (or to all of them) is an error, not a
    // silently missing validation split.
    for fraction in [0.001, 0.999] {
        let err = base.clone().split_validation(fraction, 1).expect_err("refused");
        assert!(
            err.to_string().contains("val-split") && err.to_string().contains("400 training samples"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}

/// An empty split is refused with the counts before anything trains.
#[test]
fn empty_splits_are_refused_with_the_counts() {
    let mut splits = load(DatasetName::Blobs, &LoadOptions::default()).expect("blobs");
    assert!(splits.check_not_empty().is_ok());
    splits.test = splits.test.as_ref().map(|t| t.subset(&[]));
    let err = splits.check_not_empty().expect_err("refused");
    assert!(
        err.to_string().contains("test split is empty") && err.to_string().contains("0 test samples"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);
}

fn blobs_config(extra: &str) -> Config {
    let device = if extra.contains("device") {
        ""
    } else {
        "device = \"cpu\"\n"
    };
    let text = format!("dataset = \"blobs\"\nsamples = 400\nhidden = [16]\nbatch_size = 32\n{device}{extra}");
    let table: toml::Table = toml::from_str(&text).expect("valid TOML");
    Config::resolve(None, &table).expect("valid config")
}

#[test]
fn early_stopping_keeps_and_restores_the_best_epoch() {
    early_stopping_on("cpu");
    if common::gpu_or_skip("early_stopping_keeps_and_restores_the_best_epoch").is_some() {
        early_stopping_on("gpu");
    }
}

fn early_stopping_on(device: &str) {
    // Validation accuracy on blobs plateaus within a few epochs, so patience 2 ends the run early.
    let config = blobs_config(&format!(
        "epochs = 40\nlr = 0.1\nval_split = 0.25\npatience = 2\nmonitor = \"val-accuracy\"\ndevice = \"{device}\""
    ));
    assert_eq!(config.training.monitor, Monitor::ValAccuracy);
    let mut run = Run::new(&config).expect("run builds");
    let outcome = run.train(&mut |_: Event<'_>| {}).expect("trains");
    assert!(
        outcome.stopped_early && outcome.reports.len() < 40,
        "ran {} epochs",
        outcome.reports.len()
    );
    let best = outcome.best.expect("a best epoch");
    assert_eq!(outcome.reports.len(), best.epoch + 2, "stops two epochs after the best");
    let best_acc = outcome
        .reports
        .iter()
        .map(|r| r.val.expect("val metrics").accuracy)
        .fold(0.0, f64::max);
    assert_eq!(best.val.accuracy, best_acc);
    run.backend().set_parameters(&best.params).expect("restore");
    assert_eq!(
        run.backend().evaluate(EvalSplit::Val).expect("evaluates"),
        best.val,
        "restored weights"
    );
}

#[test]
fn a_held_out_split_scored_in_parts_is_the_split_scored_whole() {
    let config = blobs_config("epochs = 1\nval_split = 0.3");
    let mut run = Run::new(&config).expect("run builds");
    run.train(&mut |_: Event<'_>| {}).expect("trains");
    let backend = run.backend();
    let len = backend.held_out_len(EvalSplit::Val).expect("a validation split");
    let whole = backend.evaluate(EvalSplit::Val).expect("evaluates");
    // Parts that are batch multiples keep every batch, so the sums are the same to the bit.
    let part = 2 * backend.batch_size();
    let mut steps = Vec::new();
    for start in (0..len).step_by(part) {
        steps.extend(
            backend
                .evaluate_part(EvalSplit::Val, start..(start + part).min(len))
                .expect("a part"),
        );
    }
    assert_eq!(Metrics::from_steps(&steps), whole);
    let beyond = backend
        .evaluate_part(EvalSplit::Val, len - 1..len + 1)
        .unwrap_err()
        .to_string();
    assert!(beyond.contains("out of range for a held-out split of"), "{beyond}");
}

#[test]
fn progress_ticks_report_every_n_batches() {
    let config = blobs_config("epochs = 2\nlog_every = 3");
    let mut run = Run::new(&config).expect("run builds");
    let mut ticks = Vec::new();
    run.train(&mut |e: Event<'_>| {
        if let Event::Tick(t) = e {
            ticks.push((t.epoch, t.batch, t.batches));
        }
    })
    .expect("trains");
    // 320 training points in batches of 32: 10 batches, ticks after 3, 6, 9 and 10.
    assert_eq!(
        ticks,
        [
            (1, 3, 10),
            (1, 6, 10),
            (1, 9, 10),
            (1, 10, 10),
            (2, 3, 10),
            (2, 6, 10),
            (2, 9, 10),
            (2, 10, 10)
        ]
    );
}

#[test]
fn patience_without_a_validation_split_is_an_error() {
    let table: toml::Table = toml::from_str("dataset = \"blobs\"\npatience = 2\ndevice = \"cpu\"").expect("valid TOML");
    let config = Config::resolve(None, &table).expect("each setting is valid alone");
    let err = Run::new(&config).err().expect("needs val_split");
    assert!(err.to_string().contains("--val-split"), "{err}");
}

/// Without `lr`, the learning rate follows the optimizer (Adam's step is normalized: 1e-3, as
/// in PyTorch); a given one is kept.
#[test]
fn the_default_learning_rate_follows_the_optimizer() {
    let resolve = |text: &str| {
        let table: toml::Table = toml::from_str(text).expect("TOML");
        Config::resolve(None, &table).expect("valid")
    };
    for (optimizer, lr) in [("sgd", 0.1), ("momentum", 0.1), ("adam", 1e-3), ("adamw", 1e-3)] {
        let config = resolve(&format!("optimizer = \"{optimizer}\""));
        assert_eq!(
            (config.optimizer.lr, config.optimizer.lr_is_default()),
            (lr, true),
            "{optimizer}"
        );
    }
    let given = resolve("optimizer = \"adam\"\nlr = 0.05");
    assert_eq!((given.optimizer.lr, given.optimizer.lr_is_default()), (0.05, false));
    // A resumed run's config.toml holds the value: the same configuration read back.
    let adam = resolve("optimizer = \"adam\"");
    assert_eq!(
        Config::from_toml(std::path::Path::new("config.toml"), &adam.to_toml()).expect("valid"),
        adam
    );
}

/// `--init pytorch` is `nn.Linear`'s default: weights and biases U(±1/√fan_in), biases too.
#[test]
fn pytorch_init_draws_weights_and_biases_within_one_over_root_fan_in() {
    let spec = MlpSpec::new(784, &[64], 10).expect("spec");
    let layout = ParamLayout::new(&spec);
    let params = initialize(&layout, Init::Pytorch, 3);
    for layer in &layout.layers {
        let bound = 1.0 / (layer.fan_in as f32).sqrt();
        for range in [layer.weight.clone(), layer.bias.clone()] {
            let values = &params[range];
            assert!(values.iter().all(|v| v.abs() <= bound), "outside ±{bound}");
            let widest = values.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(
                widest > 0.8 * bound,
                "{} values reach only {widest} of {bound}",
                values.len()
            );
        }
    }
}

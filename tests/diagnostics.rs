//! The per-layer diagnostics: each kernel against its CPU twin, the whole epoch's numbers CPU
//! against GPU, a known dead-ReLU network detected, and the findings that fire (and do not).
//! Tolerances: kernels ≤ 1e-5 relative; whole runs ≤ 1e-3 (the two backends' weights drift apart
//! by rounding, and the norms are summed in other orders).

use crate::common;

use std::sync::Arc;

use common::{assert_close, gpu_or_skip};
use gpu_mlp::cpu::CpuBackend;
use gpu_mlp::data::{load, synthetic_images, DatasetName, LoadOptions, Splits};
use gpu_mlp::gpu::kernels::diagnostics::{ParamNorms, UnitStats};
use gpu_mlp::gpu::GpuBackend;
use gpu_mlp::insight::findings::findings;
use gpu_mlp::nn::model::{initialize, Activation, Init, MlpSpec, ParamLayout};
use gpu_mlp::settings::{Optimizer, OptimizerKind};
use gpu_mlp::training::backend::{Backend, TrainOptions};
use gpu_mlp::training::diagnostics::LayerDiagnostics;
use gpu_mlp::training::train::{fit, Event, HeldOut, TrainConfig};

/// One named native test per case of a kernel case list (`tests/common/kernels.rs`, which
/// `tests/browser.rs` runs on WebGPU too), on a fresh context.
macro_rules! cases {
    (unit_stats_kernel_matches_accumulate_unit_stats { $($name:ident: $args:expr;)* }) => {$(
        #[test]
        fn $name() {
            if let Some(ctx) = gpu_or_skip(stringify!($name)) {
                let kernel = UnitStats::new(&ctx);
                let case = common::unit_stats_kernel_matches_accumulate_unit_stats(&ctx, &kernel, stringify!($name), $args);
                pollster::block_on(case);
            }
        }
    )*};
    (param_norms_kernel_matches_param_sums { $($name:ident: $args:expr;)* }) => {$(
        #[test]
        fn $name() {
            if let Some(ctx) = gpu_or_skip(stringify!($name)) {
                let kernel = ParamNorms::new(&ctx);
                let case = common::param_norms_kernel_matches_param_sums(&ctx, &kernel, stringify!($name), $args);
                pollster::block_on(case);
            }
        }
    )*};
}

unit_stats_cases!(cases);
param_norms_cases!(cases);

fn random_splits(train: usize) -> Arc<Splits> {
    Arc::new(Splits {
        name: "random images".into(),
        train: synthetic_images(train, 784, 10, 3),
        val: None,
        test: Some(synthetic_images(50, 784, 10, 4)),
        class_names: (0..10).map(|c| c.to_string()).collect(),
        warnings: Vec::new(),
        table: None,
    })
}

/// Two epochs of the same training on `backend`; each epoch's diagnostics.
fn epochs_of(backend: &mut dyn Backend, train_len: usize) -> Vec<Vec<LayerDiagnostics>> {
    let outcome = fit(
        backend,
        train_len,
        HeldOut::TEST,
        &TrainConfig::constant(2, 0.001, 9),
        &mut |_: Event<'_>| {},
    )
    .expect("trains");
    outcome.reports.into_iter().map(|r| r.layers).collect()
}

fn as_vec(d: &LayerDiagnostics) -> Vec<f32> {
    let mut v = vec![d.weight_grad_norm, d.bias_grad_norm, d.weight_norm, d.update_ratio];
    v.extend(
        [d.activation_mean, d.activation_std, d.dead_fraction]
            .into_iter()
            .flatten(),
    );
    v.into_iter().map(|x| x as f32).collect()
}

#[test]
fn diagnostics_agree_between_cpu_and_gpu_training() {
    let Some(ctx) = gpu_or_skip("diagnostics_agree_between_cpu_and_gpu_training") else {
        return;
    };
    let spec = MlpSpec::new(784, &[129, 7], 10)
        .and_then(|s| s.with_activations(&[Activation::Relu, Activation::Tanh]))
        .expect("spec");
    let params = initialize(&ParamLayout::new(&spec), Init::HeUniform, 5);
    let opts = TrainOptions {
        optimizer: Optimizer {
            kind: OptimizerKind::Adam,
            ..Optimizer::default()
        },
        ..TrainOptions::new(13)
    };
    let data = random_splits(200);
    let mut cpu = CpuBackend::new(&spec, params.clone(), Arc::clone(&data), &opts).expect("cpu");
    let mut gpu = GpuBackend::new(ctx, &spec, &params, Arc::clone(&data), &opts).expect("gpu");
    let (want, got) = (epochs_of(&mut cpu, 200), epochs_of(&mut gpu, 200));
    assert_eq!(want.len(), 2);
    for (epoch, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(w.len(), 3, "one entry per layer");
        assert!(
            w[0].dead_fraction.is_some() && w[2].dead_fraction.is_none(),
            "hidden layers only"
        );
        for (l, (w, g)) in w.iter().zip(g).enumerate() {
            assert_close(
                &format!("epoch {} layer {}", epoch + 1, l + 1),
                &as_vec(g),
                &as_vec(w),
                1e-3,
            );
        }
    }
}

/// Blobs through a 2-8-2 ReLU network whose first four hidden units start with bias −100:
/// their outputs are 0 for every sample, no gradient reaches them, and they stay dead.
fn dead_relu_on(backend: impl FnOnce(&MlpSpec, Vec<f32>, Arc<Splits>) -> Box<dyn Backend>) {
    let data = Arc::new(load(DatasetName::Blobs, &LoadOptions::default()).expect("blobs"));
    let spec = MlpSpec::new(2, &[8], 2).expect("spec");
    let layout = ParamLayout::new(&spec);
    let mut params = initialize(&layout, Init::HeUniform, 1);
    let bias = layout.layers[0].bias.clone();
    params[bias.start..bias.start + 4].fill(-100.0);
    let train_len = data.train.len();
    let mut backend = backend(&spec, params, data);
    let epochs = epochs_of(backend.as_mut(), train_len);
    for layers in &epochs {
        assert_eq!(layers[0].dead_fraction, Some(0.5), "four of eight units dead");
    }
    let history: Vec<_> = epochs
        .into_iter()
        .enumerate()
        .map(|(i, layers)| gpu_mlp::training::history::HistoryRow {
            epoch: i + 1,
            train_loss: 0.1,
            train_accuracy: 0.95,
            val_loss: None,
            val_accuracy: None,
            test_loss: Some(0.1),
            test_accuracy: Some(0.95),
            lr: 0.001,
            seconds: 0.0,
            samples_per_second: 0.0,
            test_auc: None,
            layers,
        })
        .collect();
    let said = findings(&history, &gpu_mlp::settings::Config::default(), 0.5).join("\n");
    assert!(said.contains("50% of hidden layer 1's units never fired"), "{said}");
}

#[test]
fn a_large_negative_bias_shows_as_dead_units_on_the_cpu() {
    dead_relu_on(|spec, params, data| {
        Box::new(CpuBackend::new(spec, params, data, &TrainOptions::new(32)).expect("cpu"))
    });
}

#[test]
fn a_large_negative_bias_shows_as_dead_units_on_the_gpu() {
    let Some(ctx) = gpu_or_skip("a_large_negative_bias_shows_as_dead_units_on_the_gpu") else {
        return;
    };
    dead_relu_on(|spec, params, data| {
        Box::new(GpuBackend::new(ctx, spec, &params, data, &TrainOptions::new(32)).expect("gpu"))
    });
}

fn train_blobs(lr: Option<&str>, out: &std::path::Path) -> std::process::Output {
    let out = out.to_str().expect("utf-8 path");
    let mut args = vec![
        "train",
        "--dataset",
        "blobs",
        "--hidden",
        "16",
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--out",
        out,
    ];
    if let Some(lr) = lr {
        args.extend(["--lr", lr]);
    }
    common::gpu_mlp(&args)
}

const CHANCE: &str = "no better than always guessing the most frequent class";

#[test]
fn the_chance_finding_fires_for_lr_50_on_blobs_and_not_for_the_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blown = train_blobs(Some("50"), &dir.path().join("lr50"));
    let text = common::output_text(&blown);
    assert!(!blown.status.success(), "diverges:\n{text}");
    assert!(text.contains(CHANCE) && text.contains("learning rate 50"), "{text}");

    let fine = train_blobs(None, &dir.path().join("default"));
    let text = common::output_text(&fine);
    assert!(fine.status.success(), "{text}");
    assert!(!text.contains(CHANCE) && !text.contains("findings:"), "{text}");
    let run = dir.path().join("default");
    let header = std::fs::read_to_string(run.join("history.csv")).expect("history");
    assert!(
        header.lines().next().is_some_and(|h| h.contains("layer1_dead_fraction")
            && h.contains("layer2_update_ratio")
            && h.split(',').count() == 11 + 2 * 7),
        "{header}"
    );
    assert!(run.join("diagnostics.png").is_file() && run.join("diagnostics.svg").is_file());
}

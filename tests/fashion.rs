//! Training on the real Fashion-MNIST (Debian's `dataset-fashion-mnist`, or `$GPU_MLP_DATA`).
//! CI installs the data, so there a missing dataset fails; elsewhere the tests skip loudly.

use crate::common;

use std::sync::Arc;

use gpu_mlp::cpu::CpuBackend;
use gpu_mlp::data::{load, DatasetName, LoadOptions, Splits};
use gpu_mlp::gpu::GpuBackend;
use gpu_mlp::nn::model::{initialize, Init, MlpSpec, ParamLayout};
use gpu_mlp::training::backend::{Backend, TrainOptions};
use gpu_mlp::training::train::{fit, Event, HeldOut, TrainConfig};

fn fashion_or_skip(test: &str) -> Option<Splits> {
    match load(DatasetName::Fashion, &LoadOptions::default()) {
        Ok(s) => Some(s),
        Err(e) => {
            common::skip_unless_ci(test, &format!("Fashion-MNIST is not installed: {e}"));
            None
        }
    }
}

fn final_test_accuracy(backend: &mut dyn Backend, train_len: usize, epochs: usize) -> f64 {
    let cfg = TrainConfig::constant(epochs, 0.1, 1);
    let outcome = fit(backend, train_len, HeldOut::TEST, &cfg, &mut |_: Event<'_>| {}).expect("trains");
    outcome
        .reports
        .last()
        .expect("at least one epoch")
        .test
        .expect("a test split")
        .accuracy
}

#[test]
fn cpu_reaches_80_percent_in_two_epochs() {
    let Some(splits) = fashion_or_skip("cpu_reaches_80_percent_in_two_epochs") else {
        return;
    };
    assert_eq!(
        (
            splits.train.len(),
            splits.test.as_ref().map_or(0, |t| t.len()),
            splits.train.dim
        ),
        (60_000, 10_000, 784)
    );
    let spec = MlpSpec::new(784, &[128], 10).expect("valid spec");
    let params = initialize(&ParamLayout::new(&spec), Init::HeUniform, 1);
    let mut cpu = CpuBackend::new(&spec, params, Arc::new(splits), &TrainOptions::new(128)).expect("backend");
    let acc = final_test_accuracy(&mut cpu, 60_000, 2);
    eprintln!(
        "784-128-10, SGD lr 0.1, batch 128, 2 epochs on the CPU: test accuracy {:.2}%",
        100.0 * acc
    );
    assert!(acc >= 0.80, "test accuracy {acc}");
}

#[test]
fn gpu_matches_cpu_accuracy_on_a_subset() {
    let Some(ctx) = common::gpu_or_skip("gpu_matches_cpu_accuracy_on_a_subset") else {
        return;
    };
    let Some(mut splits) = fashion_or_skip("gpu_matches_cpu_accuracy_on_a_subset") else {
        return;
    };
    // lavapipe runs ≈ 4 GFLOP/s: 4000 training and 2000 test images keep this to a few seconds.
    splits.train = splits.train.truncated(4000);
    splits.test = splits.test.as_ref().map(|t| t.truncated(2000));
    let data = Arc::new(splits);
    let spec = MlpSpec::new(784, &[128], 10).expect("valid spec");
    let params = initialize(&ParamLayout::new(&spec), Init::HeUniform, 1);
    let mut cpu =
        CpuBackend::new(&spec, params.clone(), Arc::clone(&data), &TrainOptions::new(128)).expect("cpu backend");
    let mut gpu = GpuBackend::new(ctx, &spec, &params, data, &TrainOptions::new(128)).expect("gpu backend");
    let cpu_acc = final_test_accuracy(&mut cpu, 4000, 2);
    let gpu_acc = final_test_accuracy(&mut gpu, 4000, 2);
    eprintln!("subset: cpu {:.2}%, gpu {:.2}%", 100.0 * cpu_acc, 100.0 * gpu_acc);
    assert!(cpu_acc > 0.6, "the subset run learns (chance is 0.1): {cpu_acc}");
    assert!((cpu_acc - gpu_acc).abs() <= 0.01, "cpu {cpu_acc} vs gpu {gpu_acc}");
}

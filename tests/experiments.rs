//! The course experiments shipped in configs/: every file parses, and experiments 4 (blobs) and
//! 5 (circle, binary cross-entropy) and the spiral and XOR sets reach ≥ 95% test accuracy on
//! both paths. The MNIST and
//! Fashion-MNIST experiments run briefly on Fashion-MNIST (MNIST is not installable here).

use crate::common;

use std::path::{Path, PathBuf};

use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::train::Event;

fn config_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name)
}

/// `name` from configs/ with `overrides` (TOML) on top.
fn config(name: &str, overrides: &str) -> Config {
    let overrides: toml::Table = toml::from_str(overrides).expect("valid override TOML");
    Config::resolve(Some(&config_path(name)), &overrides).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Final test accuracy of a run.
fn test_accuracy(config: &Config) -> f64 {
    let mut run = Run::new(config).expect("run builds");
    let outcome = run.train(&mut |_: Event<'_>| {}).expect("trains");
    outcome
        .reports
        .last()
        .expect("an epoch")
        .test
        .expect("a test split")
        .accuracy
}

#[test]
fn every_config_parses_and_validates() {
    let mut names: Vec<String> = std::fs::read_dir(config_path(""))
        .expect("configs/ exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        config(&name, "");
    }
}

fn reaches_95_percent(name: &str) {
    let cpu = test_accuracy(&config(name, "device = \"cpu\""));
    assert!(cpu >= 0.95, "{name} on the CPU: test accuracy {cpu}");
    if common::gpu_or_skip(name).is_some() {
        let gpu = test_accuracy(&config(name, "device = \"gpu\""));
        assert!(gpu >= 0.95, "{name} on the GPU: test accuracy {gpu}");
    }
}

#[test]
fn experiment_4_blobs_reaches_95_percent_on_both_paths() {
    reaches_95_percent("blobs.toml");
}

#[test]
fn experiment_5_circle_reaches_95_percent_on_both_paths() {
    reaches_95_percent("circle-bce.toml");
}

#[test]
fn the_spiral_reaches_95_percent_on_both_paths() {
    reaches_95_percent("spiral.toml");
}

#[test]
fn xor_reaches_95_percent_on_both_paths() {
    reaches_95_percent("xor.toml");
}

/// Experiments 1–3 for two short epochs on 6000 Fashion-MNIST images, on the CPU: the settings
/// (probability cross-entropy, uniform init, Adam, dropout, ±1 normalization, validation) train.
#[test]
fn fashion_and_mnist_experiments_run_on_fashion() {
    if !common::fashion_or_skip("fashion_and_mnist_experiments_run_on_fashion") {
        return;
    }
    for (name, floor) in [
        ("keras-from-scratch-mnist.toml", 0.15),
        ("adam-mnist.toml", 0.7),
        ("fashion-dropout.toml", 0.3),
        ("fashion-dropout-fast.toml", 0.7),
    ] {
        let cfg = config(
            name,
            "dataset = \"fashion\"\ndevice = \"cpu\"\nepochs = 2\ntrain_samples = 6000",
        );
        let acc = test_accuracy(&cfg);
        eprintln!("{name}: {acc}");
        assert!(acc > floor, "{name}: test accuracy {acc} after two short epochs");
    }
}

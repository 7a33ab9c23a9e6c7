//! Reliability: determinism, divergence, and parsers that refuse bad input without panicking.

mod common;

use gpu_mlp::checkpoint::Checkpoint;
use gpu_mlp::config::Config;
use gpu_mlp::error::Error;
use gpu_mlp::run::Run;
use gpu_mlp::train::Event;

fn config(extra: &str) -> Config {
    let text = format!("dataset = \"blobs\"\nsamples = 400\nhidden = [16, 8]\nbatch_size = 32\ndropout = 0.1\n{extra}");
    let table: toml::Table = toml::from_str(&text).expect("valid TOML");
    Config::resolve(None, &table).expect("valid config")
}

/// Same seed, same device: bit-identical weights and metrics.
fn deterministic_on(device: &str) {
    let run_once = || {
        let mut run = Run::new(&config(&format!(
            "epochs = 3\noptimizer = \"adam\"\nlr = 0.01\ndevice = \"{device}\""
        )))
        .expect("run");
        let outcome = run.train(&mut |_: Event<'_>| {}).expect("trains");
        (
            run.backend.parameters().expect("params"),
            outcome.reports.iter().map(|r| (r.train, r.test)).collect::<Vec<_>>(),
        )
    };
    let (a, b) = (run_once(), run_once());
    assert!(
        a.0 == b.0,
        "{device}: weights differ between two runs with the same seed"
    );
    assert_eq!(a.1, b.1, "{device}: metrics differ");
}

#[test]
fn same_seed_same_run_on_the_cpu() {
    deterministic_on("cpu");
}

#[test]
fn same_seed_same_run_on_the_gpu() {
    if common::gpu_or_skip("same_seed_same_run_on_the_gpu").is_some() {
        deterministic_on("gpu");
    }
}

/// A learning rate of 50 blows up: the run stops with a message naming where and suggesting a
/// lower rate, and the last checkpoint is the last good epoch.
fn divergence_on(device: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut run = Run::with_dir(
        &config(&format!("epochs = 20\nlr = 50.0\nlog_every = 2\ndevice = \"{device}\"")),
        Some(dir.path()),
    )
    .expect("run");
    let err = run.train(&mut |_: Event<'_>| {}).expect_err("diverges");
    let Error::Diverged { epoch, ref detail } = err else {
        panic!("{device}: expected divergence, got {err}")
    };
    let msg = err.to_string();
    assert!(msg.contains("batch") && msg.contains("lower --lr"), "{msg}");
    assert!(
        detail.contains("NaN") || detail.contains("inf") || detail.contains("reached"),
        "{msg}"
    );
    let last = dir.path().join("last.safetensors");
    if epoch > 1 {
        let checkpoint = Checkpoint::load(&last).expect("the last good checkpoint");
        assert_eq!(checkpoint.meta.epoch, epoch - 1);
        assert!(
            checkpoint.params.iter().all(|v| v.is_finite()),
            "{device}: the kept checkpoint is finite"
        );
    } else {
        assert!(!last.exists(), "{device}: no checkpoint of a diverged first epoch");
    }
}

#[test]
fn divergence_is_reported_and_the_last_good_checkpoint_kept_on_the_cpu() {
    divergence_on("cpu");
}

#[test]
fn divergence_is_reported_and_the_last_good_checkpoint_kept_on_the_gpu() {
    if common::gpu_or_skip("divergence_on_the_gpu").is_some() {
        divergence_on("gpu");
    }
}

/// A dataset file that is not the official one is named: a warning, or with `strict_data` an error.
#[test]
fn damaged_dataset_files_are_named() {
    let source = std::path::Path::new("/usr/share/datasets/fashion-mnist");
    if !source.join("t10k-labels-idx1-ubyte.gz").is_file() {
        assert!(std::env::var("CI").is_err(), "CI installs dataset-fashion-mnist");
        eprintln!("\n*** SKIPPING damaged_dataset_files_are_named: no Fashion-MNIST ***\n");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for f in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
    ] {
        std::fs::copy(source.join(f), dir.path().join(f)).expect("copy");
    }
    // A well-formed labels file with one label changed: parses, but is not the official data.
    let mut labels = gpu_mlp::data::idx::read_labels(&source.join("t10k-labels-idx1-ubyte.gz")).expect("labels");
    labels[0] = (labels[0] + 1) % 10;
    let n = labels.len() as u32;
    std::fs::write(
        dir.path().join("t10k-labels-idx1-ubyte"),
        gpu_mlp::data::idx::encode(gpu_mlp::data::idx::LABELS_MAGIC, &[n], &labels),
    )
    .expect("write");
    let opts = |strict_data| gpu_mlp::data::LoadOptions {
        data_dir: Some(dir.path().into()),
        strict_data,
        ..Default::default()
    };
    let loaded = gpu_mlp::data::load(gpu_mlp::data::DatasetName::Fashion, &opts(false)).expect("loads with a warning");
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0].contains("t10k-labels-idx1-ubyte") && loaded.warnings[0].contains("expected 0402a96d"),
        "{:?}",
        loaded.warnings
    );
    let err = gpu_mlp::data::load(gpu_mlp::data::DatasetName::Fashion, &opts(true)).expect_err("strict refuses");
    assert!(err.to_string().contains("--strict-data"), "{err}");
}

//! The `gpu-mlp` binary as a user runs it.

mod common;

use std::process::{Command, Output};

/// Runs the binary in a fresh temporary directory (where its `runs/` go).
fn gpu_mlp(args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().expect("temp dir");
    gpu_mlp_in(cwd.path(), args)
}

fn gpu_mlp_in(cwd: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GPU_MLP_DATA")
        .output()
        .expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The lines of stderr that are ours, not the Vulkan/EGL loaders' chatter.
fn our_error_lines(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| !l.is_empty() && !l.contains("XDG_RUNTIME_DIR"))
        .map(String::from)
        .collect()
}

#[test]
fn invalid_values_get_a_one_line_error_and_exit_code_2() {
    let cases: [(&[&str], &str); 8] = [
        (&["train", "--batch-size", "0"], "--batch-size"),
        (&["train", "--lr", "0"], "--lr"),
        (&["train", "--lr", "-0.5"], "--lr"),
        (&["train", "--lr", "NaN"], "--lr"),
        (&["train", "--hidden", ""], "--hidden"),
        (&["train", "--hidden", "128,0"], "--hidden"),
        (&["train", "--dataset", "cifar"], "--dataset"),
        (&["train", "--epochs", "0"], "--epochs"),
    ];
    for (args, flag) in cases {
        let out = gpu_mlp(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let lines = our_error_lines(&out);
        assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {lines:?}");
        assert!(
            lines[0].starts_with("error:") && lines[0].contains(flag),
            "{args:?}: {}",
            lines[0]
        );
    }
}

#[test]
fn missing_dataset_is_a_clear_runtime_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(["train", "--dataset", "mnist", "--device", "cpu", "--data-dir"])
        .arg(dir.path())
        .current_dir(dir.path())
        .env_remove("GPU_MLP_DATA")
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = our_error_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("not found") && lines[0].contains("--data-dir"),
        "{}",
        lines[0]
    );
}

fn epoch_lines(out: &Output) -> Vec<Vec<String>> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

/// Trains blobs on `device` and checks the per-epoch table; returns the final test accuracy.
fn train_blobs(device: &str) -> f64 {
    let out = gpu_mlp(&[
        "train",
        "--dataset",
        "blobs",
        "--hidden",
        "16",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--device",
        device,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = epoch_lines(&out);
    assert_eq!(
        lines.len(),
        3,
        "one line per epoch:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // epoch, train_loss, train_acc, test_loss, test_acc, seconds, samples/s
    assert!(lines.iter().all(|l| l.len() == 7), "{lines:?}");
    lines[2][4].trim_end_matches('%').parse().expect("accuracy column")
}

#[test]
fn trains_blobs_on_the_cpu() {
    assert!(train_blobs("cpu") > 90.0);
}

#[test]
fn trains_blobs_on_the_gpu_like_the_cpu() {
    if common::gpu_or_skip("trains_blobs_on_the_gpu_like_the_cpu").is_none() {
        return;
    }
    assert_eq!(
        train_blobs("gpu"),
        train_blobs("cpu"),
        "blobs is tiny: both paths reach the same accuracy"
    );
}

#[test]
fn info_lists_adapters() {
    let out = gpu_mlp(&["info"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--device auto"));
}

#[test]
fn config_file_sets_values_and_flags_override_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("blobs.toml");
    std::fs::write(
        &path,
        "dataset = \"blobs\"\nhidden = [8]\nactivation = [\"tanh\"]\nepochs = 9\nbatch_size = 16\nlr = 0.2\n\
         optimizer = \"momentum\"\nnesterov = true\ndevice = \"cpu\"\n",
    )
    .expect("write config");
    let out = gpu_mlp(&["train", "--config", path.to_str().expect("utf-8 path"), "--epochs", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("model 2-8(tanh)-2") && stdout.contains("Momentum lr 0.2"),
        "{stdout}"
    );
    assert_eq!(epoch_lines(&out).len(), 2, "--epochs overrides the file's 9");
}

#[test]
fn unknown_config_keys_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("typo.toml");
    std::fs::write(&path, "dataset = \"blobs\"\nlearning_rate = 0.1\n").expect("write config");
    let out = gpu_mlp(&["train", "--config", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let lines = our_error_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("typo.toml") && lines[0].contains("learning_rate"),
        "{}",
        lines[0]
    );
}

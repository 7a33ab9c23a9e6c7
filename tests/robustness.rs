//! Reliability: determinism, divergence, and parsers that refuse bad input without panicking.

use crate::common;

use gpu_mlp::checkpoint::Checkpoint;
use gpu_mlp::error::Error;
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::train::Event;

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
            run.backend().parameters().expect("params"),
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
        false,
    )
    .expect("run");
    let err = run.train(&mut |_: Event<'_>| {}).expect_err("diverges");
    let Error::Diverged { epoch, ref detail, .. } = err else {
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
        common::skip_unless_ci(
            "damaged_dataset_files_are_named",
            "Fashion-MNIST is not installed (CI installs it)",
        );
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

/// A CPU training run on 12000 Fashion-MNIST images, long enough to be interrupted.
fn long_run(dir: &std::path::Path, epochs: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"));
    cmd.args([
        "train",
        "--device",
        "cpu",
        "--hidden",
        "32",
        "--train-samples",
        "12000",
        "--optimizer",
        "momentum",
    ])
    .args(["--lr", "0.05", "--epochs", epochs, "--out"])
    .arg(dir)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    cmd
}

/// Starts a long run in `run`, sends it `signal` once it has saved an epoch, checks it exits
/// with `code` saying where it stopped, and returns the checkpoint it left.
fn interrupt(run: &std::path::Path, signal: &str, code: i32) -> Checkpoint {
    let child = long_run(run, "1000").spawn().expect("starts");
    common::wait_for(&run.join("history.json"));
    std::thread::sleep(std::time::Duration::from_millis(150));
    let (exit, stderr) = common::signal_and_wait(child, signal);
    assert_eq!(exit, Some(code), "{signal}: {stderr}");
    assert!(stderr.contains("interrupted in epoch"), "{signal}: {stderr}");
    Checkpoint::load(&run.join("last.safetensors")).expect("a whole checkpoint")
}

/// Ctrl-C: the run finishes its current steps, saves where it stands, exits 130; resuming from
/// there gives exactly the weights of an uninterrupted run.
#[test]
fn sigint_saves_and_resume_continues_exactly() {
    if !common::fashion_or_skip("sigint_saves_and_resume_continues_exactly") {
        return;
    }
    let b = tempfile::tempdir().expect("temp dir");
    // A signal that arrives while an epoch is saved is seen before the next epoch's first step:
    // retry until one lands mid-epoch, the case whose resume is hardest.
    let mut attempts = 0;
    let (a, saved) = loop {
        attempts += 1;
        let a = tempfile::tempdir().expect("temp dir");
        let saved = interrupt(&a.path().join("run"), "-INT", 130);
        if saved.meta.steps_into_epoch > 0 || attempts == 8 {
            break (a, saved);
        }
    };
    assert!(
        saved.meta.steps_into_epoch > 0,
        "8 interrupts all landed between epochs"
    );
    let run_a = a.path().join("run");
    let target = saved.meta.epoch + 2;
    {
        // The interrupted epoch's batches depend on the batch size: another one is refused.
        let changed = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
            .args(["train", "--resume"])
            .arg(&run_a)
            .args(["--batch-size", "64"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&changed.stderr);
        assert_eq!(changed.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("batch-size") && stderr.contains("128") && stderr.contains("64"),
            "{stderr}"
        );
    }
    // Continue to two epochs past the interruption, and run the same number straight.
    let resumed = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(["train", "--resume"])
        .arg(&run_a)
        .args(["--epochs", &target.to_string()])
        .output()
        .expect("resumes");
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    // The header says where in the epoch it picks up.
    let said = String::from_utf8_lossy(&resumed.stdout);
    let where_ = format!(
        "in epoch {} after its {} batch",
        saved.meta.epoch + 1,
        saved.meta.steps_into_epoch
    );
    assert!(said.contains(&where_), "{where_}: {said}");
    let run_b = b.path().join("run");
    let straight = long_run(&run_b, &target.to_string()).output().expect("runs");
    assert!(straight.status.success());
    let (x, y) = (
        Checkpoint::load(&run_a.join("last.safetensors")).expect("resumed checkpoint"),
        Checkpoint::load(&run_b.join("last.safetensors")).expect("straight checkpoint"),
    );
    assert_eq!(x.meta.epoch, target);
    // The history of the interrupted epoch covers all its steps, before and after the break.
    let history = |dir: &std::path::Path| -> Vec<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join("history.json")).expect("history")).expect("JSON")
    };
    let (resumed_rows, straight_rows) = (history(&run_a), history(&run_b));
    assert_eq!(resumed_rows.len(), straight_rows.len());
    for (r, s) in resumed_rows.iter().zip(&straight_rows) {
        assert_eq!(r["train_accuracy"], s["train_accuracy"], "epoch {}", r["epoch"]);
        let (a, b) = (r["train_loss"].as_f64().unwrap(), s["train_loss"].as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1e-9 * b.abs(),
            "epoch {}: train loss {a} vs {b}",
            r["epoch"]
        );
    }
    assert!(
        x.params == y.params,
        "resumed weights differ from an uninterrupted run (interrupted at epoch {} + {} steps)",
        saved.meta.epoch,
        saved.meta.steps_into_epoch
    );
    assert!(x.optimizer_state == y.optimizer_state);
}

/// SIGTERM (a shell's `kill`, a scheduler, a container stop) and SIGHUP (a closed terminal) stop
/// a run as Ctrl-C does: it saves where it stands, exits 128 + the signal (143, 129), and
/// resumes from there.
#[test]
fn sigterm_and_sighup_save_like_ctrl_c() {
    if !common::fashion_or_skip("sigterm_and_sighup_save_like_ctrl_c") {
        return;
    }
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let run = tmp.path().join("run");
        let saved = interrupt(&run, signal, code);
        let resumed = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
            .args(["train", "--resume"])
            .arg(&run)
            .args(["--epochs", &(saved.meta.epoch + 1).to_string()])
            .output()
            .expect("resumes");
        assert!(
            resumed.status.success(),
            "{signal}: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );
    }
}

/// A signal while the data is still being generated (nothing worth saving yet) ends the process
/// at once with 128 + the signal, and leaves no run directory behind.
#[test]
fn a_signal_while_loading_data_exits_at_once_writing_nothing() {
    for (signal, code) in [("-TERM", 143), ("-HUP", 129), ("-INT", 130)] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let run = tmp.path().join("run");
        // 20 million points take seconds to generate; the handlers are in place within
        // milliseconds of the start.
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
            .args([
                "train",
                "--device",
                "cpu",
                "--dataset",
                "blobs",
                "--samples",
                "20000000",
            ])
            .args(["--hidden", "4", "--epochs", "1", "--out"])
            .arg(&run)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts");
        std::thread::sleep(std::time::Duration::from_millis(300));
        let sent = std::time::Instant::now();
        let (exit, stderr) = common::signal_and_wait(child, signal);
        assert_eq!(exit, Some(code), "{signal}: {stderr}");
        assert!(
            stderr.contains("stopped before anything was written"),
            "{signal}: {stderr}"
        );
        assert!(sent.elapsed().as_secs() < 2, "{signal}: took {:?}", sent.elapsed());
        assert!(!run.exists(), "{signal}: a run directory was left");
    }
}

/// A short blobs run into `dir` with extra flags; its output.
fn blobs_run(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args([
            "train",
            "--device",
            "cpu",
            "--dataset",
            "blobs",
            "--epochs",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(dir)
        .args(extra)
        .output()
        .expect("runs")
}

/// `--out` on a directory that holds a run is refused (naming `--resume` and `--force`) and
/// leaves it untouched; `--force` moves it aside whole before starting anew.
#[test]
fn an_existing_run_is_never_overwritten() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = tmp.path().join("run");
    assert!(blobs_run(&run, &[]).status.success());
    let config_before = std::fs::read(run.join("config.toml")).expect("config");
    let again = blobs_run(&run, &["--lr", "0.5"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("already holds a run") && stderr.contains("--resume") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(run.join("config.toml")).expect("config"), config_before);
    let forced = blobs_run(&run, &["--lr", "0.5", "--force"]);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    let aside = tmp.path().join("run.old-1");
    assert_eq!(
        std::fs::read(aside.join("config.toml")).expect("moved aside"),
        config_before
    );
    assert!(aside.join("last.safetensors").exists() && aside.join("history.json").exists());
    assert_ne!(
        std::fs::read(run.join("config.toml")).expect("new config"),
        config_before
    );
    assert!(!run.join("train.lock").exists(), "the lock goes with the process");
}

/// A run directory is locked while a process trains in it: a second `train --out` or `--resume`
/// on it is refused with the pid; a lock left by a dead process is taken over; temporary files
/// of an interrupted write are removed on resume.
#[test]
fn a_run_in_progress_is_locked() {
    if !common::fashion_or_skip("a_run_in_progress_is_locked") {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = tmp.path().join("run");
    let mut child = long_run(&run, "1000").spawn().expect("starts");
    common::wait_for(&run.join("history.json"));
    for attempt in [blobs_run(&run, &["--force"]), {
        std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
            .args(["train", "--resume"])
            .arg(&run)
            .output()
            .expect("runs")
    }] {
        let stderr = String::from_utf8_lossy(&attempt.stderr);
        assert_eq!(attempt.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("process {} is training in it", child.id())),
            "{stderr}"
        );
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("exits");
    // SIGKILL leaves the lock (and maybe a temporary file): both are recognized on resume.
    assert!(run.join("train.lock").exists());
    std::fs::write(run.join(".tmpLEFTOVER"), b"half").expect("write");
    let saved = Checkpoint::load(&run.join("last.safetensors")).expect("a whole checkpoint");
    let resumed = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(["train", "--resume"])
        .arg(&run)
        .args(["--epochs", &(saved.meta.epoch + 1).to_string()])
        .output()
        .expect("resumes");
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert!(!run.join(".tmpLEFTOVER").exists() && !run.join("train.lock").exists());
}

/// `--data-dir` names the only place looked in: a directory that lacks the files is an error
/// naming the missing ones (exit 1), never a silent fall-back to the system's copy.
#[test]
fn a_data_dir_without_the_dataset_names_the_missing_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("train-images-idx3-ubyte.gz"), b"").expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args([
            "train",
            "--device",
            "cpu",
            "--epochs",
            "1",
            "--strict-data",
            "--data-dir",
        ])
        .arg(tmp.path())
        .arg("--out")
        .arg(tmp.path().join("run"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("missing train-labels-idx1-ubyte") && stderr.contains("t10k-images-idx3-ubyte"),
        "{stderr}"
    );
    assert!(!stderr.contains("missing train-images"), "that one is there: {stderr}");
    assert!(!tmp.path().join("run").exists(), "nothing written");
}

/// A closed stdout (`gpu-mlp train | head -1`) ends the output, not the run: it finishes and
/// leaves its checkpoints.
#[test]
fn a_closed_stdout_does_not_stop_the_run() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = tmp.path().join("run");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args([
            "train",
            "--device",
            "cpu",
            "--dataset",
            "blobs",
            "--epochs",
            "30",
            "--log-every",
            "1",
            "--out",
        ])
        .arg(&run)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("exits");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let last = Checkpoint::load(&run.join("last.safetensors")).expect("the run finished");
    assert_eq!(last.meta.epoch, 30);
}

/// SIGKILL at any moment never leaves a torn checkpoint or history: whatever is there parses.
#[test]
fn sigkill_never_leaves_a_corrupt_file() {
    if !common::fashion_or_skip("sigkill_never_leaves_a_corrupt_file") {
        return;
    }
    for (trial, delay_ms) in [0u64, 37, 111, 253, 419].into_iter().enumerate() {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = dir.path().join("run");
        let mut child = long_run(&run, "1000").spawn().expect("starts");
        common::wait_for(&run.join("config.toml"));
        std::thread::sleep(std::time::Duration::from_millis(300 + delay_ms));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        for name in ["last.safetensors", "best.safetensors"] {
            let path = run.join(name);
            if path.exists() {
                Checkpoint::load(&path).unwrap_or_else(|e| panic!("trial {trial}: {e}"));
            }
        }
        for name in ["history.json", "meta.json"] {
            let path = run.join(name);
            if path.exists() {
                let text = std::fs::read_to_string(&path).expect("readable");
                serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap_or_else(|e| panic!("trial {trial}: {name}: {e}"));
            }
        }
        if let Ok(csv) = std::fs::read_to_string(run.join("history.csv")) {
            assert!(
                // 11 columns, then 7 per layer of diagnostics (the header's count for every row).
                csv.ends_with('\n') && {
                    let columns = csv.lines().next().map_or(0, |h| h.split(',').count());
                    columns > 11 && (columns - 11) % 7 == 0 && csv.lines().all(|l| l.split(',').count() == columns)
                },
                "trial {trial}: torn history.csv"
            );
        }
    }
}

/// Errors wgpu reports asynchronously (here: a buffer over the device's size limit) surface as
/// an `Error` at the next wait instead of a panic.
#[test]
fn asynchronous_gpu_errors_become_errors() {
    let Some(ctx) = common::gpu_or_skip("asynchronous_gpu_errors_become_errors") else {
        return;
    };
    let _too_big = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("too big"),
        size: ctx.limits.max_buffer_size + 256,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let err = ctx.wait().expect_err("the validation error is reported");
    assert!(matches!(err, Error::Gpu(_)), "{err}");
    ctx.wait().expect("reported once");
}

/// A model too large for one storage binding is refused before anything runs, with the numbers.
#[test]
fn a_model_over_the_device_limits_is_refused_with_numbers() {
    let Some(ctx) = common::gpu_or_skip("a_model_over_the_device_limits_is_refused_with_numbers") else {
        return;
    };
    let limit = ctx.limits.max_storage_buffer_binding_size;
    let width = (limit / 4 / 784 + 1) as usize; // one layer's weights just over the binding limit
    let spec = gpu_mlp::nn::model::MlpSpec::new(784, &[width], 10).expect("spec");
    let layout = gpu_mlp::nn::model::ParamLayout::new(&spec);
    let params = vec![0.0f32; layout.len];
    let data = std::sync::Arc::new(gpu_mlp::data::Splits {
        name: "tiny".into(),
        train: gpu_mlp::data::synthetic_images(4, 784, 10, 1),
        val: None,
        test: Some(gpu_mlp::data::synthetic_images(4, 784, 10, 2)),
        class_names: (0..10).map(|i| i.to_string()).collect(),
        warnings: Vec::new(),
        table: None,
    });
    let err = gpu_mlp::gpu::GpuBackend::new(
        ctx,
        &spec,
        &params,
        data,
        &gpu_mlp::training::backend::TrainOptions::new(4),
    )
    .err()
    .expect("refused");
    let msg = err.to_string();
    assert!(
        matches!(err, Error::DeviceLimit(_)) && msg.contains(&limit.to_string()),
        "{msg}"
    );
}

/// A model or a generated dataset larger than the memory available is refused with the
/// numbers before anything is allocated (no abort, no OOM kill, nothing written).
#[test]
fn models_and_data_beyond_memory_are_refused_with_the_numbers() {
    if gpu_mlp::memory::available_bytes().is_none() {
        common::skip_unless_ci(
            "models_and_data_beyond_memory_are_refused_with_the_numbers",
            "this system does not report its available memory",
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let cases: [(&[&str], &str); 2] = [
        (&["--hidden", "100000000000"], "invalid hidden"),
        (&["--samples", "2000000000000"], "invalid samples"),
    ];
    for (flags, field) in cases {
        let run = tmp.path().join("run");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
            .args(["train", "--device", "cpu", "--dataset", "blobs", "--out"])
            .arg(&run)
            .args(flags)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(
            stderr.contains(field) && stderr.contains("GiB is available"),
            "{flags:?}: {stderr}"
        );
        assert!(!run.exists(), "{flags:?}: nothing written");
    }
}

/// A stop signal while `plot` draws ends it between files, saying that what was written is
/// whole and how to redraw it, never that nothing was written.
#[test]
fn a_signal_while_plotting_says_what_is_whole() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = tmp.path().join("run");
    // A wide model: evaluating it and its decision regions takes seconds.
    let trained = blobs_run(&run, &["--samples", "100", "--hidden", "1000000"]);
    assert!(trained.status.success(), "{}", String::from_utf8_lossy(&trained.stderr));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .arg("plot")
        .arg(&run)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (exit, stderr) = common::signal_and_wait(child, "-TERM");
    assert_eq!(exit, Some(143), "{stderr}");
    assert!(
        stderr.contains("files written so far are whole")
            && stderr.contains("gpu-mlp plot")
            && !stderr.contains("nothing was written"),
        "{stderr}"
    );
}

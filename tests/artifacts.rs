//! What a run leaves behind: checkpoints that round-trip exactly, resume that equals an
//! uninterrupted run, history files, and clear errors for checkpoints that do not fit.

use crate::common;

use std::path::Path;

use gpu_mlp::checkpoint::Checkpoint;
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::train::Event;

fn config(extra: &str) -> Config {
    let text = format!(
        "dataset = \"blobs\"\nsamples = 300\nhidden = [12, 6]\nactivation = [\"tanh\", \"relu\"]\nbatch_size = 16\n\
         optimizer = \"adam\"\nlr = 0.01\nval_split = 0.2\ndropout = 0.1\n{extra}"
    );
    let table: toml::Table = toml::from_str(&text).expect("valid TOML");
    Config::resolve(None, &table).expect("valid config")
}

/// Exactly these settings over the defaults.
fn settings(text: &str) -> Config {
    Config::resolve(None, &toml::from_str(text).expect("valid TOML")).expect("valid config")
}

fn overrides(text: &str) -> toml::Table {
    toml::from_str(text).expect("valid TOML")
}

fn train_in(dir: &Path, config: &Config) -> Checkpoint {
    let mut run = Run::with_dir(config, Some(dir), false).expect("run builds");
    run.train(&mut |_: Event<'_>| {}).expect("trains");
    Checkpoint::load(&dir.join("last.safetensors")).expect("last checkpoint")
}

#[test]
fn checkpoints_round_trip_bit_exact() {
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = train_in(dir.path(), &config("epochs = 2\ndevice = \"cpu\""));
    assert!(!saved.optimizer_state.is_empty(), "Adam keeps m and v");
    let path = dir.path().join("copy.safetensors");
    saved.save(&path).expect("saves");
    assert_eq!(Checkpoint::load(&path).expect("loads"), saved);
    for name in [
        "config.toml",
        "history.csv",
        "history.json",
        "best.safetensors",
        "meta.json",
    ] {
        assert!(dir.path().join(name).is_file(), "{name} written");
    }
    let csv = std::fs::read_to_string(dir.path().join("history.csv")).expect("history");
    assert_eq!(csv.lines().count(), 3, "header and two epochs:\n{csv}");
}

/// 2 epochs, then `--resume` to 4, equals 4 epochs straight: bit for bit on the CPU.
#[test]
fn resume_equals_an_uninterrupted_run_on_the_cpu() {
    let (a, b) = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    train_in(a.path(), &config("epochs = 2\ndevice = \"cpu\""));
    let mut resumed = Run::resume(a.path(), &overrides("epochs = 4")).expect("resumes");
    assert_eq!(resumed.resumed_after(), (2, 0));
    resumed.train(&mut |_: Event<'_>| {}).expect("trains");
    let straight = train_in(b.path(), &config("epochs = 4\ndevice = \"cpu\""));
    let continued = Checkpoint::load(&a.path().join("last.safetensors")).expect("loads");
    assert_eq!(continued.params, straight.params);
    assert_eq!(continued.optimizer_state, straight.optimizer_state);
    assert_eq!(continued.meta.optimizer_steps, straight.meta.optimizer_steps);
    let history = |d: &Path| std::fs::read_to_string(d.join("history.json")).expect("history");
    let strip_times = |s: String| {
        s.lines()
            .filter(|l| !l.contains("seconds") && !l.contains("samples_per_second"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip_times(history(a.path())),
        strip_times(history(b.path())),
        "same metrics, epoch by epoch"
    );
}

#[test]
fn resume_equals_an_uninterrupted_run_on_the_gpu() {
    if common::gpu_or_skip("resume_equals_an_uninterrupted_run_on_the_gpu").is_none() {
        return;
    }
    let (a, b) = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    train_in(a.path(), &config("epochs = 2\ndevice = \"gpu\""));
    let mut resumed = Run::resume(a.path(), &overrides("epochs = 4")).expect("resumes");
    resumed.train(&mut |_: Event<'_>| {}).expect("trains");
    let straight = train_in(b.path(), &config("epochs = 4\ndevice = \"gpu\""));
    let continued = Checkpoint::load(&a.path().join("last.safetensors")).expect("loads");
    common::assert_close("resumed weights", &continued.params, &straight.params, 1e-5);
    common::assert_close(
        "resumed Adam state",
        &continued.optimizer_state,
        &straight.optimizer_state,
        1e-5,
    );
}

#[test]
fn a_checkpoint_for_another_network_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    train_in(dir.path(), &config("epochs = 1\ndevice = \"cpu\""));
    let err = Run::resume(dir.path(), &overrides("hidden = [5, 6]"))
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("--hidden") && msg.contains("[12, 6]") && msg.contains("[5, 6]"),
        "{msg}"
    );
}

/// A checkpoint file's bytes with `from` replaced by `to` in its header (the metadata JSON).
fn patch_metadata(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (n, _) = safetensors::SafeTensors::read_metadata(bytes).expect("header");
    let header = String::from_utf8(bytes[8..8 + n].to_vec()).expect("utf-8 header");
    let patched = header.replace(from, to);
    assert_ne!(patched, header, "the header carries {from}");
    let mut out = (patched.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(patched.as_bytes());
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

#[test]
fn damaged_checkpoints_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = train_in(dir.path(), &config("epochs = 1\ndevice = \"cpu\""));
    let path = dir.path().join("damaged.safetensors");
    std::fs::write(&path, b"not a checkpoint").expect("write");
    let msg = Checkpoint::load(&path).expect_err("refused").to_string();
    assert!(
        msg.contains("damaged.safetensors") && msg.contains("safetensors"),
        "{msg}"
    );
    assert!(good.meta.sizes == [2, 12, 6, 2]);
    // Good tensors under metadata that promises other shapes: the mismatch is named.
    let bytes = std::fs::read(dir.path().join("last.safetensors")).expect("read");
    let patched = patch_metadata(&bytes, "\\\"sizes\\\":[2,12,6,2]", "\\\"sizes\\\":[2,13,6,2]");
    std::fs::write(&path, patched).expect("write");
    let msg = Checkpoint::load(&path).expect_err("refused").to_string();
    assert!(msg.contains("layers.0.weight") && msg.contains("[13, 2]"), "{msg}");
}

/// A checkpoint holding NaN or ∞, or whose loss does not fit its output layer, is refused with
/// the tensor or the loss named, for eval and for resume alike.
#[test]
fn checkpoints_with_non_finite_values_or_a_mismatched_loss_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = train_in(dir.path(), &config("epochs = 1\ndevice = \"cpu\""));
    for bad_value in [f32::NAN, f32::INFINITY] {
        let mut poisoned = good.clone();
        poisoned.params[3] = bad_value;
        poisoned.save(&dir.path().join("last.safetensors")).expect("saves");
        let msg = Checkpoint::load(&dir.path().join("last.safetensors"))
            .expect_err("refused")
            .to_string();
        assert!(msg.contains("layers.0.weight") && msg.contains("finite"), "{msg}");
        let err = Run::resume(dir.path(), &overrides("epochs = 2"))
            .err()
            .expect("refused");
        assert_eq!(err.exit_code(), 2, "{err}");
    }
    let path = dir.path().join("binary.safetensors");
    good.save(&path).expect("saves");
    let bytes = std::fs::read(&path).expect("read");
    let patched = patch_metadata(&bytes, "softmax-cross-entropy", "binary-cross-entropy");
    std::fs::write(&path, patched).expect("write");
    let msg = Checkpoint::load(&path).expect_err("refused").to_string();
    assert!(msg.contains("BinaryCrossEntropy") && msg.contains("2 units"), "{msg}");
}

/// A run draws its plots at the end from what it holds in memory (its history, the best
/// epoch's model, its test split); `gpu-mlp plot` redraws them from the files alone: the same
/// pictures, byte for byte.
#[test]
fn a_runs_plots_drawn_from_memory_match_those_redrawn_from_its_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut run = Run::with_dir(&config("epochs = 4\ndevice = \"cpu\""), Some(dir.path()), false).expect("run builds");
    let outcome = run.train(&mut |_: Event<'_>| {}).expect("trains");
    let drawn = run.finish(&outcome).expect("finishes").plots;
    let pngs: Vec<(std::path::PathBuf, Vec<u8>)> = drawn
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .map(|p| (p.clone(), std::fs::read(p).expect("a plot")))
        .collect();
    assert!(pngs.len() >= 5, "{drawn:?}");
    drop(run);
    let redrawn = gpu_mlp::run::plots::redraw(dir.path(), &Default::default()).expect("plots");
    assert_eq!(redrawn, drawn);
    for (path, bytes) in pngs {
        assert!(
            std::fs::read(&path).expect("a plot") == bytes,
            "{} differs when redrawn",
            path.display()
        );
    }
}

/// The plots exist as PNG (decoded here: right size, not blank) and SVG.
#[test]
fn plots_are_drawn_from_a_run_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    train_in(dir.path(), &config("epochs = 3\ndevice = \"cpu\""));
    let written = gpu_mlp::run::plots::redraw(dir.path(), &Default::default()).expect("plots");
    assert_eq!(
        written.len(),
        12,
        "loss, accuracy, diagnostics, confusion, ROC for two classes, decision regions for 2-D points (no example images): {written:?}"
    );
    for (name, size) in [
        ("loss", (960, 500)),
        ("accuracy", (960, 500)),
        ("confusion", (720, 720)),
        ("roc", (640, 600)),
        ("diagnostics", (1300, 800)),
        ("boundary", (900, 640)),
    ] {
        let bytes = std::fs::read(dir.path().join(format!("{name}.png"))).expect("png written");
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("decodes");
        assert_eq!((info.width, info.height), size, "{name}.png");
        let distinct: std::collections::HashSet<&[u8]> = buf.chunks(3).collect();
        assert!(
            distinct.len() > 10,
            "{name}.png is not blank ({} colours)",
            distinct.len()
        );
        let svg = std::fs::read_to_string(dir.path().join(format!("{name}.svg"))).expect("svg written");
        assert!(svg.starts_with("<svg") && svg.len() > 1000, "{name}.svg");
    }
    // The confusion matrix names the classes on both axes: true (rows) and predicted (columns).
    let confusion = std::fs::read_to_string(dir.path().join("confusion.svg")).expect("svg");
    let meta = Checkpoint::load(&dir.path().join("last.safetensors"))
        .expect("checkpoint")
        .meta;
    for name in &meta.class_names {
        let labels = confusion.matches(&format!(">\n{name}\n<")).count();
        assert_eq!(labels, 2, "class {name} is named {labels} times in confusion.svg");
    }
}

/// The SVG text elements of a plot.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split(">\n")
        .filter_map(|part| part.split_once("\n<").map(|(text, _)| text.trim().to_string()))
        .collect()
}

/// Each plot says what it shows: the best epoch marked, the confusion matrix's epoch, the
/// misclassified points counted, no dead-unit panel where units cannot die, no "-0.0" tick.
#[test]
fn plots_say_what_they_show() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tanh = settings("dataset = \"blobs\"\nsamples = 300\nhidden = [12, 6]\nactivation = \"tanh\"\nval_split = 0.2\nepochs = 3\ndevice = \"cpu\"");
    let best = train_in(dir.path(), &tanh);
    gpu_mlp::run::plots::redraw(dir.path(), &Default::default()).expect("plots");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("svg written");
    let best_epoch = Checkpoint::load(&dir.path().join("best.safetensors"))
        .expect("best")
        .meta
        .epoch;
    assert!(best.meta.epoch >= best_epoch);
    for curve in ["loss.svg", "accuracy.svg"] {
        let texts = svg_texts(&read(curve));
        assert!(
            texts.contains(&format!("best epoch ({best_epoch})")),
            "{curve}: {texts:?}"
        );
        assert!(texts.iter().any(|t| t == "validation"), "{curve}: {texts:?}");
    }
    let confusion = svg_texts(&read("confusion.svg"));
    assert!(
        confusion
            .iter()
            .any(|t| t.contains(&format!("weights of epoch {best_epoch}"))),
        "{confusion:?}"
    );
    let diagnostics = svg_texts(&read("diagnostics.svg"));
    assert!(
        !diagnostics.iter().any(|t| t.contains("dead units")),
        "tanh units cannot die: {diagnostics:?}"
    );
    assert!(diagnostics.iter().any(|t| t == "layer 2"), "{diagnostics:?}");
    for plot in ["loss.svg", "accuracy.svg", "diagnostics.svg", "boundary.svg"] {
        let texts = svg_texts(&read(plot));
        let minus_zero = texts
            .iter()
            .find(|t| t.starts_with('-') && t[1..].chars().all(|c| c == '0' || c == '.'));
        assert!(minus_zero.is_none(), "{plot} has the tick {minus_zero:?}");
    }
    let boundary = svg_texts(&read("boundary.svg"));
    assert!(
        boundary.iter().any(|t| t.starts_with("misclassified (")),
        "{boundary:?}"
    );

    let relu = tempfile::tempdir().expect("temp dir");
    train_in(
        relu.path(),
        &settings("dataset = \"blobs\"\nsamples = 300\nhidden = [12]\ndevice = \"cpu\"\nepochs = 1"),
    );
    gpu_mlp::run::plots::redraw(relu.path(), &Default::default()).expect("plots");
    let dead = std::fs::read_to_string(relu.path().join("diagnostics.svg")).expect("svg");
    assert!(svg_texts(&dead).iter().any(|t| t == "dead units (hidden layers)"));
    assert!(
        svg_texts(&dead).iter().any(|t| t == "100"),
        "the dead-unit axis reads to 100%"
    );
}

/// Comparison labels name the settings that differ and change what is learned, not `device`.
#[test]
fn comparison_labels_leave_out_where_a_run_computed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, extra: &str| {
        let run = dir.path().join(name);
        std::fs::create_dir_all(&run).expect("dir");
        std::fs::write(run.join("config.toml"), settings(extra).to_toml()).expect("config");
        run
    };
    let runs = [
        write("a", "device = \"cpu\"\nlr = 0.1"),
        write("b", "device = \"gpu\"\nlr = 0.01"),
    ];
    assert_eq!(
        gpu_mlp::run::plots::labels(&runs).expect("labels"),
        ["lr=0.1", "lr=0.01"]
    );
    let same = [
        write("c", "device = \"cpu\""),
        write("d", "device = \"gpu\"\nlog_every = 5"),
    ];
    assert_eq!(gpu_mlp::run::plots::labels(&same).expect("labels"), ["c", "d"]);
}

/// A run with no finished epoch has nothing to plot, and says so.
#[test]
fn a_run_without_a_finished_epoch_has_nothing_to_plot_yet() {
    let dir = tempfile::tempdir().expect("temp dir");
    train_in(dir.path(), &config("epochs = 1\ndevice = \"cpu\""));
    std::fs::write(dir.path().join("history.json"), "[]").expect("history");
    let err = gpu_mlp::run::plots::redraw(dir.path(), &Default::default())
        .expect_err("nothing to plot")
        .to_string();
    assert!(err.contains("no finished epoch yet: nothing to plot"), "{err}");
}

/// A resumed run keeps comparing with the best epoch before the interruption: best.safetensors
/// is the first epoch with the highest validation accuracy over the whole run.
#[test]
fn resume_keeps_the_best_epoch_across_the_break() {
    let dir = tempfile::tempdir().expect("temp dir");
    train_in(
        dir.path(),
        &config("epochs = 3\ndevice = \"cpu\"\nmonitor = \"val-accuracy\""),
    );
    let mut resumed = Run::resume(dir.path(), &overrides("epochs = 7")).expect("resumes");
    let outcome = resumed.train(&mut |_: Event<'_>| {}).expect("trains");
    let history: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("history.json")).expect("history"))
            .expect("JSON");
    assert_eq!(history.len(), 7);
    let accuracy = |r: &serde_json::Value| r["val_accuracy"].as_f64().expect("val accuracy");
    let best_row = history
        .iter()
        .fold(&history[0], |b, r| if accuracy(r) > accuracy(b) { r } else { b });
    let best = Checkpoint::load(&dir.path().join("best.safetensors")).expect("best");
    assert_eq!(best.meta.epoch as u64, best_row["epoch"].as_u64().expect("epoch"));
    assert_eq!(best.meta.val.expect("val metrics").accuracy, accuracy(best_row));
    assert_eq!(outcome.best.expect("a best epoch").epoch, best.meta.epoch);
}

/// Run directories are named by the time (UTC) and the data, the civil date right across leap
/// days and centuries.
#[test]
fn run_directories_are_named_by_date_time_and_dataset() {
    use gpu_mlp::run::artifacts::utc_timestamp;
    for (secs, want) in [
        (0, "1970-01-01_00-00-00"),
        (951_782_400, "2000-02-29_00-00-00"),
        (1_764_513_912, "2025-11-30_14-45-12"),
        (4_107_542_399, "2100-02-28_23-59-59"),
    ] {
        assert_eq!(utc_timestamp(secs), want);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "train",
        "--dataset",
        "blobs",
        "--device",
        "cpu",
        "--epochs",
        "1",
        "--quiet",
    ];
    for _ in 0..2 {
        let out = common::gpu_mlp_in(dir.path(), &args);
        assert!(out.status.success(), "{}", common::output_text(&out));
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("runs"))
        .expect("runs/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}: never an existing directory");
    for name in &names {
        let (stamp, rest) = name.split_at(19);
        assert!(stamp.as_bytes()[10] == b'_' && rest.starts_with("-blobs"), "{name}");
    }
}

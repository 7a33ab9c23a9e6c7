//! Training on CSV tables: Palmer penguins (Debian's r-cran-palmerpenguins, extracted by .ci/run),
//! generated edge files, CPU↔GPU parity on a table run, and one line naming the file, line and
//! column for every bad file.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gpu_mlp::data::Features;
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::train::Event;

fn gpu_mlp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// Where .ci/run extracts penguins.csv from the Debian package (or `$GPU_MLP_PENGUINS`).
fn penguins_or_skip(test: &str) -> Option<PathBuf> {
    let csv = std::env::var_os("GPU_MLP_PENGUINS").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/penguins/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv")
        },
        PathBuf::from,
    );
    if csv.is_file() {
        Some(csv)
    } else {
        common::skip_unless_ci(test, &format!("{} is missing (.ci/run extracts it)", csv.display()));
        None
    }
}

fn config(text: &str) -> Config {
    let table: toml::Table = toml::from_str(text).expect("valid TOML");
    Config::resolve(None, &table).expect("valid config")
}

/// Palmer penguins end to end, as the README shows it: train with `--missing drop`, evaluate,
/// predict rows.
#[test]
fn penguins_species_above_95_percent() {
    let Some(csv) = penguins_or_skip("penguins_species_above_95_percent") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = tmp.path().join("run");
    let trained = gpu_mlp(&[
        "train",
        "--config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/configs/penguins.toml"),
        "--data",
        path(&csv),
        "--device",
        "cpu",
        "--out",
        path(&run),
    ]);
    let text = String::from_utf8_lossy(&trained.stdout);
    assert!(trained.status.success(), "{}", stderr(&trained));
    assert!(
        stderr(&trained).contains("dropped 11 of 344 rows"),
        "{}",
        stderr(&trained)
    );
    assert!(text.contains("classes Adelie, Chinstrap, Gentoo"), "{text}");
    let eval = gpu_mlp(&["eval", "--checkpoint", path(&run), "--json"]);
    assert!(eval.status.success(), "{}", stderr(&eval));
    let result: serde_json::Value = serde_json::from_slice(&eval.stdout).expect("JSON");
    let accuracy = result["accuracy"].as_f64().expect("accuracy");
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    assert_eq!(result["samples"].as_u64(), Some(67), "a stratified fifth of 333 rows");
    let auc = result["roc_auc"].as_f64().expect("macro one-vs-rest AUC");
    assert!(auc >= 0.95, "AUC {auc}");
    assert_eq!(result["classes_present"].as_u64(), Some(3));
    // The history records the test AUC of every epoch.
    let history = std::fs::read_to_string(run.join("history.csv")).expect("history");
    assert!(
        history.lines().next().is_some_and(|h| h.contains(",test_auc,")),
        "{history}"
    );
    assert!(
        history
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(10).is_some_and(|auc| !auc.is_empty())),
        "an AUC on every line: {history}"
    );
    // The first three rows (Adelie), target column left in: it is ignored.
    // From another working directory, with the table given relative to the first: the run
    // recorded where it is.
    let copy = tmp.path().join("penguins.csv");
    std::fs::copy(&csv, &copy).expect("copy");
    let relative = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args([
            "train",
            "--data",
            "penguins.csv",
            "--target",
            "species",
            "--missing",
            "drop",
        ])
        .args(["--epochs", "1", "--device", "cpu", "--quiet", "--out", "relative"])
        .current_dir(tmp.path())
        .output()
        .expect("trains");
    assert!(relative.status.success(), "{}", stderr(&relative));
    let elsewhere = gpu_mlp(&["eval", "--checkpoint", path(&tmp.path().join("relative"))]);
    assert!(elsewhere.status.success(), "{}", stderr(&elsewhere));
    let rows = tmp.path().join("rows.csv");
    let all = std::fs::read_to_string(&csv).expect("csv");
    let head: Vec<&str> = all.lines().take(4).collect();
    std::fs::write(&rows, head.join("\n")).expect("write");
    let predicted = gpu_mlp(&["predict", "--checkpoint", path(&run), "--data", path(&rows)]);
    assert!(predicted.status.success(), "{}", stderr(&predicted));
    let lines: Vec<String> = String::from_utf8_lossy(&predicted.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert!(lines[0].starts_with("line,predicted,probability,top2"), "{lines:?}");
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[1..].iter().all(|l| l.contains(",Adelie,")), "{lines:?}");
}

/// Quoted fields with commas, a BOM, CRLF line ends, a categorical column, a constant column
/// and missing values filled with the training mean: the features come out as documented.
#[test]
fn edge_files_are_read_and_encoded_as_documented() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let csv = tmp.path().join("edge.csv");
    let mut text = String::from("\u{feff}id,size,\"colour, shade\",constant,label\r\n");
    for i in 0..40 {
        let colour = ["\"red, dark\"", "blue", "green"][i % 3];
        let size = if i == 7 { "NA".to_string() } else { (i % 5).to_string() };
        text.push_str(&format!("{i},{size},{colour},3.5,{}\r\n", ["yes", "no"][i % 2]));
    }
    std::fs::write(&csv, text).expect("write");
    let data = config(&format!(
        "data = {:?}\ntarget = \"label\"\nignore = [\"id\"]\nmissing = \"mean\"\ndevice = \"cpu\"",
        path(&csv)
    ))
    .load_data()
    .expect("loads");
    let codec = data.table.as_ref().expect("a table codec");
    assert_eq!(data.class_names, ["no", "yes"]);
    assert_eq!(
        codec.describe(),
        "size (numeric), colour, shade (3 categories), constant (numeric)"
    );
    assert_eq!(data.train.dim, 5);
    assert_eq!(
        (data.train.len(), data.test.as_ref().map(|t| t.len())),
        (32, Some(8)),
        "a stratified fifth"
    );
    let Features::F32(values) = &data.train.features else {
        panic!("tables are f32")
    };
    assert!(values.iter().all(|v| v.is_finite()), "a constant column gives no NaN");
    for row in values.chunks_exact(5) {
        assert_eq!(row[4], 0.0, "the constant column standardizes to 0");
        assert_eq!(row[1..4].iter().sum::<f32>(), 1.0, "one-hot: {row:?}");
    }
    // The numeric column has mean 0 and variance 1 over the training rows.
    let size: Vec<f64> = values.chunks_exact(5).map(|r| f64::from(r[0])).collect();
    let mean = size.iter().sum::<f64>() / size.len() as f64;
    assert!(mean.abs() < 1e-5, "mean {mean}");
}

/// A run on a table trains the same on the GPU as on the CPU (f32 features through the gather
/// kernel): final weights within 1e-4.
#[test]
fn a_table_run_trains_the_same_on_the_gpu() {
    if common::gpu_or_skip("a_table_run_trains_the_same_on_the_gpu").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let csv = tmp.path().join("t.csv");
    let mut text = String::from("a,b,kind,c,class\n");
    for i in 0..301u32 {
        let (a, b) = ((i * 37 % 101) as f32 / 10.0, (i * 53 % 89) as f32 - 40.0);
        let class = if a * 3.0 + b > 10.0 { "high" } else { "low" };
        text.push_str(&format!(
            "{a},{b},{},{},{class}\n",
            ["x", "y", "z"][i as usize % 3],
            i % 7
        ));
    }
    std::fs::write(&csv, text).expect("write");
    let params = |device: &str| {
        let mut run = Run::new(&config(&format!(
            "data = {:?}\ntarget = \"class\"\nhidden = [9, 7]\nbatch_size = 13\nepochs = 3\noptimizer = \"adam\"\ndevice = \"{device}\"",
            path(&csv)
        )))
        .expect("run builds");
        run.train(&mut |_: Event<'_>| {}).expect("trains");
        run.backend().parameters().expect("parameters")
    };
    common::assert_close("table run weights", &params("gpu"), &params("cpu"), 1e-4);
}

/// A million rows load in seconds, within a bounded address space.
#[test]
fn a_million_rows_load_in_seconds_with_bounded_memory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let csv = tmp.path().join("big.csv");
    let mut text = String::with_capacity(30 << 20);
    text.push_str("x,y,group,label\n");
    for i in 0..1_000_000u64 {
        text.push_str(&format!("{},{},g{},{}\n", i % 1000, (i * 7) % 113, i % 4, i % 3));
    }
    std::fs::write(&csv, text).expect("write");
    let start = std::time::Instant::now();
    let out = common::run_bounded(
        env!("CARGO_BIN_EXE_gpu-mlp"),
        &[
            "train",
            "--data",
            path(&csv),
            "--target",
            "label",
            "--device",
            "cpu",
            "--hidden",
            "4",
            "--epochs",
            "1",
            "--batch-size",
            "4096",
            "--out",
            path(&tmp.path().join("run")),
            "--quiet",
        ],
        2 << 30,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}

/// Every bad file or setting: exit 2, one line naming the file (and the line and column where
/// there is one), and no run directory.
#[test]
fn bad_tables_name_the_file_line_and_column() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let good = "a,colour,label\n1,red,x\n2,blue,y\n3,red,x\n4,blue,y\n5,red,x\n6,blue,y\n";
    write("good.csv", good);
    write("header-only.csv", "a,colour,label\n");
    write("one-row.csv", "a,colour,label\n1,red,x\n");
    write("ragged.csv", "a,colour,label\n1,red,x\n2,blue\n");
    write("missing.csv", "a,colour,label\n1,red,x\nNA,blue,y\n");
    write("unseen.csv", "a,colour,label\n1,green,x\n2,blue,y\n");
    write("empty.csv", "");
    std::fs::write(dir.join("latin1.csv"), b"a,colour,label\n1,r\xe9d,x\n2,blue,y\n").expect("write");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--data", "header-only.csv", "--target", "label"],
            &["header-only.csv", "no rows"],
        ),
        (
            &["--data", "one-row.csv", "--target", "label"],
            &["test-split", "two rows"],
        ),
        (
            &["--data", "ragged.csv", "--target", "label"],
            &["ragged.csv: line 3", "2 fields, the header 3"],
        ),
        (
            &["--data", "missing.csv", "--target", "label"],
            &["missing.csv: line 3, column `a`", "--missing"],
        ),
        (
            &["--data", "good.csv", "--target", "labels"],
            &["good.csv: column `labels`", "a, colour, label"],
        ),
        (
            &["--data", "good.csv", "--target", "label", "--ignore", "b"],
            &["column `b`"],
        ),
        (
            &["--data", "good.csv", "--target", "label", "--test-data", "unseen.csv"],
            &["unseen.csv: line 2, column `colour`", "`green`"],
        ),
        (&["--data", "empty.csv", "--target", "label"], &["empty.csv"]),
        (&["--data", "latin1.csv", "--target", "label"], &["latin1.csv", "UTF-8"]),
        (&["--data", "good.csv"], &["target", "required"]),
        (
            &["--data", "good.csv", "--target", "label", "--normalize", "pm1"],
            &["normalize"],
        ),
        (
            &["--data", "good.csv", "--target", "label", "--test-split", "1.5"],
            &["test-split"],
        ),
        (
            &["--data", "missing-file.csv", "--target", "label"],
            &["missing-file.csv", "does not exist"],
        ),
    ];
    let mut failures = Vec::new();
    for (args, says) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
            .arg("train")
            .args(*args)
            .args(["--device", "cpu", "--out", "run"])
            .current_dir(dir)
            .output()
            .expect("runs");
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("warning:")).collect();
        let fine = out.status.code() == Some(2)
            && lines.len() == 1
            && says.iter().all(|s| err.contains(s))
            && !dir.join("run").exists();
        if !fine {
            failures.push(format!("{args:?}: exit {:?}: {err}", out.status.code()));
        }
        let _ = std::fs::remove_dir_all(dir.join("run"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A table of `rows` rows: six numeric columns, a categorical one and a class that depends on
/// them (seeded, so every call writes the same file).
fn write_table(path: &Path, rows: usize) {
    use rand::Rng as _;
    let mut rng = common::rng(11);
    let mut text = String::from("x1,x2,x3,x4,x5,x6,colour,class\n");
    for _ in 0..rows {
        let x: Vec<f32> = (0..6).map(|_| rng.random_range(-2.0..2.0)).collect();
        let colour = ["red", "green", "blue"][rng.random_range(0..3)];
        let class = ["low", "mid", "high"][usize::from(x[0] + x[1] > 0.5) + usize::from(x[2] > 1.0)];
        let cells: Vec<String> = x.iter().map(|v| format!("{v:.4}")).collect();
        text += &format!("{},{colour},{class}\n", cells.join(","));
    }
    std::fs::write(path, text).expect("write table");
}

/// A CPU table run long enough to be interrupted mid-epoch.
fn table_run(csv: &Path, run: &Path, epochs: usize) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"));
    cmd.args(["train", "--data", path(csv), "--target", "class", "--device", "cpu"])
        .args([
            "--hidden",
            "64",
            "--batch-size",
            "8",
            "--optimizer",
            "adam",
            "--val-split",
            "0.1",
        ])
        .args(["--epochs", &epochs.to_string(), "--out", path(run)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    cmd
}

fn last_checkpoint(run: &Path) -> gpu_mlp::checkpoint::Checkpoint {
    gpu_mlp::checkpoint::Checkpoint::load(&run.join("last.safetensors")).expect("a whole checkpoint")
}

/// Ctrl-C, SIGTERM and kill -9 during a table run: each resumes (the run's own config.toml,
/// the table checked unchanged) and ends with exactly the weights and optimizer state of a run
/// that was never stopped.
#[test]
fn an_interrupted_table_run_resumes_exactly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let csv = tmp.path().join("table.csv");
    write_table(&csv, 20_000);
    for (signal, code) in [("-INT", Some(130)), ("-TERM", Some(143)), ("-KILL", None)] {
        let run = tmp.path().join(format!("run{signal}"));
        let child = table_run(&csv, &run, 1000).spawn().expect("starts");
        common::wait_for(&run.join("history.json"));
        std::thread::sleep(std::time::Duration::from_millis(150));
        let (exit, said) = common::signal_and_wait(child, signal);
        assert_eq!(exit, code, "{signal}: {said}");
        let saved = last_checkpoint(&run);
        let target = saved.meta.epoch + 1;
        let resumed = gpu_mlp(&[
            "train",
            "--resume",
            path(&run),
            "--epochs",
            &target.to_string(),
            "--quiet",
        ]);
        assert!(resumed.status.success(), "{signal}: {}", stderr(&resumed));
        let straight_dir = tmp.path().join(format!("straight{signal}"));
        let straight = table_run(&csv, &straight_dir, target).output().expect("runs");
        assert!(straight.status.success(), "{}", stderr(&straight));
        let (x, y) = (last_checkpoint(&run), last_checkpoint(&straight_dir));
        assert_eq!(x.meta.epoch, target);
        assert!(
            x.params == y.params && x.optimizer_state == y.optimizer_state,
            "{signal}: resumed weights differ from an uninterrupted run (stopped at epoch {} + {} steps)",
            saved.meta.epoch,
            saved.meta.steps_into_epoch
        );
    }
}

/// A table run's config.toml trains the same run again; a resume whose table grew, changed or
/// vanished since the run started is refused naming the file and what happened to it.
#[test]
fn a_table_run_reruns_from_its_config_and_refuses_a_changed_table() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let csv = tmp.path().join("table.csv");
    write_table(&csv, 300);
    let run = tmp.path().join("run");
    let first = table_run(&csv, &run, 2).output().expect("runs");
    assert!(first.status.success(), "{}", stderr(&first));
    let config = std::fs::read_to_string(run.join("config.toml")).expect("config.toml");
    assert!(
        !config.contains("dataset"),
        "a table run's config names no dataset:\n{config}"
    );
    let rerun_dir = tmp.path().join("rerun");
    let rerun = gpu_mlp(&[
        "train",
        "--config",
        path(&run.join("config.toml")),
        "--out",
        path(&rerun_dir),
        "--quiet",
    ]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert!(last_checkpoint(&rerun_dir).params == last_checkpoint(&run).params);

    let original = std::fs::read(&csv).expect("read table");
    let mut changed = original.clone();
    let digit = changed.iter().position(u8::is_ascii_digit).expect("a digit");
    changed[digit] = if changed[digit] == b'1' { b'2' } else { b'1' };
    let mut grown = original.clone();
    grown.extend_from_slice(b"0.1,0.2,0.3,0.4,0.5,0.6,red,low\n");
    for (what, bytes) in [
        ("grew from", Some(grown)),
        ("changed (SHA-256", Some(changed)),
        ("is gone", None),
    ] {
        match bytes {
            Some(bytes) => std::fs::write(&csv, bytes).expect("rewrite table"),
            None => std::fs::remove_file(&csv).expect("remove table"),
        }
        let resumed = gpu_mlp(&["train", "--resume", path(&run), "--epochs", "3"]);
        let err = stderr(&resumed);
        assert_eq!(resumed.status.code(), Some(2), "{err}");
        assert!(err.contains("table.csv") && err.contains(what), "{what}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    std::fs::write(&csv, original).expect("restore table");
    let resumed = gpu_mlp(&["train", "--resume", path(&run), "--epochs", "3", "--quiet"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(last_checkpoint(&run).meta.epoch, 3);
}

/// Column lookups are by name through an index, so a table of 2·10⁵ columns loads, trains an
/// epoch and saves well inside the two-minute deadline (quadratic lookups took minutes).
#[test]
fn a_table_of_two_hundred_thousand_columns_trains_within_the_deadline() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let csv = tmp.path().join("wide.csv");
    let columns = 200_000;
    let mut text: String = (0..columns).map(|c| format!("c{c},")).collect();
    text += "class\n";
    for row in 0..10 {
        let cells: String = (0..columns).map(|c| format!("{},", (c * 7 + row * 3) % 10)).collect();
        text += &format!("{cells}{}\n", row % 2);
    }
    std::fs::write(&csv, text).expect("write table");
    let run = tmp.path().join("run");
    let args = [
        "train",
        "--data",
        path(&csv),
        "--target",
        "class",
        "--device",
        "cpu",
        "--hidden",
        "4",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        path(&run),
    ];
    let out = common::run_bounded(env!("CARGO_BIN_EXE_gpu-mlp"), &args, 8 << 30);
    assert!(out.status.success(), "{}", stderr(&out));
    let checkpoint = last_checkpoint(&run);
    assert_eq!(checkpoint.meta.sizes[0], columns);
}

/// Rows to predict: an id, the training columns, a quoted note spanning two lines (row 2), and
/// a bad value on the file's line 6 when `bad`; `newline` ends every line.
fn rows_to_predict(newline: &str, bad: bool) -> String {
    let rows = [
        ("a7", "0.5", "\"fine\""),
        ("b2", "-1.0", "\"two\nlines\""),
        ("c9", "1.5", "\"x\""),
        ("d4", if bad { "oops" } else { "0.1" }, "\"y\""),
    ];
    let mut text = format!("id,x1,x2,x3,x4,x5,x6,colour,note{newline}");
    for (id, x1, note) in rows {
        text += &format!(
            "{id},{x1},0.2,0.3,0.4,0.5,0.6,red,{}{newline}",
            note.replace('\n', newline)
        );
    }
    text
}

/// Line numbers are the file's physical lines (header: line 1), the same with LF and CRLF, in
/// predictions and in errors; `--keep` carries key columns through, and by default the columns
/// training ignored.
#[test]
fn predictions_name_physical_lines_and_carry_key_columns() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("train.csv");
    write_table(&csv, 300);
    let with_id = dir.path().join("train_id.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let mut with_ids = format!("id,{}\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        with_ids += &format!("r{i},{line}\n");
    }
    std::fs::write(&with_id, with_ids).unwrap();
    let run = dir.path().join("run");
    let trained = gpu_mlp(&[
        "train",
        "--data",
        path(&with_id),
        "--target",
        "class",
        "--ignore",
        "id",
        "--device",
        "cpu",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        path(&run),
    ]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    for newline in ["\n", "\r\n"] {
        let rows = dir.path().join("rows.csv");
        std::fs::write(&rows, rows_to_predict(newline, false)).unwrap();
        let predict = |extra: &[&str]| {
            let mut args = vec!["predict", "--checkpoint", path(&run), "--data", path(&rows)];
            args.extend(extra);
            let out = gpu_mlp(&args);
            assert!(out.status.success(), "{}", stderr(&out));
            String::from_utf8(out.stdout).unwrap()
        };
        let by_default = predict(&[]);
        let table: Vec<Vec<&str>> = by_default.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(table[0][..3], ["line", "id", "predicted"], "{by_default}");
        let lines_and_ids: Vec<(&str, &str)> = table[1..].iter().map(|r| (r[0], r[1])).collect();
        assert_eq!(
            lines_and_ids,
            [("2", "a7"), ("3", "b2"), ("5", "c9"), ("6", "d4")],
            "{newline:?}"
        );
        let kept = predict(&["--keep", "note,id"]);
        assert!(kept.starts_with("line,note,id,predicted"), "{kept}");
        assert!(kept.contains(&format!("3,\"two{newline}lines\",b2,")), "{kept}");
        let missing = gpu_mlp(&[
            "predict",
            "--checkpoint",
            path(&run),
            "--data",
            path(&rows),
            "--keep",
            "key",
        ]);
        assert_eq!(missing.status.code(), Some(2));
        assert!(
            stderr(&missing).contains("`key`") && stderr(&missing).contains("is not a column"),
            "{}",
            stderr(&missing)
        );
        std::fs::write(&rows, rows_to_predict(newline, true)).unwrap();
        let bad = gpu_mlp(&["predict", "--checkpoint", path(&run), "--data", path(&rows)]);
        assert!(
            stderr(&bad).contains("rows.csv: line 6, column `x1`"),
            "{newline:?}: {}",
            stderr(&bad)
        );
    }
}

/// `--missing mean` says how many values it filled, per column; a model of a two-column table
/// predicts a `--point` as it predicts the same row from a file.
#[test]
fn mean_filling_is_counted_and_a_two_column_table_takes_a_point() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("two.csv");
    let mut text = String::from("x,y,label\n");
    for i in 0..200 {
        let (x, y) = ((i % 20) as f32 / 10.0 - 1.0, (i / 20) as f32 / 5.0 - 1.0);
        let x = if i % 50 == 3 { "NA".to_string() } else { x.to_string() };
        let y = if i % 40 == 7 { String::new() } else { y.to_string() };
        text += &format!("{x},{y},{}\n", if i % 20 < 10 { "left" } else { "right" });
    }
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    let trained = gpu_mlp(&[
        "train",
        "--data",
        path(&csv),
        "--target",
        "label",
        "--missing",
        "mean",
        "--device",
        "cpu",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        path(&run),
    ]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    assert!(
        stderr(&trained).contains("two.csv: filled 9 missing values") && stderr(&trained).contains(": x 4, y 5"),
        "{}",
        stderr(&trained)
    );
    let by_point = gpu_mlp(&[
        "predict",
        "--checkpoint",
        path(&run),
        "--point=0.7,-0.2",
        "--top-k",
        "2",
    ]);
    assert!(by_point.status.success(), "{}", stderr(&by_point));
    let rows = dir.path().join("rows.csv");
    std::fs::write(&rows, "x,y\n0.7,-0.2\n").unwrap();
    let by_row = gpu_mlp(&["predict", "--checkpoint", path(&run), "--data", path(&rows)]);
    let row = String::from_utf8_lossy(&by_row.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let fields: Vec<&str> = row.split(',').collect();
    let point = String::from_utf8_lossy(&by_point.stdout).into_owned();
    let first = point.lines().next().unwrap();
    let percent: f64 = first
        .split_whitespace()
        .last()
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(first.contains(fields[1]), "{point} vs {row}");
    assert!(
        (percent - 100.0 * fields[2].parse::<f64>().unwrap()).abs() < 0.01,
        "{point} vs {row}"
    );
    let wrong = gpu_mlp(&["predict", "--checkpoint", path(&run), "--point=1,2,3"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("3 values given; the model reads 2 columns: x, y"),
        "{}",
        stderr(&wrong)
    );
}

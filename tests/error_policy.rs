//! The command line's error policy, case by case from one table: bad input exits 2 with one line
//! naming the file, flag or key and what was expected (clap's own hints kept whole); missing
//! data exits 1 naming where it looked and `--download`; nothing is written. Each case runs as a
//! child process under an address-space limit and a deadline, so a bomb that allocates or a
//! read that blocks fails the test instead of the machine.

#![cfg(unix)]

use crate::common;

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use gpu_mlp::data::idx::{encode, IMAGES_MAGIC, LABELS_MAGIC};

/// Address space each case may use: far below what the bombs would take.
const MEMORY_LIMIT: u64 = 3 << 30;

struct Case {
    name: &'static str,
    /// Arguments; `{dir}` stands for the fixture directory.
    args: &'static [&'static str],
    code: i32,
    /// Fragments stderr must hold.
    says: &'static [&'static str],
    /// Whether stderr is one `error:` line (clap's own messages span several).
    one_line: bool,
}

const fn bad(name: &'static str, args: &'static [&'static str], says: &'static [&'static str]) -> Case {
    Case {
        name,
        args,
        code: 2,
        says,
        one_line: true,
    }
}

const fn clap(name: &'static str, args: &'static [&'static str], says: &'static [&'static str]) -> Case {
    Case {
        name,
        args,
        code: 2,
        says,
        one_line: false,
    }
}

/// Valid input that must succeed within the memory limit and the deadline.
const fn good(name: &'static str, args: &'static [&'static str]) -> Case {
    Case {
        name,
        args,
        code: 0,
        says: &[],
        one_line: false,
    }
}

const CASES: &[Case] = &[
    // clap: the whole message, valid values and suggestions included.
    clap(
        "unknown flag",
        &["train", "--epoch", "2"],
        &["unexpected argument '--epoch'", "--epochs", "Usage:"],
    ),
    clap(
        "negative batch index",
        &["explain", "--batch", "-1"],
        &["'--batch <BATCH>'", "expected a whole number ≥ 0, got -1"],
    ),
    clap(
        "negative seed",
        &["train", "--seed", "-1"],
        &["'--seed <SEED>'", "expected a whole number ≥ 0, got -1"],
    ),
    clap(
        "negative epochs",
        &["train", "--epochs", "-3"],
        &["'--epochs <EPOCHS>'", "expected a whole number ≥ 0, got -3"],
    ),
    good(
        "explain with dropout",
        &[
            "explain",
            "--dataset",
            "blobs",
            "--hidden",
            "8",
            "--batch-size",
            "16",
            "--dropout",
            "0.5",
        ],
    ),
    clap(
        "bad enum value",
        &["train", "--optimizer", "adamx"],
        &["invalid value 'adamx'", "possible values", "adamw"],
    ),
    clap(
        "missing input",
        &["predict", "--checkpoint", "{dir}/run"],
        &["required arguments were not provided", "--index"],
    ),
    clap(
        "top-k 0",
        &["predict", "--checkpoint", "{dir}/run", "--index", "0", "--top-k", "0"],
        &["--top-k", "0 is not in 1.."],
    ),
    clap(
        "bad hidden list",
        &["train", "--hidden", "64,x"],
        &["invalid value 'x'", "expected a whole number"],
    ),
    clap(
        "list given as separate words",
        &["train", "--hidden", "128", "64"],
        &["unexpected argument '64'", "tip: --hidden takes a comma-separated list: --hidden 128,64"],
    ),
    // Settings: the flag and what was expected.
    bad(
        "negative lr",
        &[
            "train",
            "--dataset",
            "blobs",
            "--device",
            "cpu",
            "--lr",
            "-1",
            "--out",
            "{dir}/out",
        ],
        &["lr", "> 0"],
    ),
    bad(
        "batch size 0",
        &[
            "train",
            "--dataset",
            "blobs",
            "--device",
            "cpu",
            "--batch-size",
            "0",
            "--out",
            "{dir}/out",
        ],
        &["batch-size"],
    ),
    bad(
        "validation rounds to nothing",
        &[
            "train",
            "--dataset",
            "blobs",
            "--device",
            "cpu",
            "--val-split",
            "0.0001",
            "--out",
            "{dir}/out",
        ],
        &["val-split", "0"],
    ),
    bad(
        "patience without validation",
        &[
            "train",
            "--dataset",
            "blobs",
            "--device",
            "cpu",
            "--patience",
            "2",
            "--out",
            "{dir}/out",
        ],
        &["--val-split"],
    ),
    // Config files: the file, the key, what was expected.
    bad(
        "config missing",
        &["train", "--config", "{dir}/missing.toml"],
        &["missing.toml"],
    ),
    bad(
        "config is a directory",
        &["train", "--config", "{dir}"],
        &["is a directory", "expected a file"],
    ),
    bad(
        "config is a FIFO",
        &["train", "--config", "{dir}/fifo"],
        &["fifo", "not a regular file"],
    ),
    bad(
        "config is /dev/zero",
        &["train", "--config", "/dev/zero"],
        &["/dev/zero"],
    ),
    bad(
        "config key of the wrong type",
        &["train", "--config", "{dir}/wrong-type.toml"],
        &["wrong-type.toml", "lr"],
    ),
    bad(
        "config key unknown",
        &["train", "--config", "{dir}/unknown-key.toml"],
        &["unknown-key.toml", "lrr"],
    ),
    bad(
        "config not UTF-8",
        &["train", "--config", "{dir}/latin1.toml"],
        &["latin1.toml", "UTF-8"],
    ),
    // Memory bombs: refused with the numbers before anything is allocated.
    bad(
        "model beyond memory",
        &[
            "train",
            "--dataset",
            "blobs",
            "--device",
            "cpu",
            "--hidden",
            "1000000,1000",
            "--out",
            "{dir}/out",
        ],
        &["hidden", "GiB"],
    ),
    bad(
        "synthetic data beyond memory",
        &[
            "train",
            "--dataset",
            "blobs",
            "--device",
            "cpu",
            "--samples",
            "300000000000",
            "--out",
            "{dir}/out",
        ],
        &["samples", "GiB"],
    ),
    bad(
        "gzip bomb",
        &[
            "train",
            "--dataset",
            "mnist",
            "--data-dir",
            "{dir}/bomb",
            "--device",
            "cpu",
            "--out",
            "{dir}/out",
        ],
        &["train-images-idx3-ubyte.gz", "inflates past"],
    ),
    bad(
        "image header bomb",
        &["predict", "--checkpoint", "{dir}/run", "--image", "{dir}/huge.png"],
        &["huge.png", "65535×65535"],
    ),
    bad(
        "image is a FIFO",
        &["predict", "--checkpoint", "{dir}/run", "--image", "{dir}/fifo"],
        &["fifo", "not a regular file"],
    ),
    // Runs and checkpoints.
    bad(
        "existing run",
        &["train", "--dataset", "blobs", "--device", "cpu", "--out", "{dir}/run"],
        &["--resume", "--force"],
    ),
    bad("resume a non-run", &["train", "--resume", "{dir}/bomb"], &["bomb"]),
    bad(
        "checkpoint missing",
        &["eval", "--checkpoint", "{dir}/missing.safetensors"],
        &["missing.safetensors"],
    ),
    bad(
        "checkpoint with NaN",
        &["eval", "--checkpoint", "{dir}/nan.safetensors"],
        &["nan.safetensors", "NaN", "finite"],
    ),
    bad(
        "export over a file",
        &["export", "{dir}/run", "--out", "{dir}/wrong-type.toml"],
        &["wrong-type.toml", "already exists"],
    ),
    // Counts and seeds beyond what a config can hold name the flag and the range.
    clap(
        "epochs beyond range",
        &["train", "--epochs", "10000000000000000000"],
        &["--epochs", "0..=9223372036854775807"],
    ),
    clap(
        "seed beyond range",
        &["train", "--seed", "10000000000000000000"],
        &["--seed", "0..=9223372036854775807"],
    ),
    clap(
        "boundary-every beyond range",
        &["train", "--boundary-every", "10000000000000000000"],
        &["--boundary-every", "0..=9223372036854775807"],
    ),
    // Negative numbers are values, judged by the setting's range.
    bad(
        "lr -inf",
        &["train", "--dataset", "blobs", "--device", "cpu", "--lr", "-inf", "--out", "{dir}/out"],
        &["--lr", "> 0", "-inf"],
    ),
    bad(
        "negative dropout",
        &["train", "--dataset", "blobs", "--device", "cpu", "--dropout", "-0.1", "--out", "{dir}/out"],
        &["--dropout", "[0, 1)", "-0.1"],
    ),
    bad(
        "negative val-split",
        &["train", "--dataset", "blobs", "--device", "cpu", "--val-split", "-0.1", "--out", "{dir}/out"],
        &["--val-split", "-0.1"],
    ),
    bad(
        "negative test-split",
        &["train", "--dataset", "blobs", "--device", "cpu", "--test-split", "-0.5", "--out", "{dir}/out"],
        &["--test-split", "-0.5"],
    ),
    good(
        "a negative point",
        &["predict", "--checkpoint", "{dir}/blobs-run", "--point", "-0.5,1.2"],
    ),
    bad(
        "a NaN point",
        &["predict", "--checkpoint", "{dir}/blobs-run", "--point", "nan,1"],
        &["--point", "finite"],
    ),
    bad(
        "an infinite point",
        &["predict", "--checkpoint", "{dir}/blobs-run", "--point", "inf,0"],
        &["--point", "finite"],
    ),
    // Table values a checkpoint could not hold, or spelled like numbers but not numbers.
    bad(
        "table value beyond f32",
        &["train", "--data", "{dir}/e300.csv", "--target", "y", "--device", "cpu", "--out", "{dir}/out"],
        &["e300.csv: line 4, column `a`", "`1e300`", "32-bit float"],
    ),
    bad(
        "table value beyond f64",
        &["train", "--data", "{dir}/e400.csv", "--target", "y", "--device", "cpu", "--out", "{dir}/out"],
        &["e400.csv: line 4, column `a`", "`1e400`"],
    ),
    bad(
        "table value in hex",
        &["train", "--data", "{dir}/hex.csv", "--target", "y", "--device", "cpu", "--out", "{dir}/out"],
        &["hex.csv: line 4, column `a`", "`0x1A`", "--categorical"],
    ),
    bad(
        "table value with underscores",
        &["train", "--data", "{dir}/underscore.csv", "--target", "y", "--device", "cpu", "--out", "{dir}/out"],
        &["underscore.csv: line 4, column `a`", "`1_000`"],
    ),
    bad(
        "table is a FIFO",
        &["train", "--data", "{dir}/fifo", "--target", "y", "--device", "cpu", "--out", "{dir}/out"],
        &["fifo", "not a regular file"],
    ),
    bad(
        "too many classes",
        &["train", "--data", "{dir}/classes.csv", "--target", "y", "--device", "cpu", "--out", "{dir}/out"],
        &["classes.csv: line 1002, column `y`", "more than 1000"],
    ),
    bad(
        "one-hot columns beyond memory",
        &["train", "--data", "{dir}/ids.csv", "--target", "y", "--device", "cpu", "--out", "{dir}/out"],
        &["ids.csv", "GiB"],
    ),
    bad(
        "stratifying one-row classes",
        &["train", "--data", "{dir}/singletons.csv", "--target", "y", "--device", "cpu", "--out", "{dir}/out"],
        &["test-split", "two rows", "--test-data"],
    ),
    bad(
        "dropping every row",
        &[
            "train", "--data", "{dir}/all-missing.csv", "--target", "y", "--missing", "drop", "--device", "cpu", "--out",
            "{dir}/out",
        ],
        &["all-missing.csv", "--missing drop leaves none"],
    ),
    // Memory bounded by everything the input declares.
    good(
        "a wide layer's plots within memory",
        &[
            "train", "--dataset", "blobs", "--samples", "100", "--hidden", "1000000", "--epochs", "1", "--device", "cpu",
            "--quiet", "--out", "{dir}/wide",
        ],
    ),
    bad(
        "explain beyond memory",
        &["explain", "--dataset", "blobs", "--hidden", "100000000"],
        &["hidden", "GiB"],
    ),
    bad(
        "sweep grid too large",
        &[
            "train", "--dataset", "blobs", "--device", "cpu", "--sweep", "lr=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40", "--sweep", "seed=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30", "--out",
            "{dir}/out",
        ],
        &["sweep", "40 lr × 30 seed", "1000 runs"],
    ),
    // Output paths: one line, exit 2, before any work.
    bad(
        "out onto a file",
        &["train", "--dataset", "blobs", "--device", "cpu", "--out", "{dir}/wrong-type.toml"],
        &["wrong-type.toml", "is a file"],
    ),
    bad(
        "out onto a device",
        &["train", "--dataset", "blobs", "--device", "cpu", "--out", "/dev/null"],
        &["/dev/null", "not a regular directory"],
    ),
    bad(
        "out onto a symlink",
        &["train", "--dataset", "blobs", "--device", "cpu", "--out", "{dir}/link"],
        &["link", "symbolic link"],
    ),
    bad(
        "out onto a dangling link",
        &["train", "--dataset", "blobs", "--device", "cpu", "--out", "{dir}/dangling"],
        &["dangling", "symbolic link"],
    ),
    bad(
        "out onto a link loop",
        &["train", "--dataset", "blobs", "--device", "cpu", "--out", "{dir}/loop1"],
        &["loop1", "symbolic link"],
    ),
    bad(
        "data-dir is a file",
        &["train", "--dataset", "mnist", "--data-dir", "{dir}/wrong-type.toml", "--out", "{dir}/out"],
        &["--data-dir", "not a directory"],
    ),
    bad(
        "plot of a file",
        &["plot", "{dir}/wrong-type.toml"],
        &["wrong-type.toml", "expected a run directory"],
    ),
    bad(
        "plot of a missing second run",
        &["plot", "{dir}/run", "{dir}/no-such-run"],
        &["no-such-run", "does not exist"],
    ),
    bad(
        "plot out onto a file",
        &["plot", "{dir}/run", "{dir}/blobs-run", "--out", "{dir}/wrong-type.toml"],
        &["wrong-type.toml", "is a file"],
    ),
    bad(
        "predict rows out onto a directory",
        &["predict", "--checkpoint", "{dir}/run", "--data", "{dir}/hex.csv", "--out", "{dir}/empty"],
        &["empty", "is a directory"],
    ),
    bad(
        "export under a missing folder",
        &["export", "{dir}/run", "--out", "{dir}/no-folder/model.safetensors"],
        &["no-folder/model.safetensors", "does not exist"],
    ),
    bad(
        "sweep into a used sweep directory",
        &["train", "--dataset", "blobs", "--device", "cpu", "--sweep", "lr=0.1,0.2", "--out", "{dir}/used-sweep"],
        &["used-sweep", "already holds files"],
    ),
    // A resume keeps the network and its optimizer, and names what the flags would change.
    bad(
        "resume with another optimizer",
        &["train", "--resume", "{dir}/run", "--optimizer", "adam"],
        &["--optimizer", "sgd", "adam"],
    ),
    bad(
        "resume with another loss",
        &["train", "--resume", "{dir}/run", "--loss", "binary-cross-entropy"],
        &["--loss", "softmax-cross-entropy", "binary-cross-entropy"],
    ),
    // Missing data: exit 1, where it looked, and how to get it.
    Case {
        name: "data dir without the dataset",
        args: &[
            "train",
            "--data-dir",
            "{dir}/empty",
            "--device",
            "cpu",
            "--out",
            "{dir}/out",
        ],
        code: 1,
        says: &["empty", "train-images-idx3-ubyte", "--download"],
        one_line: false,
    },
];

#[test]
fn every_bad_input_gets_its_exit_code_and_a_message_naming_it() {
    let fixtures = tempfile::tempdir().expect("temp dir");
    let dir = fixtures.path();
    write_fixtures(dir);
    let mut failures = Vec::new();
    for case in CASES {
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| a.replace("{dir}", &dir.display().to_string()))
            .collect();
        let out = common::run_bounded(env!("CARGO_BIN_EXE_gpu-mlp"), &args, MEMORY_LIMIT);
        let (code, stderr) = (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned());
        let mut wrong = Vec::new();
        if code != Some(case.code) {
            wrong.push(format!("exit {code:?}, expected {}", case.code));
        }
        for fragment in case.says {
            if !stderr.contains(fragment) {
                wrong.push(format!("no `{fragment}`"));
            }
        }
        if case.one_line && stderr.trim_end().lines().count() != 1 {
            wrong.push("not one line".into());
        }
        // The fixture directory is itself a temporary one: only a name under it counts.
        if stderr.replace(&dir.display().to_string(), "{dir}").contains(".tmp") {
            wrong.push("names a temporary file".into());
        }
        if dir.join("out").exists() {
            wrong.push("wrote a run directory".into());
            let _ = std::fs::remove_dir_all(dir.join("out"));
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}\n{stderr}", case.name, wrong.join(", ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let untouched: Vec<_> = std::fs::read_dir(dir.join("used-sweep"))
        .expect("the used sweep directory")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        untouched,
        ["table.txt"],
        "a refused sweep leaves its directory as it was"
    );
}

/// The files the cases name: bad configs, a FIFO, a gzip bomb, a PNG header bomb, a trained run
/// and a checkpoint holding a NaN.
fn write_fixtures(dir: &Path) {
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).expect("write fixture");
    write("wrong-type.toml", b"lr = \"fast\"\n");
    write("unknown-key.toml", b"lrr = 0.1\n");
    write("latin1.toml", b"# caf\xe9\nlr = 0.1\n");
    write("huge.png", &png_claiming(65535, 65535));
    let made = Command::new("mkfifo")
        .arg(dir.join("fifo"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    std::fs::create_dir(dir.join("empty")).expect("mkdir");
    write_tables(dir);
    std::fs::create_dir(dir.join("used-sweep")).expect("mkdir");
    write("used-sweep/table.txt", b"an earlier sweep's table\n");
    for (link, target) in [
        ("link", "empty"),
        ("dangling", "nowhere"),
        ("loop1", "loop2"),
        ("loop2", "loop1"),
    ] {
        std::os::unix::fs::symlink(target, dir.join(link)).expect("symlink");
    }
    train_blobs(&dir.join("blobs-run"));
    write_dataset(&dir.join("bomb"), 4, 64 << 20);
    write_dataset(&dir.join("tiny"), 4, 0);
    // A 4×4-image model, so `predict --image` reads the image.
    let trained = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(["train", "--epochs", "1", "--hidden", "8", "--quiet", "--device", "cpu"])
        .args(["--dataset", "mnist", "--data-dir"])
        .arg(dir.join("tiny"))
        .arg("--out")
        .arg(dir.join("run"))
        .output()
        .expect("trains");
    assert!(trained.status.success(), "{}", String::from_utf8_lossy(&trained.stderr));
    let mut checkpoint = gpu_mlp::checkpoint::Checkpoint::load(&dir.join("run/last.safetensors")).expect("loads");
    checkpoint.params[3] = f32::NAN;
    checkpoint.save(&dir.join("nan.safetensors")).expect("saves");
}

/// A one-epoch blobs run (a 2-4-2 model) in `run`.
fn train_blobs(run: &Path) {
    let trained = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args([
            "train",
            "--dataset",
            "blobs",
            "--epochs",
            "1",
            "--hidden",
            "4",
            "--quiet",
            "--device",
            "cpu",
        ])
        .arg("--out")
        .arg(run)
        .output()
        .expect("trains");
    assert!(trained.status.success(), "{}", String::from_utf8_lossy(&trained.stderr));
}

/// CSV tables with one bad value at line 4 (`a` of the third row), too many classes, one-row
/// classes and no complete row.
fn write_tables(dir: &Path) {
    let numbers = |bad: &str| {
        let mut text = String::from("a,b,y\n");
        for i in 0..20 {
            let a = if i == 2 {
                bad.to_string()
            } else {
                format!("{}.5", i % 7)
            };
            text += &format!("{a},{},{}\n", i % 3, ["p", "q"][i % 2]);
        }
        text
    };
    for (name, bad) in [
        ("e300", "1e300"),
        ("e400", "1e400"),
        ("hex", "0x1A"),
        ("underscore", "1_000"),
    ] {
        std::fs::write(dir.join(format!("{name}.csv")), numbers(bad)).expect("write fixture");
    }
    let many: String = (0..1500).map(|i| format!("{i},{},class{i}\n", i % 5)).collect();
    std::fs::write(dir.join("classes.csv"), format!("a,b,y\n{many}")).expect("write fixture");
    let ids: String = (0..100_000).map(|i| format!("id{i},{}\n", i % 2)).collect();
    std::fs::write(dir.join("ids.csv"), format!("id,y\n{ids}")).expect("write fixture");
    let singletons: String = (0..10).map(|i| format!("{i},{},c{i}\n", i % 3)).collect();
    std::fs::write(dir.join("singletons.csv"), format!("a,b,y\n{singletons}")).expect("write fixture");
    let holes: String = (0..10).map(|i| format!("{i},NA,c{}\n", i % 2)).collect();
    std::fs::write(dir.join("all-missing.csv"), format!("a,b,y\n{holes}")).expect("write fixture");
}

/// An MNIST-style dataset of two `side`×`side` images per split, gzip-compressed; the training
/// images padded with zeros to `inflate_to` bytes (a decompression bomb when that is far more
/// than their header promises).
fn write_dataset(dir: &Path, side: u32, inflate_to: usize) {
    std::fs::create_dir(dir).expect("mkdir");
    let gz = |bytes: &[u8]| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).expect("in-memory write");
        enc.finish().expect("in-memory gzip")
    };
    let pixels: Vec<u8> = (0..2 * side * side).map(|i| (i * 37 % 256) as u8).collect();
    let mut train_images = encode(IMAGES_MAGIC, &[2, side, side], &pixels);
    if inflate_to > train_images.len() {
        train_images.resize(inflate_to, 0);
    }
    let files: [(&str, Vec<u8>); 4] = [
        ("train-images-idx3-ubyte.gz", train_images),
        ("train-labels-idx1-ubyte.gz", encode(LABELS_MAGIC, &[2], &[0, 1])),
        (
            "t10k-images-idx3-ubyte.gz",
            encode(IMAGES_MAGIC, &[2, side, side], &pixels),
        ),
        ("t10k-labels-idx1-ubyte.gz", encode(LABELS_MAGIC, &[2], &[0, 1])),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), gz(&bytes)).expect("write fixture");
    }
}

/// A few hundred bytes of PNG whose header claims `width`×`height` 8-bit gray pixels.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
        out
    };
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut idat = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    idat.write_all(&[0; 4096]).expect("compress");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &idat.finish().expect("compress")));
    png.extend(chunk(b"IEND", &[]));
    png
}

/// A disk that fills while a file is written (simulated with a file-size limit, whose signal
/// is ignored so the write fails as on a full disk): the error names the file asked for, not
/// the temporary file beside it, and neither is left behind.
#[test]
fn a_full_disk_names_the_file_being_written() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (run, out) = (tmp.path().join("run"), tmp.path().join("model.safetensors"));
    train_blobs(&run);
    let mut export = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"));
    export.arg("export").arg(&run).arg("--out").arg(&out);
    {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: setrlimit and signal are async-signal-safe, as code between fork and exec must be.
        unsafe {
            export.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let limit = libc::rlimit {
                    rlim_cur: 256,
                    rlim_max: 256,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let done = export.output().expect("runs");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{}:", out.display())), "{stderr}");
    let under_tmp = stderr.replace(&tmp.path().display().to_string(), "{tmp}");
    assert!(!under_tmp.contains(".tmp"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["run"], "no file, whole or partial, is left behind");
}

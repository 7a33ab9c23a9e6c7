//! The `gpu-mlp` binary as a user runs it.

use crate::common;

use common::{gpu_mlp, gpu_mlp_in};

use std::process::{Command, Output};

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

/// Bad arguments: the first line names the flag and what was expected, clap's hints follow
/// whole (valid values, "did you mean", missing arguments by name), exit code 2.
#[test]
fn invalid_values_name_the_flag_and_exit_code_2() {
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
        assert!(
            lines[0].starts_with("error:") && lines[0].contains(flag),
            "{args:?}: {}",
            lines[0]
        );
    }
    let hints: [(&[&str], &[&str]); 3] = [
        (
            &["train", "--activation", "relux"],
            &["possible values: relu, tanh, sigmoid", "'relu'"],
        ),
        (
            &["train", "--optimiser", "adam"],
            &["unexpected argument '--optimiser'", "'--optimizer'"],
        ),
        (
            &["eval"],
            &["required arguments were not provided", "--checkpoint <CHECKPOINT>"],
        ),
    ];
    for (args, fragments) in hints {
        let out = gpu_mlp(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        for fragment in fragments {
            assert!(
                stderr(&out).contains(fragment),
                "{args:?}: no `{fragment}` in\n{}",
                stderr(&out)
            );
        }
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

/// `gpu-mlp bench` measures a configuration's training and every product it runs on both
/// paths, and lists each GPU dispatch of a step with its workgroups.
#[test]
fn bench_prints_the_throughput_table() {
    if common::gpu_or_skip("bench_prints_the_throughput_table").is_none() {
        return;
    }
    let out = gpu_mlp(&["bench", "--config", "S", "--repeats", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let row = |name: &str| {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no `{name}` row in:\n{stdout}"));
        line[name.len()..]
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let setup = gpu_mlp::bench::BenchConfig::S.setup();
    assert!(stdout.contains(&format!("== {}", setup.name())), "{stdout}");
    for shape in setup.products() {
        let cells = row(&shape.name);
        let rate = |i: usize| {
            cells[i]
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{shape:?}: {cells:?}"))
        };
        // FLOP/byte, the CPU's GFLOP/s and its share of the roofline, then the GPU's.
        let p = shape.product;
        let intensity = 2.0 * (p.m * p.k * p.n) as f64 / (4 * (p.m * p.k + p.k * p.n + p.m * p.n)) as f64;
        assert!(
            (rate(0) - intensity).abs() <= 0.05 + 1e-3 * intensity,
            "{}: {cells:?}",
            shape.name
        );
        assert!(rate(1) > 0.0 && rate(4) > 0.0, "{}: {cells:?}", shape.name);
        assert!(
            cells[2].ends_with('%') && cells[5].ends_with('%'),
            "{}: {cells:?}",
            shape.name
        );
    }
    assert!(row("training samples/s").len() >= 4, "{stdout}");
    for device in ["CPU peaks:", "GPU peaks:"] {
        let peaks = row(device);
        assert!(peaks[0].parse::<f64>().is_ok_and(|g| g > 0.0), "{peaks:?}");
        assert!(peaks.contains(&"FLOP/byte)".to_string()), "{peaks:?}");
    }
    let cpu_step = row("  cpu");
    assert!(cpu_step.iter().any(|c| c == "FMA"), "{cpu_step:?}");
    for entry in [
        "gather batch",
        "layer 1 forward",
        "loss + gradient",
        "layer 2 dX",
        "optimizer update",
    ] {
        row(entry);
    }
}

/// With `--fill-workgroups 132` (an H100's SM count), every product of S either launches ≥ 132
/// workgroups or walks ≤ 128 of k in each, and the JSON report says so dispatch by dispatch.
#[test]
fn bench_json_lists_each_dispatch_with_its_workgroups() {
    if common::gpu_or_skip("bench_json_lists_each_dispatch_with_its_workgroups").is_none() {
        return;
    }
    let out = gpu_mlp(&[
        "bench",
        "--config",
        "s",
        "--repeats",
        "1",
        "--json",
        "--fill-workgroups",
        "132",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bench --json prints JSON");
    assert_eq!(report["fill_workgroups"], 132);
    let config = &report["configs"][0];
    assert!(
        config["gpu_samples_per_s"].as_f64().is_some_and(|r| r > 0.0),
        "{config}"
    );
    let products = config["products"].as_array().expect("products");
    assert_eq!(products.len(), gpu_mlp::bench::BenchConfig::S.setup().products().len());
    let mut split = 0;
    for p in products {
        let launches = p["gpu_launches"].as_array().expect("launches");
        let product = &launches[0];
        let (groups, k) = (
            product["workgroups"].as_u64().unwrap(),
            product["k_per_workgroup"].as_u64().unwrap(),
        );
        assert!(groups >= 132 || k <= 128, "{p}");
        split += usize::from(launches.len() == 2);
    }
    assert!(split >= 1, "32×784·784×128 has 1 tile: it must be split, {products:?}");
    for device in ["cpu_peaks", "gpu_peaks"] {
        let peaks = &report[device];
        for key in ["gflops", "gbps"] {
            assert!(peaks[key].as_f64().is_some_and(|v| v.is_finite() && v > 0.0), "{peaks}");
        }
    }
    for p in products {
        for key in ["cpu_roofline", "gpu_roofline"] {
            let roof = &p[key];
            assert!(roof["of_roofline"].as_f64().is_some_and(|v| v > 0.0), "{p}");
            assert!(
                ["compute", "memory"].contains(&roof["bound"].as_str().unwrap_or("")),
                "{p}"
            );
        }
    }
    let step = config["step"].as_array().expect("step");
    for entry in step {
        // Each timed dispatch is held against the GPU's peaks; untimed ones (no timestamp
        // queries) have no figure to hold.
        assert_eq!(entry["gpu_ms"].is_null(), entry["roofline"].is_null(), "{entry}");
    }
    assert!(
        config["cpu_step"]["gflops"].as_f64().is_some_and(|g| g > 0.0),
        "{config}"
    );
    assert_eq!(step[1]["name"], "layer 1 forward");
    assert_eq!(step[1]["launches"].as_array().map(Vec::len), Some(2), "{}", step[1]);
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
        stdout.contains("model 2-8(tanh)-2") && stdout.contains("momentum lr 0.2 ("),
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

/// `eval` on the run's checkpoint reproduces the run's final test metrics, and its confusion
/// matrix accounts for every test sample.
#[test]
fn eval_matches_the_training_runs_final_test_metrics() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = gpu_mlp_in(
        cwd.path(),
        &[
            "train",
            "--dataset",
            "circle",
            "--loss",
            "binary-cross-entropy",
            "--hidden",
            "16",
            "--lr",
            "0.5",
            "--epochs",
            "3",
            "--device",
            "cpu",
            "--out",
            "run",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let last = epoch_lines(&out).pop().expect("epoch lines");
    let out = gpu_mlp_in(cwd.path(), &["eval", "--checkpoint", "run/last.safetensors", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let eval: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(format!("{:.4}", eval["loss"].as_f64().expect("loss")), last[3]);
    assert_eq!(
        format!("{:.2}%", 100.0 * eval["accuracy"].as_f64().expect("accuracy")),
        last[4]
    );
    let total: u64 = eval["confusion"]
        .as_array()
        .expect("matrix")
        .iter()
        .flat_map(|r| r.as_array().expect("row"))
        .map(|v| v.as_u64().expect("count"))
        .sum();
    assert_eq!(total, eval["samples"].as_u64().expect("samples"));
    assert_eq!(total, 200);
}

/// Test image 0 of Fashion-MNIST is an ankle boot; `predict` finds it by index and from a PGM file.
#[test]
fn predict_names_a_known_image() {
    if !common::fashion_or_skip("predict_names_a_known_image") {
        return;
    }
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = gpu_mlp_in(
        cwd.path(),
        &[
            "train",
            "--epochs",
            "1",
            "--hidden",
            "64",
            "--train-samples",
            "20000",
            "--device",
            "cpu",
            "--out",
            "run",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // The example grid says which name is the label and which the prediction; test image 0 is
    // an ankle boot.
    let examples = std::fs::read_to_string(cwd.path().join("run/examples.svg")).expect("examples.svg");
    assert!(
        examples.contains(">\n#0 label: Ankle boot\n<") && examples.contains(">\npredicted: "),
        "examples.svg titles"
    );
    let by_index = gpu_mlp_in(
        cwd.path(),
        &[
            "predict",
            "--checkpoint",
            "run/best.safetensors",
            "--index",
            "0",
            "--show",
        ],
    );
    let text = String::from_utf8_lossy(&by_index.stdout).into_owned();
    assert!(
        text.contains("true class: 9 Ankle boot") && text.contains("1. 9 Ankle boot"),
        "{text}"
    );
    assert!(text.contains('▓'), "--show draws the image:\n{text}");
    // The same image as a PGM file (P5, written from the test set).
    let splits = gpu_mlp::data::load(gpu_mlp::data::DatasetName::Fashion, &Default::default()).expect("data");
    let gpu_mlp::data::Features::U8(pixels) = &splits.test.as_ref().expect("a test split").features else {
        panic!("images are u8")
    };
    let mut pgm = b"P5\n28 28\n255\n".to_vec();
    pgm.extend_from_slice(&pixels[..784]);
    std::fs::write(cwd.path().join("boot.pgm"), pgm).expect("write");
    let from_file = gpu_mlp_in(
        cwd.path(),
        &["predict", "--checkpoint", "run/best.safetensors", "--image", "boot.pgm"],
    );
    let file_text = String::from_utf8_lossy(&from_file.stdout).into_owned();
    let ranking = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(ranking(&file_text), ranking(&text), "same probabilities from the file");
    // Several indices, all ten classes: each image under its heading, the columns aligned.
    let several = gpu_mlp_in(
        cwd.path(),
        &["predict", "--checkpoint", "run", "--index", "0,1", "--top-k", "10"],
    );
    let several = String::from_utf8_lossy(&several.stdout).into_owned();
    assert!(
        several.contains("test image 0\n") && several.contains("\ntest image 1\n"),
        "{several}"
    );
    let ranks: Vec<&str> = several.lines().filter(|l| l.contains('%')).collect();
    assert_eq!(ranks.len(), 20, "{several}");
    let percent_at: Vec<usize> = ranks.iter().map(|l| l.find('%').expect("a percentage")).collect();
    assert!(percent_at.iter().all(|&p| p == percent_at[0]), "aligned:\n{several}");
    assert!(
        ranks[9].starts_with("10. ") && ranks[0].starts_with(" 1. "),
        "{several}"
    );
    // examples.png of the images the model gets wrong.
    let plotted = gpu_mlp_in(cwd.path(), &["plot", "run", "--examples", "misclassified"]);
    assert!(plotted.status.success(), "{}", stderr(&plotted));
    let examples = std::fs::read_to_string(cwd.path().join("run/examples.svg")).expect("examples.svg");
    assert_eq!(examples.matches(" ✗\n<").count(), 9, "nine misclassified images");
}

/// A damaged data file is bad input: one line naming the file and field, exit code 2.
#[test]
fn a_damaged_data_file_exits_2_naming_it() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let dir = cwd.path().join("mnist");
    std::fs::create_dir(&dir).expect("mkdir");
    for f in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::write(dir.join(f), b"\x00\x00\x08\x03\x00\x00\x00\x02").expect("write");
    }
    let out = gpu_mlp_in(
        cwd.path(),
        &["train", "--dataset", "mnist", "--device", "cpu", "--data-dir", "mnist"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let lines = our_error_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("train-images-idx3-ubyte") && lines[0].contains("header"),
        "{}",
        lines[0]
    );
}

/// Config, checkpoint and image paths that are not regular files of a sane size — a FIFO (which
/// would block a plain read forever), an endless device, a directory, nothing at all — are bad
/// input: exit 2, one line naming the path and what is wrong, nothing allocated or written.
#[test]
fn unreadable_input_paths_are_refused_at_once() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let fifo = tmp.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let (fifo, dir) = (fifo.to_str().expect("utf-8"), tmp.path().to_str().expect("utf-8"));
    let missing = tmp.path().join("missing.png");
    let missing = missing.to_str().expect("utf-8");
    let cases: [(&[&str], &str, &str); 7] = [
        (&["train", "--config", fifo], fifo, "not a regular file"),
        (&["train", "--config", "/dev/zero"], "/dev/zero", "not a regular file"),
        (&["train", "--config", missing], missing, "does not exist"),
        (&["eval", "--checkpoint", fifo], fifo, "not a regular file"),
        (&["eval", "--checkpoint", dir], dir, "is a directory"),
        (
            &["predict", "--checkpoint", fifo, "--index", "0"],
            fifo,
            "not a regular file",
        ),
        (
            &["predict", "--checkpoint", missing, "--index", "0"],
            missing,
            "does not exist",
        ),
    ];
    for (args, path, what) in cases {
        let start = std::time::Instant::now();
        let out = gpu_mlp(args);
        let lines = our_error_lines(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {lines:?}");
        assert!(start.elapsed().as_secs() < 30, "{args:?} took {:?}", start.elapsed());
        assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        assert!(
            lines[0].contains(path) && lines[0].contains(what),
            "{args:?}: {lines:?}"
        );
    }
}

/// A TOML value of the wrong type names its key; `activation` takes one name as the flag does.
#[test]
fn toml_type_errors_name_the_key_and_one_activation_is_accepted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("lr = \"fast\"\n", "key `lr`: invalid type: string \"fast\""),
        ("activation = \"relux\"\n", "key `activation`: unknown variant `relux`"),
        ("lrr = 0.1\n", "did you mean `lr`"),
    ];
    for (text, fragment) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).expect("write");
        let out = gpu_mlp(&["train", "--config", path.to_str().expect("utf-8")]);
        let lines = our_error_lines(&out);
        assert_eq!(out.status.code(), Some(2), "{text}: {lines:?}");
        assert!(lines.len() == 1 && lines[0].contains(fragment), "{text}: {lines:?}");
    }
    let path = dir.path().join("tanh.toml");
    std::fs::write(
        &path,
        "dataset = \"blobs\"\nhidden = [6]\nactivation = \"tanh\"\nepochs = 1\ndevice = \"cpu\"\n",
    )
    .expect("write");
    let out = gpu_mlp(&["train", "--config", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("model 2-6(tanh)-2"));
}

/// No loader chatter: a run on a Vulkan adapter prints nothing about display servers; with
/// --quiet it prints its final summary and where the run went.
#[test]
fn no_display_server_noise_on_stderr() {
    if common::gpu_or_skip("no_display_server_noise_on_stderr").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    let out = gpu_mlp(&[
        "train",
        "--dataset",
        "blobs",
        "--device",
        "gpu",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        run.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("XDG_RUNTIME_DIR"), "{}", stderr(&out));
    // --quiet: the final summary and where the run went, nothing else.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("epoch 1: train loss"), "{stdout}");
    assert!(
        lines[1].starts_with("wrote ") && lines[1].ends_with(&format!("to {}", run.display())),
        "{stdout}"
    );
    let info = gpu_mlp(&["info"]);
    assert!(!stderr(&info).contains("XDG_RUNTIME_DIR"), "{}", stderr(&info));
}

/// `export` writes the weights alone, named and shaped as nn.Linear stores them, from a run
/// directory; it never overwrites a file. `--top-k 0` is refused.
#[test]
fn export_writes_the_weights_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    let run_arg = run.to_str().expect("utf-8");
    let trained = gpu_mlp(&[
        "train",
        "--dataset",
        "blobs",
        "--device",
        "cpu",
        "--hidden",
        "6,5",
        "--optimizer",
        "adam",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        run_arg,
    ]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    let out_path = dir.path().join("model.safetensors");
    let out_arg = out_path.to_str().expect("utf-8");
    let exported = gpu_mlp(&["export", run_arg, "--out", out_arg]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let bytes = std::fs::read(&out_path).expect("exported file");
    let tensors = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let mut names: Vec<String> = tensors.names().into_iter().map(String::from).collect();
    names.sort();
    let expected = [
        "layers.0.bias",
        "layers.0.weight",
        "layers.1.bias",
        "layers.1.weight",
        "layers.2.bias",
        "layers.2.weight",
    ];
    assert_eq!(names, expected, "weights and biases only, no optimizer state");
    assert_eq!(tensors.tensor("layers.0.weight").expect("tensor").shape(), [6, 2]);
    assert_eq!(tensors.tensor("layers.2.weight").expect("tensor").shape(), [2, 5]);
    let checkpoint = gpu_mlp::checkpoint::Checkpoint::load(&run.join("best.safetensors")).expect("checkpoint");
    let first: Vec<f32> = bytemuck::pod_collect_to_vec(tensors.tensor("layers.0.weight").expect("tensor").data());
    assert_eq!(first[..], checkpoint.params[..12]);
    let again = gpu_mlp(&["export", run_arg, "--out", out_arg]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("already exists"));
    let top0 = gpu_mlp(&["predict", "--checkpoint", run_arg, "--index", "0", "--top-k", "0"]);
    assert_eq!(top0.status.code(), Some(2));
    assert!(stderr(&top0).contains("--top-k"), "{}", stderr(&top0));
}

/// The header counts "1 epoch"; resuming a run that has trained all its epochs says so and how
/// to train further, and changes nothing.
#[test]
fn resuming_a_finished_run_says_how_to_train_further() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    let run_arg = run.to_str().expect("utf-8");
    let trained = gpu_mlp(&[
        "train",
        "--dataset",
        "blobs",
        "--device",
        "cpu",
        "--epochs",
        "1",
        "--out",
        run_arg,
    ]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    assert!(String::from_utf8_lossy(&trained.stdout).contains(", 1 epoch, seed 42"));
    let before = std::fs::read(run.join("last.safetensors")).expect("checkpoint");
    let again = gpu_mlp(&["train", "--resume", run_arg]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("has finished: epoch 1 was its last; resume with --epochs 2 or more"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(run.join("last.safetensors")).expect("checkpoint"), before);
    let further = gpu_mlp(&["train", "--resume", run_arg, "--epochs", "2", "--quiet"]);
    assert!(further.status.success(), "{}", stderr(&further));
}

/// `explain --help` offers what one explained step depends on, nothing of `train`'s own.
#[test]
fn explain_offers_only_the_flags_it_uses() {
    let help = gpu_mlp(&["explain", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout).into_owned();
    for used in [
        "--batch",
        "--config",
        "--lr",
        "--hidden",
        "--batch-size",
        "--seed",
        "--backend",
    ] {
        assert!(text.contains(&format!("{used} ")), "{used} missing:\n{text}");
    }
    for unused in [
        "--out",
        "--resume",
        "--sweep",
        "--quiet",
        "--device",
        "--patience",
        "--log-every",
    ] {
        assert!(!text.contains(&format!("{unused} ")), "{unused} offered:\n{text}");
    }
    // Dropout changes what one step computes (its mask): explain takes it.
    assert!(text.contains("--dropout "), "--dropout missing:\n{text}");
}

/// A path need not be UTF-8: `--out` with bytes that are not is a run directory like any other
/// (it panicked in std::env::args before).
#[cfg(unix)]
#[test]
fn a_non_utf8_out_path_is_a_path_like_any_other() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let out_dir = dir.path().join(std::ffi::OsStr::from_bytes(b"run-\xff\xfe"));
    let out = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args([
            "train",
            "--dataset",
            "blobs",
            "--hidden",
            "4",
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--quiet",
        ])
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out_dir.join("last.safetensors").is_file());
}

/// The roofline: below the ridge point (peak FLOP/s ÷ peak bandwidth) a computation is bound by
/// memory, above it by the FMA units, and its share is of the lower roof.
#[test]
fn the_roofline_bounds_by_arithmetic_intensity() {
    let peaks = gpu_mlp::bench::roofline::Peaks {
        unit: "a test device".into(),
        gflops: 100.0,
        gbps: 10.0,
    };
    assert_eq!((peaks.attainable(5.0), peaks.bound(5.0)), (50.0, "memory"));
    assert_eq!((peaks.attainable(20.0), peaks.bound(20.0)), (100.0, "compute"));
    // 1 GFLOP over 0.1 GB in 20 ms: 50 GFLOP/s, 5 GB/s, 10 FLOP/byte (the ridge).
    let held = peaks.hold(1_000_000_000, 100_000_000, 0.02);
    assert!((held.gflops - 50.0).abs() < 1e-9 && (held.gbps - 5.0).abs() < 1e-9);
    assert!((held.intensity - 10.0).abs() < 1e-12);
    assert!((held.of_peak_flops - 0.5).abs() < 1e-12 && (held.of_roofline - 0.5).abs() < 1e-12);
    assert!((held.of_peak_bandwidth - 0.5).abs() < 1e-12);
}

/// A step's least work is its products' FLOPs plus a little elementwise work: for A
/// (784-512-10, batch 128, SGD) 469 epochs of it are the ≈ 98.6 GFLOP an epoch of Fashion-MNIST
/// takes, and its traffic is every operand, result and parameter moved once.
#[test]
fn a_steps_least_work_is_its_products_and_a_little_more() {
    let setup = gpu_mlp::bench::BenchConfig::A.setup();
    let products: u64 = setup.products().iter().map(|s| s.product.flops()).sum();
    let step = setup.step_work();
    assert!(
        step.flops > products && step.flops < products + products / 100,
        "{step:?} against {products}"
    );
    let epoch = step.flops as f64 * (60_000f64 / 128.0) / 1e9;
    assert!((epoch - 98.6).abs() < 1.0, "{epoch} GFLOP an epoch");
    // At least the weights read by every product and updated once.
    let params = (784 * 512 + 512 + 512 * 10 + 10) as u64;
    assert!(step.bytes > 4 * 3 * params, "{step:?}");
}

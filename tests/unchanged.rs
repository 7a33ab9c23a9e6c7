//! Nothing changes for users across a rebuild: seeded runs covering every optimizer, activation,
//! loss, schedule, dropout, an image dataset and a table, on the CPU and on the GPU (lavapipe
//! in CI), give the same history (every column but the timings) and bit-identical weights and
//! optimizer state as when their golden files in tests/golden/ were recorded, on a machine that
//! rounds the same way (the same CPU GEMM kernel; for the GPU also the same adapter and driver,
//! recorded in machine.txt); elsewhere within 1e-3. `GPU_MLP_BLESS=1 cargo test --release --test
//! unchanged` records them anew, which only a change meant to alter results may do.

use crate::common;

use std::path::{Path, PathBuf};

/// One seeded run per case: its name (the golden folder), its device and its flags.
macro_rules! unchanged {
    ($($name:ident on $device:literal: [$($arg:expr),* $(,)?];)*) => {$(
        #[test]
        fn $name() {
            check(stringify!($name), $device, &[$($arg),*]);
        }
    )*};
}

unchanged! {
    blobs_sgd_relu on "cpu": ["--dataset", "blobs", "--hidden", "16", "--epochs", "3"];
    circle_nesterov_tanh_step_dropout on "cpu": [
        "--dataset", "circle", "--hidden", "16,8", "--activation", "tanh", "--optimizer", "momentum",
        "--nesterov", "--schedule", "step", "--gamma", "0.7", "--dropout", "0.2", "--weight-decay", "0.001",
        "--epochs", "3",
    ];
    blobs_adam_sigmoid_prob_cosine_val on "cpu": [
        "--dataset", "blobs", "--hidden", "12", "--activation", "sigmoid", "--optimizer", "adam",
        "--loss", "softmax-prob-cross-entropy", "--schedule", "cosine", "--warmup-epochs", "1",
        "--val-split", "0.2", "--init", "glorot-uniform", "--epochs", "3",
    ];
    circle_adamw_bce_mixed_activations on "cpu": [
        "--dataset", "circle", "--hidden", "16,8", "--activation", "relu,tanh", "--optimizer", "adamw",
        "--weight-decay", "0.01", "--loss", "binary-cross-entropy", "--init", "pytorch", "--batch-size", "32",
        "--epochs", "3",
    ];
    table_adam_missing_mean on "cpu": [
        "--data", "{golden}/table.csv", "--target", "kind", "--missing", "mean", "--hidden", "8",
        "--optimizer", "adam", "--init", "he-normal", "--epochs", "4",
    ];
    fashion_standard_normal_init on "cpu": [
        "--dataset", "fashion", "--train-samples", "2000", "--hidden", "32", "--normalize", "standard",
        "--init", "normal", "--lr", "0.05", "--epochs", "1",
    ];
    gpu_blobs_adam_relu_val on "gpu": [
        "--dataset", "blobs", "--hidden", "16", "--optimizer", "adam", "--val-split", "0.2", "--epochs", "3",
    ];
    gpu_circle_momentum_tanh_dropout_cosine on "gpu": [
        "--dataset", "circle", "--hidden", "16,8", "--activation", "tanh", "--optimizer", "momentum",
        "--dropout", "0.2", "--schedule", "cosine", "--batch-size", "50", "--epochs", "3",
    ];
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// history.csv without the columns that time the run.
fn history_without_timings(csv: &str) -> String {
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let timed: Vec<usize> = rows[0]
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(**c, "seconds" | "samples_per_second"))
        .map(|(i, _)| i)
        .collect();
    rows.iter()
        .map(|r| {
            let kept: Vec<&str> = r
                .iter()
                .enumerate()
                .filter(|(i, _)| !timed.contains(i))
                .map(|(_, v)| *v)
                .collect();
            kept.join(",") + "\n"
        })
        .collect()
}

/// The CPU's product kernels on this machine (`cpu::simd`'s widest, else matrixmultiply's, which
/// it picks at run time): float rounding, and so bit-identity, holds between machines with the
/// same ones.
fn gemm_kernel() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(kernel) = gpu_mlp::cpu::simd::Kernel::detect() {
            return format!("x86_64 {kernel}");
        }
        if is_x86_feature_detected!("avx") {
            return "x86_64 avx".into();
        }
    }
    std::env::consts::ARCH.into()
}

/// What decides float rounding for `device`: the CPU GEMM kernel, and for the GPU the adapter
/// and its driver too (lavapipe's code depends on the host CPU). None: no GPU adapter.
fn machine(device: &str) -> Option<String> {
    match device {
        "gpu" => {
            let adapter = gpu_mlp::gpu::GpuContext::new(gpu_mlp::gpu::AdapterChoice::Any)
                .ok()?
                .adapter;
            Some(format!("{} / {} / {}", adapter.name, adapter.driver, gemm_kernel()))
        }
        _ => Some(gemm_kernel()),
    }
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn check(name: &str, device: &str, args: &[&str]) {
    if args.contains(&"fashion") && !common::fashion_or_skip(name) {
        return;
    }
    let Some(machine) = machine(device) else {
        common::skip_unless_ci(name, "no GPU adapter was found");
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = tmp.path().join("run");
    let golden = golden_dir();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{golden}", &golden.display().to_string()))
        .collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(["train", "--device", device, "--seed", "7", "--quiet", "--out"])
        .arg(&run)
        .args(&args)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    let history = history_without_timings(&std::fs::read_to_string(run.join("history.csv")).expect("history.csv"));
    let checkpoint = gpu_mlp::checkpoint::Checkpoint::load(&run.join("last.safetensors")).expect("checkpoint");
    let dir = golden.join(name);
    let files = [
        ("history.csv", history.into_bytes()),
        ("params.f32", f32_bytes(&checkpoint.params)),
        ("optimizer_state.f32", f32_bytes(&checkpoint.optimizer_state)),
        ("machine.txt", machine.clone().into_bytes()),
    ];
    if std::env::var_os("GPU_MLP_BLESS").is_some() {
        std::fs::create_dir_all(&dir).expect("golden dir");
        for (file, bytes) in &files {
            std::fs::write(dir.join(file), bytes).expect("write golden");
        }
        return;
    }
    let read = |file: &str| {
        std::fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("{name}: golden {file}: {e} (record with GPU_MLP_BLESS=1)"))
    };
    let recorded_on = String::from_utf8_lossy(&read("machine.txt")).into_owned();
    if recorded_on == machine {
        for (file, bytes) in &files {
            assert!(
                *bytes == read(file),
                "{name}: {file} is not byte-identical to the golden one"
            );
        }
        return;
    }
    // Another machine rounds differently: the same run to float rounding.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n*** {name}: the goldens were recorded on {recorded_on}, this machine is {machine}: compared within 1e-3 ***"
    );
    for (file, bytes) in files.iter().filter(|(f, _)| f.ends_with(".f32")) {
        common::assert_close(&format!("{name}: {file}"), &f32s(bytes), &f32s(&read(file)), 1e-3);
    }
}

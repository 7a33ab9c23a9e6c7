//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

#[macro_use]
mod kernels;

#[allow(unused_imports)] // each test binary uses a different subset
pub use kernels::*;

use gpu_mlp::gpu::{AdapterChoice, GpuContext};

/// A GPU context on any adapter (lavapipe included). Without one, the test fails under CI
/// (`CI=true`), where a GPU test that silently passes would prove nothing, and is skipped loudly elsewhere.
pub fn gpu_or_skip(test: &str) -> Option<GpuContext> {
    match GpuContext::new(AdapterChoice::Any) {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            skip_unless_ci(test, &format!("no GPU adapter was found: {e}"));
            None
        }
    }
}

/// Whether Fashion-MNIST is installed; without it the test is skipped (failed under CI).
pub fn fashion_or_skip(test: &str) -> bool {
    match gpu_mlp::data::load(gpu_mlp::data::DatasetName::Fashion, &Default::default()) {
        Ok(_) => true,
        Err(e) => {
            skip_unless_ci(test, &format!("Fashion-MNIST is not installed (CI installs it): {e}"));
            false
        }
    }
}

/// Under CI (`CI=true`) a missing prerequisite fails the test: a skipped test there would
/// prove nothing. Elsewhere the skip is announced where a person sees it: written to the
/// process's stderr directly, which libtest does not capture (it captures `eprintln!` only),
/// so `cargo test` shows it even though the test passes.
pub fn skip_unless_ci(test: &str, why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{test}: CI must run this test, but {why}");
    }
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "\n*** SKIPPED {test}: {why} ***");
}

pub fn read_f32(ctx: &GpuContext, buffer: &wgpu::Buffer, n: usize) -> Vec<f32> {
    let raw = ctx.read_back(buffer, (n * 4) as u64).expect("read back");
    bytemuck::pod_collect_to_vec(&raw)
}

pub fn read_u32(ctx: &GpuContext, buffer: &wgpu::Buffer, n: usize) -> Vec<u32> {
    let raw = ctx.read_back(buffer, (n * 4) as u64).expect("read back");
    bytemuck::pod_collect_to_vec(&raw)
}

/// Runs `program` with `args` under an address-space limit of `memory` bytes (unix) and a
/// deadline of two minutes (a child still running then has hung: the test fails).
pub fn run_bounded<S: AsRef<std::ffi::OsStr>>(program: &str, args: &[S], memory: u64) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut command = Command::new(program);
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: setrlimit is async-signal-safe, as code between fork and exec must be.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: memory,
                    rlim_max: memory,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = command.spawn().expect("the program starts");
    // Drain the pipes while waiting, so a chatty child cannot block on a full pipe.
    let (mut stdout, mut stderr) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut buf);
        buf
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("{program} hung for two minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: out_reader.join().expect("reader"),
        stderr: err_reader.join().expect("reader"),
    }
}

/// The flags of the small run whose steps `explain` is checked on (blobs, 2-8-2, batch 16).
pub const EXPLAINED_RUN: [&str; 8] = [
    "--dataset",
    "blobs",
    "--hidden",
    "8",
    "--batch-size",
    "16",
    "--seed",
    "3",
];

/// Tensors of a step that both the CPU and the GPU compute (a sample of them, by name).
pub const STEP_TENSORS: [&str; 7] = [
    "input",
    "layer1.activation",
    "logits",
    "dlogits",
    "layer1.dZ",
    "layer2.dW",
    "layer1.weight",
];

/// Runs the `gpu-mlp` binary in a fresh temporary directory (where its `runs/` go).
pub fn gpu_mlp(args: &[&str]) -> std::process::Output {
    let cwd = tempfile::tempdir().expect("temp dir");
    gpu_mlp_in(cwd.path(), args)
}

/// Runs the `gpu-mlp` binary in `cwd`, without `$GPU_MLP_DATA`.
pub fn gpu_mlp_in(cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GPU_MLP_DATA")
        .output()
        .expect("the binary runs")
}

/// A finished command's stdout then stderr, as text.
pub fn output_text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Waits until `path` exists (the run has written its first checkpoint), at most 60 s.
pub fn wait_for(path: &std::path::Path) {
    let start = std::time::Instant::now();
    while !path.exists() {
        assert!(start.elapsed().as_secs() < 60, "{} never appeared", path.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Sends `signal` (`-TERM`, …) to `child` with kill(1) and waits: its exit code and stderr.
pub fn signal_and_wait(child: std::process::Child, signal: &str) -> (Option<i32>, String) {
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = child.wait_with_output().expect("exits");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

//! The engine in a browser: this file builds for wasm32-unknown-unknown and runs in headless
//! Chromium (wasm-bindgen-test; see .ci/test), whose WebGPU adapter in CI is SwiftShader's.
//! - The CPU reference, compiled to wasm, trains the seeded blobs run of
//!   tests/golden/blobs_sgd_relu (recorded natively) to the same history and weights, within the
//!   tolerance `tests/unchanged.rs` allows a machine that rounds differently (wasm's scalar GEMM
//!   kernel sums in another order than a native AVX2 one).
//! - The WGSL kernels run on the browser's WebGPU, through the same host code, against their
//!   CPU twins with every case of the native suite (`tests/parity_kernels.rs`; the lists are in
//!   `tests/common/kernels.rs`) and its tolerance, every readback awaited (a page never blocks).
//! - The GPU backend trains on WebGPU, its steps' metrics awaited, as the CPU reference does
//!   (`tests/parity_training.rs`' first case and tolerance).
#![cfg(target_arch = "wasm32")]

#[path = "common/kernels.rs"]
#[macro_use]
mod kernels;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use gpu_mlp::gpu::kernels::diagnostics::{ParamNorms, UnitStats};
use gpu_mlp::gpu::kernels::{Gather, LossGrad, Matmul, Optim};
use gpu_mlp::gpu::{AdapterChoice, GpuContext, GraphicsApi};
use gpu_mlp::nn::model::{Activation, Loss, MlpSpec};
use gpu_mlp::plan::start;
use gpu_mlp::settings::Config;
use gpu_mlp::settings::OptimizerKind;
use gpu_mlp::training::backend::TrainOptions;
use gpu_mlp::training::train::{epoch_order, fit_async, steps_per_epoch, Event, HeldOut};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// What `tests/unchanged.rs` allows a machine with another GEMM kernel.
const TOL: f64 = 1e-3;

const GOLDEN_HISTORY: &str = include_str!("golden/blobs_sgd_relu/history.csv");
const GOLDEN_PARAMS: &[u8] = include_bytes!("golden/blobs_sgd_relu/params.f32");

fn close(what: &str, got: f64, want: f64) {
    let err = (got - want).abs() / want.abs().max(1e-6);
    assert!(
        err <= TOL,
        "{what}: {got} in the browser, {want} natively (rel {err:e})"
    );
}

#[wasm_bindgen_test]
async fn the_cpu_reference_trains_the_golden_blobs_run_in_the_browser() {
    // `gpu-mlp train --dataset blobs --hidden 16 --epochs 3 --device cpu --seed 7`, as
    // tests/unchanged.rs records the golden; built and trained as the page does it (the run's
    // assembly in `plan`, the awaited loop).
    let settings = "dataset = \"blobs\"\nhidden = [16]\nepochs = 3\ndevice = \"cpu\"\nseed = 7";
    let table: toml::Table = toml::from_str(settings).expect("valid TOML");
    let config = Config::resolve(None, &table).expect("valid settings");
    let data = Arc::new(config.load_data().expect("the blobs"));
    let network = start(&config, &data, None, 1).expect("a network");
    let (mut backend, _) = network
        .backend_async(&config, Arc::clone(&data))
        .await
        .expect("the CPU backend");
    let steps = steps_per_epoch(data.train.len(), config.training.batch_size);
    let outcome = fit_async(
        backend.as_mut(),
        data.train.len(),
        HeldOut::of(&data),
        &config.train_config(steps),
        &mut |_: Event<'_>| {},
    )
    .await
    .expect("trains");
    assert_eq!(outcome.reports.len(), 3);
    let mut golden = GOLDEN_HISTORY.lines();
    let header: Vec<&str> = golden.next().expect("a header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect("a column");
    for (row, report) in golden.zip(&outcome.reports) {
        let cells: Vec<&str> = row.split(',').collect();
        let value = |name: &str| cells[column(name)].parse::<f64>().expect("a number");
        let epoch = report.epoch;
        close(
            &format!("epoch {epoch} train loss"),
            report.train.loss,
            value("train_loss"),
        );
        close(
            &format!("epoch {epoch} train accuracy"),
            report.train.accuracy,
            value("train_accuracy"),
        );
        let test = report.test.expect("blobs has a test split");
        close(&format!("epoch {epoch} test loss"), test.loss, value("test_loss"));
        close(
            &format!("epoch {epoch} test accuracy"),
            test.accuracy,
            value("test_accuracy"),
        );
    }
    let params = backend.parameters_async().await.expect("the weights");
    let golden: Vec<f32> = GOLDEN_PARAMS
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(params.len(), golden.len());
    let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    let diff: Vec<f32> = params.iter().zip(&golden).map(|(a, b)| a - b).collect();
    let rel = norm(&diff) / norm(&golden);
    assert!(
        rel <= TOL,
        "the weights differ from the native run's by {rel:e} of their norm"
    );
}

/// A bad setting gets the command line's own message in the browser too.
#[wasm_bindgen_test]
fn a_bad_setting_says_what_the_command_line_says() {
    let table: toml::Table = toml::from_str("dataset = \"blobs\"\nlr = -1.0").expect("valid TOML");
    let err = Config::resolve(None, &table).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "invalid lr: (--lr) must be a finite number > 0, got -1"
    );
}

/// The browser's WebGPU adapter, awaited.
async fn webgpu() -> GpuContext {
    let ctx = GpuContext::open(AdapterChoice::Any, GraphicsApi::Auto)
        .await
        .expect("the browser's WebGPU adapter (SwiftShader's in CI)");
    console_log!("WebGPU adapter: {:?} ({})", ctx.adapter.name, ctx.adapter.backend);
    ctx
}

/// One device and the kernels' pipelines, shared by the kernel cases (compiling the pipelines
/// once: SwiftShader takes its time).
struct Kernels {
    ctx: GpuContext,
    matmul: Matmul,
    loss: LossGrad,
    optim: Optim,
    gather: Gather,
    unit_stats: UnitStats,
    param_norms: ParamNorms,
}

thread_local! {
    static SHARED: RefCell<Option<Rc<Kernels>>> = const { RefCell::new(None) };
}

async fn shared() -> Rc<Kernels> {
    if let Some(kernels) = SHARED.with(|s| s.borrow().clone()) {
        return kernels;
    }
    let ctx = webgpu().await;
    let kernels = Rc::new(Kernels {
        matmul: Matmul::new(&ctx),
        loss: LossGrad::new(&ctx),
        optim: Optim::new(&ctx),
        gather: Gather::new(&ctx),
        unit_stats: UnitStats::new(&ctx),
        param_norms: ParamNorms::new(&ctx),
        ctx,
    });
    SHARED.with(|s| *s.borrow_mut() = Some(Rc::clone(&kernels)));
    kernels
}

/// One browser test per case of a kernel case list (`tests/common/kernels.rs`), its results
/// awaited: the loss, optimizer, gather and diagnostics cases with their kernels, every other
/// list (the matmul's) with the matmul kernel.
macro_rules! on_webgpu {
    (optimizer_matches_cpu { $($name:ident: $args:expr;)* }) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            let k = shared().await;
            kernels::optimizer_matches_cpu(&k.ctx, &k.optim, stringify!($name), $args).await;
        }
    )*};
    (gather_matches_cpu { $($name:ident: $args:expr;)* }) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            let k = shared().await;
            kernels::gather_matches_cpu(&k.ctx, &k.gather, stringify!($name), $args).await;
        }
    )*};
    (unit_stats_kernel_matches_accumulate_unit_stats { $($name:ident: $args:expr;)* }) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            let k = shared().await;
            let case = stringify!($name);
            kernels::unit_stats_kernel_matches_accumulate_unit_stats(&k.ctx, &k.unit_stats, case, $args).await;
        }
    )*};
    (param_norms_kernel_matches_param_sums { $($name:ident: $args:expr;)* }) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            let k = shared().await;
            let case = stringify!($name);
            kernels::param_norms_kernel_matches_param_sums(&k.ctx, &k.param_norms, case, $args).await;
        }
    )*};
    (loss_matches_cpu { $($name:ident: $args:expr;)* }) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            let k = shared().await;
            kernels::loss_matches_cpu(&k.ctx, &k.loss, stringify!($name), $args).await;
        }
    )*};
    ($matmul_case:ident { $($name:ident: $args:expr;)* }) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            let k = shared().await;
            kernels::$matmul_case(&k.ctx, &k.matmul, stringify!($name), $args).await;
        }
    )*};
}

matmul_layout_cases!(on_webgpu);
loss_cases!(on_webgpu);
optimizer_cases!(on_webgpu);
gather_cases!(on_webgpu);
matmul_forward_epilogues_cases!(on_webgpu);
matmul_activation_grad_cases!(on_webgpu);
matmul_row_sums_cases!(on_webgpu);
dropout_masks_match_cpu_cases!(on_webgpu);
unit_stats_cases!(on_webgpu);
param_norms_cases!(on_webgpu);

/// Thirty SGD steps of 784-64-10 (batch 32) trained on the browser's WebGPU by the GPU backend
/// and on the CPU reference from the same weights and batches: `tests/parity_training.rs`' first
/// case (`common::backends_agree`), its readbacks awaited.
#[wasm_bindgen_test]
async fn training_on_webgpu_matches_the_cpu_reference() {
    let batch = 32;
    let data = kernels::random_image_splits(10, 11, 30 * batch, 100);
    let spec = MlpSpec::new(784, &[64], 10).expect("valid spec");
    let order = epoch_order(30 * batch, 3, 1);
    kernels::backends_agree(webgpu().await, &spec, &TrainOptions::new(batch), (&order, 0.1), data).await;
}

/// A measurement, not a check (run it by name with `--include-ignored --nocapture`; see
/// BENCHMARKS.md): training samples/s of `gpu-mlp bench`'s configurations S and A in this
/// browser, the GPU backend on its WebGPU adapter and the CPU reference compiled to wasm, each
/// the median of 3 timings as `gpu-mlp bench` takes them natively.
#[wasm_bindgen_test]
#[ignore = "a measurement: see BENCHMARKS.md"]
async fn training_throughput_in_the_browser() {
    use gpu_mlp::bench::BenchConfig;
    for config in [BenchConfig::S, BenchConfig::A] {
        let setup = config.setup();
        let mut cpu = setup.cpu_backend().expect("cpu backend");
        let cpu_rate = setup.samples_per_second(&mut cpu, 3).expect("cpu timing");
        let mut gpu = setup.gpu_backend(webgpu().await).expect("gpu backend");
        let gpu_rate = setup
            .gpu_samples_per_second_async(&mut gpu, 3)
            .await
            .expect("gpu timing");
        console_log!(
            "{}: WebGPU {gpu_rate:.0} samples/s, wasm CPU reference {cpu_rate:.0} samples/s",
            setup.name()
        );
    }
}

//! The engine in a browser: this file builds for wasm32-unknown-unknown and runs in headless
//! Chromium (wasm-bindgen-test; see .ci/test), whose WebGPU adapter in CI is SwiftShader's.
//! - The CPU reference, compiled to wasm, trains the seeded blobs run of
//!   tests/golden/blobs_sgd_relu (recorded natively) to the same history and weights, within the
//!   tolerance `tests/unchanged.rs` allows a machine that rounds differently (wasm's scalar GEMM
//!   kernel sums in another order than a native AVX2 one).
//! - The WGSL kernels run on the browser's WebGPU, through the same host code, against their
//!   CPU twins with the native suite's cases and tolerance (`tests/parity_kernels.rs`), every
//!   readback awaited (a page never blocks).
#![cfg(target_arch = "wasm32")]

#[path = "common/kernels.rs"]
mod kernels;

use gpu_mlp::cpu::{gemm, ops};
use gpu_mlp::gpu::kernels::loss::LossOperands;
use gpu_mlp::gpu::kernels::matmul::MatmulOperands;
use gpu_mlp::gpu::kernels::{step_offset, Epilogue, LossGrad, Matmul, Region, StepInfo};
use gpu_mlp::gpu::{AdapterChoice, GpuContext, GraphicsApi};
use gpu_mlp::nn::model::{Loss, Product, Stored};
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::train::Event;
use kernels::{assert_close, case_rng, nan_bytes, product_plans, random_vec, step_table};
use rand::Rng;
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
fn the_cpu_reference_trains_the_golden_blobs_run_in_the_browser() {
    // `gpu-mlp train --dataset blobs --hidden 16 --epochs 3 --device cpu --seed 7`, as
    // tests/unchanged.rs records the golden.
    let settings = "dataset = \"blobs\"\nhidden = [16]\nepochs = 3\ndevice = \"cpu\"\nseed = 7";
    let table: toml::Table = toml::from_str(settings).expect("valid TOML");
    let config = Config::resolve(None, &table).expect("valid settings");
    let mut run = Run::new(&config).expect("a run in memory");
    let outcome = run.train(&mut |_: Event<'_>| {}).expect("trains");
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
    let params = run.backend().parameters().expect("the weights");
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

/// The native kernel suite's tolerance (`tests/parity_kernels.rs`).
const KERNEL_TOL: f64 = 1e-5;

/// The absolute error WGSL allows `log` on [0.5, 2] (2^-21, the WGSL spec's floating-point
/// accuracy table): SwiftShader uses it, LLVM's lavapipe does not.
const LOG_ABS_ERROR: f64 = 4.76837158203125e-7;

/// The browser's WebGPU adapter, awaited.
async fn webgpu() -> GpuContext {
    let ctx = GpuContext::open(AdapterChoice::Any, GraphicsApi::Auto)
        .await
        .expect("the browser's WebGPU adapter (SwiftShader's in CI)");
    console_log!("WebGPU adapter: {} ({})", ctx.adapter.name, ctx.adapter.backend);
    ctx
}

fn upload(ctx: &GpuContext, label: &str, values: &[f32]) -> wgpu::Buffer {
    ctx.storage_buffer_init(label, bytemuck::cast_slice(values))
        .expect("buffer")
}

async fn read(ctx: &GpuContext, buffer: &wgpu::Buffer, n: usize) -> Vec<f32> {
    let raw = ctx.read_back_async(buffer, (n * 4) as u64).await.expect("read back");
    bytemuck::pod_collect_to_vec(&raw)
}

/// `C = A · B` for every storage of A and B and every plan (split k included), at the native
/// suite's shapes, none of them tile multiples, against `gemm::matmul`.
#[wasm_bindgen_test]
async fn matmul_matches_the_cpu_reference_on_webgpu() {
    let ctx = webgpu().await;
    let kernel = Matmul::new(&ctx);
    for (m, k, n) in [
        (1, 1, 1),
        (3, 7, 33),
        (7, 785, 3),
        (33, 129, 7),
        (129, 33, 785),
        (64, 128, 10),
    ] {
        let case = format!("matmul_layouts_{m}x{k}x{n}");
        let mut r = case_rng(&case);
        let (a, b) = (random_vec(&mut r, m * k), random_vec(&mut r, k * n));
        let (a_buf, b_buf) = (upload(&ctx, "a", &a), upload(&ctx, "b", &b));
        let c_buf = ctx.storage_buffer_init("c", &nan_bytes(m * n)).expect("buffer");
        for a_stored in [Stored::AsIs, Stored::Transposed] {
            for b_stored in [Stored::AsIs, Stored::Transposed] {
                let mut want = vec![0.0; m * n];
                let product = Product {
                    m,
                    k,
                    n,
                    a: a_stored,
                    b: b_stored,
                };
                gemm::matmul(product, &a, &b, &mut want);
                for plan in product_plans(m, k, n) {
                    let operands = MatmulOperands {
                        m,
                        k,
                        n,
                        a: Region::all(&a_buf),
                        a_stored,
                        b: Region::all(&b_buf),
                        b_stored,
                        c: Region::all(&c_buf),
                        plan,
                        partials: None,
                        epilogue: Epilogue::None,
                        row_sums: None,
                        dropout: None,
                    };
                    let binding = kernel.bind(&ctx, "browser matmul", &operands).expect("fits");
                    ctx.queue.write_buffer(&c_buf, 0, &nan_bytes(m * n));
                    ctx.submit_pass("browser matmul", |pass| kernel.dispatch(pass, &binding, 0));
                    let what = format!("{case} A {a_stored:?} B {b_stored:?} ({} slices)", plan.slices);
                    assert_close(&what, &read(&ctx, &c_buf, m * n).await, &want, KERNEL_TOL);
                }
            }
        }
    }
}

/// Each loss on full and short batches, unweighted and with sample weights read through the
/// order, against `ops::loss_and_grad`: the gradient, the loss sum and the hits.
#[wasm_bindgen_test]
async fn the_loss_matches_the_cpu_reference_on_webgpu() {
    let ctx = webgpu().await;
    let kernel = LossGrad::new(&ctx);
    let losses = [
        Loss::SoftmaxCrossEntropy,
        Loss::SoftmaxProbCrossEntropy,
        Loss::BinaryCrossEntropy,
    ];
    for loss in losses {
        for (batch, rows, classes) in [(1, 1, 2), (129, 100, 10), (300, 257, 3), (7, 7, 785)] {
            let classes = if loss == Loss::BinaryCrossEntropy { 2 } else { classes };
            for weighted in [false, true] {
                let case = format!("loss {loss:?} {rows} of {batch} rows, {classes} classes, weighted {weighted}");
                let mut r = case_rng(&case);
                let units = loss.output_units(classes).expect("valid");
                let logits: Vec<f32> = random_vec(&mut r, batch * units).iter().map(|v| 8.0 * v).collect();
                let labels: Vec<u32> = (0..batch).map(|_| r.random_range(0..classes as u32)).collect();
                let samples = 3 * batch + 1;
                let order: Vec<u32> = (0..batch).map(|_| r.random_range(0..samples as u32)).collect();
                let sample_weights: Vec<f32> = (0..samples).map(|_| r.random_range(0.0..4.0)).collect();
                let batch_weights: Vec<f32> = order.iter().map(|&i| sample_weights[i as usize]).collect();
                let mut want = vec![f32::NAN; batch * units];
                let cpu_weights = weighted.then_some(batch_weights.as_slice());
                let expected = ops::loss_and_grad(loss, &logits, &labels, cpu_weights, rows, units, &mut want);
                let logits_buf = upload(&ctx, "logits", &logits);
                let labels_buf = ctx
                    .storage_buffer_init("labels", bytemuck::cast_slice(&labels))
                    .expect("buffer");
                let order_buf = ctx
                    .storage_buffer_init("order", bytemuck::cast_slice(&order))
                    .expect("buffer");
                let weights_buf = upload(&ctx, "weights", &sample_weights);
                let dlogits = ctx
                    .storage_buffer_init("dlogits", &nan_bytes(batch * units))
                    .expect("buffer");
                let metrics = ctx.storage_buffer_init("metrics", &nan_bytes(2 * 4)).expect("buffer");
                let info = StepInfo {
                    rows: rows as u32,
                    slot: 2,
                    weighted: u32::from(weighted),
                    ..Default::default()
                };
                let steps = step_table(&ctx, &[info]);
                let operands = LossOperands {
                    steps: &steps,
                    logits: Region::all(&logits_buf),
                    labels: &labels_buf,
                    dlogits: Region::all(&dlogits),
                    metrics: &metrics,
                    order: Region::all(&order_buf),
                    weights: Region::all(&weights_buf),
                    loss,
                    units,
                    batch,
                };
                let binding = kernel.bind(&ctx, &operands);
                ctx.submit_pass("browser loss", |pass| kernel.dispatch(pass, &binding, step_offset(0)));
                assert_close(&case, &read(&ctx, &dlogits, batch * units).await, &want, KERNEL_TOL);
                let raw = ctx.read_back_async(&metrics, 4 * 8).await.expect("read back");
                let entries: Vec<u32> = bytemuck::pod_collect_to_vec(&raw);
                assert_eq!(entries[5], expected.correct, "{case}: correct count");
                let loss_sum = f64::from(f32::from_bits(entries[4]));
                // A row's small loss may carry log()'s allowed absolute error (LOG_ABS_ERROR) on
                // top of the native suite's relative bound.
                let bound = KERNEL_TOL * expected.loss_sum.abs() + rows as f64 * LOG_ABS_ERROR;
                let err = (loss_sum - expected.loss_sum).abs();
                assert!(
                    err <= bound,
                    "{case}: loss sum {loss_sum} vs {} (off by {err:e} > {bound:e})",
                    expected.loss_sum
                );
            }
        }
    }
}

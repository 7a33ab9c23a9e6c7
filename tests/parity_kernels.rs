//! Each WGSL kernel against its CPU twin in `cpu::ops`, on seeded random inputs and shapes that
//! are not tile multiples. Outputs start as NaN, so an element a kernel fails to write fails.
//! Tolerance: `rel_err` (max abs difference over max abs reference) ≤ 1e-5 for f32. The cases
//! live in `tests/common/kernels.rs`, where `tests/browser.rs` runs the same ones on a browser's
//! WebGPU; here each is a named native test, its readbacks blocked on.

use crate::common;

use common::{assert_close, gpu_or_skip};
use gpu_mlp::gpu::kernels::loss::StepMetric;
use gpu_mlp::gpu::kernels::{Gather, LossGrad, Matmul, Optim};
use gpu_mlp::gpu::GpuContext;
use gpu_mlp::nn::model::{Activation, Loss};
use gpu_mlp::settings::OptimizerKind;

/// One context and matmul kernel shared by the matmul cases, so that each case is its own test
/// (run alone by name, failing alone) without building the pipelines again; `None` without an
/// adapter (the case is skipped, and fails under CI).
fn shared_matmul(case: &str) -> Option<&'static (GpuContext, Matmul)> {
    static SHARED: std::sync::OnceLock<Option<(GpuContext, Matmul)>> = std::sync::OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        GpuContext::new(gpu_mlp::gpu::AdapterChoice::Any).ok().map(|ctx| {
            let kernel = Matmul::new(&ctx);
            (ctx, kernel)
        })
    });
    if shared.is_none() {
        gpu_or_skip(case);
    }
    shared.as_ref()
}

/// One context for the cases that build their own small kernels (`None` without an adapter:
/// skipped, failed under CI).
fn shared_context(case: &str) -> Option<&'static GpuContext> {
    shared_matmul(case).map(|(ctx, _)| ctx)
}

/// One named test per case: `name: argument;` calls `check(name, argument)`.
macro_rules! cases {
    ($check:ident { $($name:ident: $args:expr;)* }) => {$(
        #[test]
        fn $name() {
            $check(stringify!($name), $args);
        }
    )*};
}

/// `C = A · B` for every storage of A and B, each plan against the CPU (the case is shared
/// with the browser's suite: `common::matmul_layouts`).
fn matmul_layouts(case: &str, shape: (usize, usize, usize)) {
    if let Some((ctx, kernel)) = shared_matmul(case) {
        pollster::block_on(common::matmul_layouts(ctx, kernel, case, shape));
    }
}

matmul_layout_cases!(cases);

/// See `common::matmul_forward_epilogues` (shared with the browser's suite).
fn matmul_forward_epilogues(case: &str, args: (usize, usize, usize)) {
    if let Some((ctx, kernel)) = shared_matmul(case) {
        pollster::block_on(common::matmul_forward_epilogues(ctx, kernel, case, args));
    }
}

matmul_forward_epilogues_cases!(cases);

/// See `common::matmul_activation_grad` (shared with the browser's suite).
fn matmul_activation_grad(case: &str, args: (usize, usize, usize)) {
    if let Some((ctx, kernel)) = shared_matmul(case) {
        pollster::block_on(common::matmul_activation_grad(ctx, kernel, case, args));
    }
}

matmul_activation_grad_cases!(cases);

/// See `common::matmul_row_sums` (shared with the browser's suite).
fn matmul_row_sums(case: &str, args: (usize, usize, usize)) {
    if let Some((ctx, kernel)) = shared_matmul(case) {
        pollster::block_on(common::matmul_row_sums(ctx, kernel, case, args));
    }
}

matmul_row_sums_cases!(cases);

/// Three updates of one optimizer setting (shared with the browser's suite:
/// `common::optimizer_matches_cpu`).
fn optimizer_matches_cpu(case: &str, args: (OptimizerKind, bool, f32, usize)) {
    if let Some(ctx) = shared_context(case) {
        let kernel = Optim::new(ctx);
        pollster::block_on(common::optimizer_matches_cpu(ctx, &kernel, case, args));
    }
}

optimizer_cases!(cases);

/// Runs the loss kernel (see `common::gpu_loss`).
fn gpu_loss(
    ctx: &GpuContext,
    loss: Loss,
    logits: &[f32],
    labels: &[u32],
    weighted: common::Weighting<'_>,
    rows: usize,
    units: usize,
) -> (Vec<f32>, StepMetric) {
    let kernel = LossGrad::new(ctx);
    pollster::block_on(common::gpu_loss(
        ctx,
        &kernel,
        loss,
        (logits, labels, weighted),
        rows,
        units,
    ))
}

/// One loss case against `loss_and_grad` (shared with the browser's suite:
/// `common::loss_matches_cpu`).
fn loss_matches_cpu(case: &str, args: (Loss, usize, usize, usize, bool)) {
    if let Some(ctx) = shared_context(case) {
        let kernel = LossGrad::new(ctx);
        pollster::block_on(common::loss_matches_cpu(ctx, &kernel, case, args));
    }
}

loss_cases!(cases);

/// The course's worked example: mean loss ≈ 1.445 and gradient rows p − y.
#[test]
fn softmax_xent_worked_example_on_gpu() {
    let Some(ctx) = gpu_or_skip("softmax_xent_worked_example_on_gpu") else {
        return;
    };
    let logits = [2.0, 0.5, 0.1, -1.2, 0.2, 1.5, -0.5, 0.0, -1.0, 0.0, 0.2, 2.0];
    let (dlogits, metric) = gpu_loss(&ctx, Loss::SoftmaxCrossEntropy, &logits, &[2, 0, 3], None, 3, 4);
    assert!(
        (metric.loss_sum / 3.0 - 1.445).abs() < 1e-3,
        "mean loss {}",
        metric.loss_sum / 3.0
    );
    let row0: Vec<f32> = dlogits[..4].iter().map(|g| g * 3.0).collect();
    assert_close("row 1 of p − y", &row0, &[0.7074, 0.1579, -0.8941, 0.0288], 2e-4);
    assert_eq!(metric.correct, 1, "only the third sample's arg-max (class 3) is right");
}

/// One batch gathered from a resident dataset (shared with the browser's suite:
/// `common::gather_matches_cpu`).
fn gather_matches_cpu(case: &str, args: (usize, bool, bool)) {
    if let Some(ctx) = shared_context(case) {
        let kernel = Gather::new(ctx);
        pollster::block_on(common::gather_matches_cpu(ctx, &kernel, case, args));
    }
}

gather_cases!(cases);

/// See `common::dropout_masks_match_cpu` (shared with the browser's suite).
fn dropout_masks_match_cpu(case: &str, args: Activation) {
    if let Some((ctx, kernel)) = shared_matmul(case) {
        pollster::block_on(common::dropout_masks_match_cpu(ctx, kernel, case, args));
    }
}

dropout_masks_match_cpu_cases!(cases);

//! Each WGSL kernel against its CPU twin in `cpu::ops`, on seeded random inputs and shapes that
//! are not tile multiples. Outputs start as NaN, so an element a kernel fails to write fails.
//! Tolerance: `rel_err` (max abs difference over max abs reference) ≤ 1e-5 for f32.

mod common;

use common::{assert_close, case_rng, gpu_or_skip, nan_bytes, product_plans, random_vec, read_f32, step_table, upload};
use gpu_mlp::cpu::{gemm, ops};
use gpu_mlp::gpu::kernels::loss::StepMetric;
use gpu_mlp::gpu::kernels::matmul::{MatmulOperands, ProductPlan};
use gpu_mlp::gpu::kernels::{step_offset, Epilogue, Gather, LossGrad, Matmul, Optim, Region, StepInfo};
use gpu_mlp::gpu::GpuContext;
use gpu_mlp::nn::dropout::Dropout;
use gpu_mlp::nn::model::{Activation, Loss, Product, Stored};
use gpu_mlp::settings::OptimizerKind;

const TOL: f64 = 1e-5;
const ACTIVATIONS: [Activation; 3] = [Activation::Relu, Activation::Tanh, Activation::Sigmoid];

fn poisoned(ctx: &GpuContext, label: &str, n: usize) -> wgpu::Buffer {
    ctx.storage_buffer_init(label, &nan_bytes(n)).expect("buffer")
}

/// The epilogue to test, with its operand's values.
enum Tail {
    Bias(Vec<f32>),
    BiasAct(Vec<f32>, Activation),
    ActGrad(Vec<f32>, Activation),
}

/// The step table, hidden layer and step index a dropout epilogue draws its mask from.
type Masked<'a> = Option<(&'a wgpu::Buffer, u32, usize)>;

/// `(m, k, n)`, then each operand with how it is stored, the epilogue, and its dropout: the
/// result of each of `plans`.
fn gpu_matmul(
    ctx: &GpuContext,
    kernel: &Matmul,
    (m, k, n): (usize, usize, usize),
    (a, a_stored): (&[f32], Stored),
    (b, b_stored): (&[f32], Stored),
    tail: &Tail,
    dropout: Masked<'_>,
) -> Vec<(ProductPlan, Vec<f32>)> {
    let (a_buf, b_buf, c_buf) = (upload(ctx, "a", a), upload(ctx, "b", b), poisoned(ctx, "c", m * n));
    let extra = match tail {
        Tail::Bias(v) | Tail::BiasAct(v, _) | Tail::ActGrad(v, _) => upload(ctx, "extra", v),
    };
    let region = |buf| Region::all(buf);
    let epilogue = match tail {
        Tail::Bias(_) => Epilogue::Bias(region(&extra)),
        Tail::BiasAct(_, act) => Epilogue::BiasAct(region(&extra), *act),
        Tail::ActGrad(_, act) => Epilogue::ActGrad(region(&extra), *act),
    };
    product_plans(m, k, n)
        .into_iter()
        .map(|plan| {
            let binding = kernel
                .bind(
                    ctx,
                    "test matmul",
                    &MatmulOperands {
                        m,
                        k,
                        n,
                        a: region(&a_buf),
                        a_stored,
                        b: region(&b_buf),
                        b_stored,
                        c: region(&c_buf),
                        plan,
                        partials: None,
                        epilogue,
                        row_sums: None,
                        dropout: dropout.map(|(steps, layer, _)| (steps, layer)),
                    },
                )
                .expect("fits");
            let offset = dropout.map_or(0, |(_, _, step)| step_offset(step));
            ctx.queue.write_buffer(&c_buf, 0, &nan_bytes(m * n));
            ctx.submit_pass("test matmul", |pass| kernel.dispatch(pass, &binding, offset));
            (plan, read_f32(ctx, &c_buf, m * n))
        })
        .collect()
}

/// Every plan's result against the CPU's.
fn assert_each_plan(case: &str, got: &[(ProductPlan, Vec<f32>)], want: &[f32]) {
    for (plan, values) in got {
        assert_close(
            &format!("{case} ({} slices of k {})", plan.slices, plan.k_slice),
            values,
            want,
            TOL,
        );
    }
}

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

/// A dense layer `(rows, fan_in, fan_out)`: the bias epilogue against `linear_forward`, and
/// bias + each activation against `activate` after it.
fn matmul_forward_epilogues(case: &str, (rows, fan_in, fan_out): (usize, usize, usize)) {
    let Some((ctx, kernel)) = shared_matmul(case) else {
        return;
    };
    let mut r = case_rng(case);
    let x = random_vec(&mut r, rows * fan_in);
    // Scaled like an initialized layer (He-style), so pre-activations are O(1) as in training
    // and the saturating activations are compared where they are not flat.
    let scale = (3.0 / fan_in as f32).sqrt();
    let w: Vec<f32> = random_vec(&mut r, fan_out * fan_in).iter().map(|v| v * scale).collect();
    let bias = random_vec(&mut r, fan_out);
    let mut want = vec![0.0; rows * fan_out];
    ops::linear_forward(&x, &w, &bias, rows, &mut want);
    let got = gpu_matmul(
        ctx,
        kernel,
        (rows, fan_in, fan_out),
        (&x, Stored::AsIs),
        (&w, Stored::Transposed),
        &Tail::Bias(bias.clone()),
        None,
    );
    assert_each_plan(&format!("linear {rows}×{fan_in}→{fan_out}"), &got, &want);
    for act in ACTIVATIONS {
        let mut want_act = want.clone();
        ops::activate(&mut want_act, act);
        let got = gpu_matmul(
            ctx,
            kernel,
            (rows, fan_in, fan_out),
            (&x, Stored::AsIs),
            (&w, Stored::Transposed),
            &Tail::BiasAct(bias.clone(), act),
            None,
        );
        assert_each_plan(&format!("linear+{act:?} {rows}×{fan_in}→{fan_out}"), &got, &want_act);
    }
}

// (rows, fan_in, fan_out): batch sizes 1 and 128, odd widths.
cases!(matmul_forward_epilogues {
    matmul_forward_1x785x129: (1, 785, 129);
    matmul_forward_128x784x33: (128, 784, 33);
    matmul_forward_7x3x10: (7, 3, 10);
    matmul_forward_129x2x16: (129, 2, 16);
});

/// `dZ · W ⊙ act'` for `(rows, fan_out, fan_in)`, each activation, against `activation_backward`.
fn matmul_activation_grad(case: &str, (rows, fan_out, fan_in): (usize, usize, usize)) {
    let Some((ctx, kernel)) = shared_matmul(case) else {
        return;
    };
    let mut r = case_rng(case);
    let dz = random_vec(&mut r, rows * fan_out);
    let w = random_vec(&mut r, fan_out * fan_in);
    let z = random_vec(&mut r, rows * fan_in);
    let mut dz_w = vec![0.0; rows * fan_in];
    gemm::matmul(Product::input_grad(rows, fan_in, fan_out), &dz, &w, &mut dz_w);
    for act in ACTIVATIONS {
        // The activation's output (for ReLU about half exact zeros).
        let mut out = z.clone();
        ops::activate(&mut out, act);
        let mut want = dz_w.clone();
        ops::activation_backward(&mut want, &out, act);
        let got = gpu_matmul(
            ctx,
            kernel,
            (rows, fan_out, fan_in),
            (&dz, Stored::AsIs),
            (&w, Stored::AsIs),
            &Tail::ActGrad(out, act),
            None,
        );
        assert_each_plan(&format!("dz·W ⊙ {act:?}' {rows}×{fan_out}→{fan_in}"), &got, &want);
    }
}

cases!(matmul_activation_grad {
    matmul_activation_grad_1x10x785: (1, 10, 785);
    matmul_activation_grad_128x10x64: (128, 10, 64);
    matmul_activation_grad_33x129x7: (33, 129, 7);
});

/// The weight gradient `dZᵀ · X` of `(rows, fan_in, fan_out)` with its fused row sums, the bias
/// gradient, against `linear_backward`, for every plan.
fn matmul_row_sums(case: &str, (rows, fan_in, fan_out): (usize, usize, usize)) {
    let Some((ctx, kernel)) = shared_matmul(case) else {
        return;
    };
    let mut r = case_rng(case);
    let dz = random_vec(&mut r, rows * fan_out);
    let x = random_vec(&mut r, rows * fan_in);
    let w = random_vec(&mut r, fan_out * fan_in);
    let (mut dw, mut db) = (vec![0.0; fan_out * fan_in], vec![0.0; fan_out]);
    ops::linear_backward(&dz, &x, &w, rows, &mut dw, &mut db, None);
    let (dz_buf, x_buf) = (upload(ctx, "dz", &dz), upload(ctx, "x", &x));
    for plan in product_plans(fan_out, rows, fan_in) {
        let (dw_buf, db_buf) = (poisoned(ctx, "dw", fan_out * fan_in), poisoned(ctx, "db", fan_out));
        let binding = kernel
            .bind(
                ctx,
                "test weight grad",
                &MatmulOperands {
                    m: fan_out,
                    k: rows,
                    n: fan_in,
                    a: Region::all(&dz_buf),
                    a_stored: Stored::Transposed,
                    b: Region::all(&x_buf),
                    b_stored: Stored::AsIs,
                    c: Region::all(&dw_buf),
                    plan,
                    partials: None,
                    epilogue: Epilogue::None,
                    row_sums: Some(Region::all(&db_buf)),
                    dropout: None,
                },
            )
            .expect("fits");
        ctx.submit_pass("weight grad", |pass| kernel.dispatch(pass, &binding, 0));
        let case = format!("{rows} rows, {fan_in}→{fan_out}, {} slices", plan.slices);
        assert_close(
            &format!("dW {case}"),
            &read_f32(ctx, &dw_buf, fan_out * fan_in),
            &dw,
            TOL,
        );
        assert_close(&format!("db {case}"), &read_f32(ctx, &db_buf, fan_out), &db, TOL);
    }
}

cases!(matmul_row_sums {
    matmul_row_sums_1x1x1: (1, 1, 1);
    matmul_row_sums_128x784x10: (128, 784, 10);
    matmul_row_sums_129x33x785: (129, 33, 785);
    matmul_row_sums_7x257x129: (7, 257, 129);
});

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

/// Dropout in the activation epilogue of `act`: the GPU draws exactly the CPU's mask (same
/// seed, step, layer, element), forward and backward.
fn dropout_masks_match_cpu(case: &str, act: Activation) {
    let Some((ctx, kernel)) = shared_matmul(case) else {
        return;
    };
    let mut r = case_rng(case);
    let (rows, fan_in, fan_out, layer) = (33, 129, 65, 1u32);
    let dropout = Dropout {
        p: 0.25,
        seed: 1234,
        step: 7,
    };
    let x = random_vec(&mut r, rows * fan_in);
    let w: Vec<f32> = random_vec(&mut r, fan_out * fan_in).iter().map(|v| v * 0.15).collect();
    let bias = random_vec(&mut r, fan_out);
    // Step 1 of the table carries the dropout; step 0 none, so the offset is exercised.
    let info = StepInfo {
        seed: dropout.seed,
        index: dropout.step,
        dropout: dropout.p,
        ..Default::default()
    };
    let steps = step_table(ctx, &[StepInfo::default(), info]);
    let mut want = vec![0.0; rows * fan_out];
    ops::linear_forward(&x, &w, &bias, rows, &mut want);
    ops::activate(&mut want, act);
    ops::dropout_forward(&mut want, &dropout, layer);
    let dropped = (0..want.len() as u32).filter(|&i| !dropout.keep(layer, i)).count() as f64 / want.len() as f64;
    let masked = Some((&steps, layer, 1));
    let got = gpu_matmul(
        ctx,
        kernel,
        (rows, fan_in, fan_out),
        (&x, Stored::AsIs),
        (&w, Stored::Transposed),
        &Tail::BiasAct(bias.clone(), act),
        masked,
    );
    assert_each_plan(&format!("{act:?} + dropout forward"), &got, &want);
    assert!(
        (0.2..0.3).contains(&dropped),
        "p = 0.25, but {dropped} of the units are dropped"
    );

    // Backward through the same mask: dz = (dZ·W) ⊙ mask/(1 − p) ⊙ act'.
    let dz_next = random_vec(&mut r, rows * fan_in);
    let w2 = random_vec(&mut r, fan_in * fan_out);
    let mut want_grad = vec![0.0; rows * fan_out];
    gemm::matmul(
        Product {
            m: rows,
            k: fan_in,
            n: fan_out,
            a: Stored::AsIs,
            b: Stored::AsIs,
        },
        &dz_next,
        &w2,
        &mut want_grad,
    );
    ops::dropout_activation_backward(&mut want_grad, &want, act, &dropout, layer);
    let got = gpu_matmul(
        ctx,
        kernel,
        (rows, fan_in, fan_out),
        (&dz_next, Stored::AsIs),
        (&w2, Stored::AsIs),
        &Tail::ActGrad(want.clone(), act),
        masked,
    );
    assert_each_plan(&format!("{act:?} + dropout backward"), &got, &want_grad);
}

cases!(dropout_masks_match_cpu {
    dropout_relu: Activation::Relu;
    dropout_tanh: Activation::Tanh;
    dropout_sigmoid: Activation::Sigmoid;
});

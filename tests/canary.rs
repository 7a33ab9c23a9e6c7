//! The matmul, loss and optimizer kernels are compiled without wgpu's runtime bounds checks
//! (`RuntimeChecks::GuardedByKernel`): their own index guards are all that keeps them inside
//! their regions. Here every
//! region it is bound to sits inside a larger buffer: inputs between NaNs (a read past its
//! region would poison the result), outputs (C, row sums, split-k partials) between canary
//! values that must come back bit for bit. Shapes are edge cases (1, 7, 129, 785 and other
//! non-multiples of every tile and of TILE_K), each launched unsplit and split along k. Each
//! binding includes the guards after its region, so a stray access is seen, not dropped.
//! Tolerance against the CPU: relative error ≤ 1e-5.

use crate::common;

use common::{assert_close, gpu_or_skip, product_plans, random_vec, read_f32, rng, step_table};
use gpu_mlp::cpu::{gemm, ops};
use gpu_mlp::gpu::kernels::loss::LossOperands;
use gpu_mlp::gpu::kernels::matmul::MatmulOperands;
use gpu_mlp::gpu::kernels::{step_offset, Epilogue, LossGrad, Matmul, Optim, Region, StepInfo};
use gpu_mlp::gpu::GpuContext;
use gpu_mlp::nn::model::{Activation, Loss, Product, Stored, TENSOR_ALIGN};
use gpu_mlp::settings::{Optimizer, OptimizerKind};
use rand::Rng;

const TOL: f64 = 1e-5;
/// Written around every output region; a value no kernel computes here.
const CANARY: u32 = 0x7f4a_11ce;
/// Guard elements on each side of a region (a multiple of the binding offset alignment).
const GUARD: usize = TENSOR_ALIGN;

/// One region of `len` elements in a buffer with `GUARD` guard values before and at least that
/// many after (the region's end is not aligned, so one element past it is a guard).
struct Guarded {
    buffer: wgpu::Buffer,
    len: usize,
    total: usize,
}

impl Guarded {
    /// `values` between guards of `guard` (bit pattern).
    fn new(ctx: &GpuContext, label: &str, values: &[f32], guard: u32) -> Self {
        let total = GUARD + values.len() + GUARD + 3;
        let mut all = vec![f32::from_bits(guard); total];
        all[GUARD..GUARD + values.len()].copy_from_slice(values);
        let buffer = ctx
            .storage_buffer_init(label, bytemuck::cast_slice(&all))
            .expect("buffer fits");
        Guarded {
            buffer,
            len: values.len(),
            total,
        }
    }

    /// An input between NaNs.
    fn input(ctx: &GpuContext, label: &str, values: &[f32]) -> Self {
        Guarded::new(ctx, label, values, f32::NAN.to_bits())
    }

    /// An output of `len` NaNs (unwritten elements show) between canaries.
    fn output(ctx: &GpuContext, label: &str, len: usize) -> Self {
        Guarded::new(ctx, label, &vec![f32::NAN; len], CANARY)
    }

    /// The region with the guards after it: the binding reaches past the region, so a stray
    /// access lands on a guard instead of being dropped by the driver's own robustness (Vulkan
    /// discards writes outside a binding, which would hide the bug).
    fn region(&self) -> Region<'_> {
        Region {
            buffer: &self.buffer,
            offset: GUARD,
            len: self.len + GUARD,
        }
    }

    /// The region's values, after checking every guard still holds the canary.
    fn read_checked(&self, ctx: &GpuContext, case: &str) -> Vec<f32> {
        let all = read_f32(ctx, &self.buffer, self.total);
        let (before, rest) = all.split_at(GUARD);
        let (inside, after) = rest.split_at(self.len);
        for (side, guards) in [("before", before), ("after", after)] {
            if let Some(i) = guards.iter().position(|v| v.to_bits() != CANARY) {
                panic!(
                    "{case}: the kernel wrote {side} its region (guard {i} is {})",
                    guards[i]
                );
            }
        }
        inside.to_vec()
    }
}

/// Edge shapes (m, k, n): 1, 7, 129, 785, and sizes just past the 32/64/128-wide tiles and the
/// 16/32-deep k stages.
const SHAPES: [(usize, usize, usize); 8] = [
    (1, 1, 1),
    (1, 785, 129),
    (7, 129, 785),
    (129, 7, 1),
    (785, 33, 7),
    (33, 785, 129),
    (65, 17, 97),
    (10, 129, 65),
];

/// What the test product's epilogue is, cycling with the shape so every kind meets edge shapes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// No epilogue, with row sums (a weight gradient).
    RowSums,
    /// Bias and ReLU (a forward layer).
    BiasRelu,
    /// Times tanh'(output) (an input gradient).
    TanhGrad,
}

#[test]
fn matmul_writes_nothing_outside_its_regions() {
    let Some(ctx) = gpu_or_skip("matmul_writes_nothing_outside_its_regions") else {
        return;
    };
    let kernel = Matmul::new(&ctx);
    let mut r = rng(11);
    let layouts = [
        (Stored::AsIs, Stored::AsIs),
        (Stored::Transposed, Stored::AsIs),
        (Stored::AsIs, Stored::Transposed),
        (Stored::Transposed, Stored::Transposed),
    ];
    let kinds = [Kind::RowSums, Kind::BiasRelu, Kind::TanhGrad];
    for (i, &(m, k, n)) in SHAPES.iter().enumerate() {
        let (a_stored, b_stored) = layouts[i % layouts.len()];
        let kind = kinds[i % kinds.len()];
        let (a, b) = (random_vec(&mut r, m * k), random_vec(&mut r, k * n));
        let mut want = vec![0.0; m * n];
        gemm::matmul(
            Product {
                m,
                k,
                n,
                a: a_stored,
                b: b_stored,
            },
            &a,
            &b,
            &mut want,
        );
        let (operand, want_sums) = match kind {
            Kind::RowSums => {
                // Σ_k A[row, k], whichever way A is stored.
                let at = |row: usize, j: usize| match a_stored {
                    Stored::AsIs => a[row * k + j],
                    Stored::Transposed => a[j * m + row],
                };
                (Vec::new(), (0..m).map(|row| (0..k).map(|j| at(row, j)).sum()).collect())
            }
            Kind::BiasRelu => {
                let bias = random_vec(&mut r, n);
                for (e, v) in want.iter_mut().enumerate() {
                    *v += bias[e % n];
                }
                ops::activate(&mut want, Activation::Relu);
                (bias, Vec::new())
            }
            Kind::TanhGrad => {
                let mut out = random_vec(&mut r, m * n);
                ops::activate(&mut out, Activation::Tanh);
                ops::activation_backward(&mut want, &out, Activation::Tanh);
                (out, Vec::new())
            }
        };
        let (a_buf, b_buf) = (Guarded::input(&ctx, "a", &a), Guarded::input(&ctx, "b", &b));
        let operand_buf = Guarded::input(&ctx, "epilogue operand", &operand);
        for plan in product_plans(m, k, n) {
            let case = format!(
                "{m}×{k}×{n} {kind:?} A {a_stored:?} B {b_stored:?}, {} slices",
                plan.slices
            );
            let c = Guarded::output(&ctx, "c", m * n);
            let sums = Guarded::output(&ctx, "sums", m);
            let partials = Guarded::output(&ctx, "partials", plan.partials_len(m, n));
            let binding = kernel
                .bind(
                    &ctx,
                    "canary matmul",
                    &MatmulOperands {
                        m,
                        k,
                        n,
                        a: a_buf.region(),
                        a_stored,
                        b: b_buf.region(),
                        b_stored,
                        c: c.region(),
                        plan,
                        partials: Some(partials.region()),
                        epilogue: match kind {
                            Kind::RowSums => Epilogue::None,
                            Kind::BiasRelu => Epilogue::BiasAct(operand_buf.region(), Activation::Relu),
                            Kind::TanhGrad => Epilogue::ActGrad(operand_buf.region(), Activation::Tanh),
                        },
                        row_sums: matches!(kind, Kind::RowSums).then(|| sums.region()),
                        dropout: None,
                    },
                )
                .expect("fits");
            ctx.submit_pass("canary", |pass| kernel.dispatch(pass, &binding, 0));
            assert_close(&case, &c.read_checked(&ctx, &format!("{case}, C")), &want, TOL);
            let got_sums = sums.read_checked(&ctx, &format!("{case}, row sums"));
            if matches!(kind, Kind::RowSums) {
                assert_close(&format!("{case}, row sums"), &got_sums, &want_sums, TOL);
            }
            // Every slice writes its whole block (and, with row sums, its partial sums).
            let got_partials = partials.read_checked(&ctx, &format!("{case}, partials"));
            let written = match kind {
                Kind::RowSums => got_partials.len(),
                _ => plan.slices * m * n,
            };
            assert!(
                plan.slices == 1 || got_partials[..written].iter().all(|v| v.is_finite()),
                "{case}: a partial result was never written"
            );
        }
    }
}

/// The loss kernel at batch sizes around its 256-row chunks, short last batches included: the
/// gradient region and the metrics entries around the step's slot keep their canaries.
#[test]
fn loss_writes_nothing_outside_its_regions() {
    let Some(ctx) = gpu_or_skip("loss_writes_nothing_outside_its_regions") else {
        return;
    };
    let kernel = LossGrad::new(&ctx);
    let mut r = rng(12);
    for loss in [
        Loss::SoftmaxCrossEntropy,
        Loss::SoftmaxProbCrossEntropy,
        Loss::BinaryCrossEntropy,
    ] {
        for &(batch, rows, classes) in &[(1, 1, 2), (7, 7, 10), (129, 100, 10), (257, 257, 3), (33, 5, 785)] {
            let (classes, units) = match loss {
                Loss::BinaryCrossEntropy => (2, 1),
                _ => (classes, classes),
            };
            let logits = random_vec(&mut r, batch * units);
            let labels: Vec<u32> = (0..batch).map(|_| r.random_range(0..classes as u32)).collect();
            // Weighted: each row's weight read through the order, both bound between NaN guards.
            let samples = batch + 5;
            let order: Vec<u32> = (0..batch).map(|_| r.random_range(0..samples as u32)).collect();
            let sample_weights: Vec<f32> = (0..samples).map(|_| r.random_range(0.0..3.0)).collect();
            let weights: Vec<f32> = order.iter().map(|&i| sample_weights[i as usize]).collect();
            let mut want = vec![0.0; batch * units];
            let expected = ops::loss_and_grad(loss, &logits, &labels, Some(&weights), rows, units, &mut want);
            let case = format!("{loss:?} batch {batch}, {rows} rows, {units} units, weighted");
            let order_buf = Guarded::input(&ctx, "order", bytemuck::cast_slice(&order));
            let weights_buf = Guarded::input(&ctx, "weights", &sample_weights);
            let logits_buf = Guarded::input(&ctx, "logits", &logits);
            let labels_buf = ctx
                .storage_buffer_init("labels", bytemuck::cast_slice(&labels))
                .expect("buffer");
            let dlogits = Guarded::output(&ctx, "dlogits", batch * units);
            // Four metric entries of canaries; the step writes slot 2 only.
            let metrics = ctx
                .storage_buffer_init("metrics", bytemuck::cast_slice(&[CANARY; 8]))
                .expect("buffer");
            let steps = step_table(
                &ctx,
                &[StepInfo {
                    rows: rows as u32,
                    slot: 2,
                    weighted: 1,
                    ..Default::default()
                }],
            );
            let binding = kernel.bind(
                &ctx,
                &LossOperands {
                    steps: &steps,
                    logits: logits_buf.region(),
                    labels: &labels_buf,
                    dlogits: dlogits.region(),
                    metrics: &metrics,
                    order: order_buf.region(),
                    weights: weights_buf.region(),
                    loss,
                    units,
                    batch,
                },
            );
            ctx.submit_pass("canary loss", |pass| kernel.dispatch(pass, &binding, step_offset(0)));
            assert_close(&case, &dlogits.read_checked(&ctx, &case), &want, TOL);
            let entries: Vec<u32> = bytemuck::pod_collect_to_vec(&ctx.read_back(&metrics, 32).expect("read back"));
            for (i, pair) in entries.chunks(2).enumerate() {
                if i == 2 {
                    let loss_sum = f32::from_bits(pair[0]);
                    assert_close(&format!("{case} loss"), &[loss_sum], &[expected.loss_sum as f32], TOL);
                    assert_eq!(pair[1], expected.correct, "{case}");
                } else {
                    assert_eq!(pair, [CANARY, CANARY], "{case}: metrics entry {i} was written");
                }
            }
        }
    }
}

/// The optimizer update at lengths around its 256-wide workgroups: parameters are updated within
/// their region only, and the gradients it reads are bound with NaN after them.
#[test]
fn optimizer_writes_nothing_outside_its_region() {
    let Some(ctx) = gpu_or_skip("optimizer_writes_nothing_outside_its_region") else {
        return;
    };
    let kernel = Optim::new(&ctx);
    let mut r = rng(13);
    for &len in &[1, 7, 255, 257, 785] {
        for kind in [OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::Adam] {
            let opt = Optimizer {
                kind,
                ..Optimizer::default()
            };
            let (params, grads) = (random_vec(&mut r, len), random_vec(&mut r, len));
            let update = opt.step(1, 0.05);
            let (mut want, mut state) = (params.clone(), vec![0.0; len * kind.state_per_param()]);
            ops::optimizer_step(&opt, &update, &mut want, &grads, &mut state);
            let case = format!("{kind:?} len {len}");
            let p = Guarded::new(&ctx, "params", &params, CANARY);
            let g = Guarded::input(&ctx, "grads", &grads);
            let steps = step_table(
                &ctx,
                &[StepInfo {
                    lr: update.lr,
                    bias_correction1: update.bias_correction1,
                    bias_correction2: update.bias_correction2,
                    ..Default::default()
                }],
            );
            // The update's length is its parameter region's: that one is bound exactly.
            let exact = Region { len, ..p.region() };
            let binding = kernel.bind(&ctx, &steps, &opt, exact, g.region()).expect("fits");
            ctx.submit_pass("canary optim", |pass| kernel.dispatch(pass, &binding, step_offset(0)));
            assert_close(&case, &p.read_checked(&ctx, &case), &want, TOL);
        }
    }
}

/// CI runs the GPU suites a second time with `WGPU_BACKEND=gl` (Mesa's llvmpipe through EGL):
/// the adapter must then be that API's, or the second run would prove nothing about it. Says
/// which adapter the suite ran on, where a person sees it.
#[test]
fn the_suite_runs_on_the_requested_graphics_api() {
    let Some(ctx) = gpu_or_skip("the_suite_runs_on_the_requested_graphics_api") else {
        return;
    };
    use std::io::Write as _;
    let adapter = &ctx.adapter;
    let _ = writeln!(
        std::io::stderr().lock(),
        "GPU suites run on {} ({}, {:?})",
        adapter.name,
        adapter.backend,
        adapter.device_type
    );
    if let Ok(wanted) = std::env::var("WGPU_BACKEND") {
        assert!(
            wanted.eq_ignore_ascii_case(&adapter.backend),
            "WGPU_BACKEND={wanted}, but the adapter is {} ({})",
            adapter.name,
            adapter.backend
        );
    }
}

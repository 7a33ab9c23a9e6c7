//! The matmul kernel is compiled without wgpu's runtime bounds checks (`RuntimeChecks::
//! GuardedByKernel`): its own index guards are all that keeps it inside its regions. Here every
//! region it is bound to sits inside a larger buffer: inputs between NaNs (a read past its
//! region would poison the result), outputs (C, row sums, split-k partials) between canary
//! values that must come back bit for bit. Shapes are edge cases (1, 7, 129, 785 and other
//! non-multiples of every tile and of TILE_K), each launched unsplit and split along k. Each
//! binding includes the guards after its region, so a stray access is seen, not dropped.
//! Tolerance against the CPU: relative error ≤ 1e-5.

mod common;

use common::{assert_close, gpu_or_skip, random_vec, read_f32, rng};
use gpu_mlp::cpu::ops;
use gpu_mlp::gpu::kernels::matmul::{MatmulOperands, ProductPlan};
use gpu_mlp::gpu::kernels::{Epilogue, Matmul, Region};
use gpu_mlp::gpu::GpuContext;
use gpu_mlp::model::{Activation, Stored, TENSOR_ALIGN};

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

fn plans(m: usize, k: usize, n: usize) -> Vec<ProductPlan> {
    let mut plans = vec![
        ProductPlan::unsplit(m, k, n),
        ProductPlan::split(m, k, n, 3),
        ProductPlan::split(m, k, n, k),
    ];
    plans.dedup();
    plans
}

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
        ops::matmul(m, k, n, &a, a_stored, &b, b_stored, &mut want);
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
        for plan in plans(m, k, n) {
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

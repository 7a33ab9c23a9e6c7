//! What a kernel test needs besides the GPU, shared by the native suites (through `common`) and
//! the browser's (`tests/browser.rs`, which builds for wasm32 and cannot take the rest of
//! `common`): seeded inputs, NaN-poisoned outputs, the comparison, the product plans, the step
//! table.

use gpu_mlp::gpu::GpuContext;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `max |got − want| / max |want|`: the error relative to the reference's scale, so elements
/// near zero (where element-wise relative error is meaningless after cancellation) do not
/// dominate. Any non-finite value in `got`, or a length mismatch, gives infinity: NaN never passes.
pub fn rel_err(got: &[f32], want: &[f32]) -> f64 {
    if got.len() != want.len() || got.iter().any(|v| !v.is_finite()) {
        return f64::INFINITY;
    }
    let scale = want.iter().fold(0f64, |m, &w| m.max(f64::from(w).abs()));
    let diff = got
        .iter()
        .zip(want)
        .fold(0f64, |m, (&g, &w)| m.max((f64::from(g) - f64::from(w)).abs()));
    if scale == 0.0 {
        diff
    } else {
        diff / scale
    }
}

/// Asserts `rel_err(got, want) ≤ tol` with a message naming the case.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f64) {
    let e = rel_err(got, want);
    assert!(e <= tol, "{what}: relative error {e:e} > {tol:e}");
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A seed of its own for each case, from its name.
pub fn case_rng(case: &str) -> ChaCha8Rng {
    rng(case
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))))
}

/// `n` values uniform in [−1, 1).
pub fn random_vec(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Bytes of `n` f32 NaNs: fills output buffers so an element the kernel never writes shows.
pub fn nan_bytes(n: usize) -> Vec<u8> {
    bytemuck::cast_slice(&vec![f32::NAN; n.max(1)]).to_vec()
}

/// Each way a product can be launched: whole k per workgroup, k split in 3, and one staged
/// tile of k per slice (the most slices `ProductPlan::split` makes), so the split-k reduction
/// is checked at every shape.
pub fn product_plans(m: usize, k: usize, n: usize) -> Vec<gpu_mlp::gpu::kernels::matmul::ProductPlan> {
    use gpu_mlp::gpu::kernels::matmul::ProductPlan;
    let mut plans = vec![
        ProductPlan::unsplit(m, k, n),
        ProductPlan::split(m, k, n, 3),
        ProductPlan::split(m, k, n, k),
    ];
    plans.dedup();
    plans
}

/// A uniform buffer holding `infos` at step-table spacing, as the backend writes it.
pub fn step_table(ctx: &GpuContext, infos: &[gpu_mlp::gpu::kernels::StepInfo]) -> wgpu::Buffer {
    use wgpu::util::DeviceExt;
    ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("test steps"),
        contents: &gpu_mlp::gpu::kernels::encode_step_table(infos),
        usage: wgpu::BufferUsages::UNIFORM,
    })
}

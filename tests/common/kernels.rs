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

// Kernel cases run by both suites: natively (`tests/parity_kernels.rs`, each blocked on) and
// in the browser's WebGPU (`tests/browser.rs`, each awaited). The case lists are macros taking
// the suite's own test-generating macro, so one list names each case once for both.

/// The native kernel suite's tolerance: `rel_err` ≤ 1e-5.
pub const KERNEL_TOL: f64 = 1e-5;

/// The absolute error WGSL allows `log` on [0.5, 2] (2^-21, the WGSL spec's floating-point
/// accuracy table): a row's small loss may carry it (SwiftShader's log does, LLVM's not).
pub const LOG_ABS_ERROR: f64 = 4.76837158203125e-7;

pub fn upload(ctx: &GpuContext, label: &str, values: &[f32]) -> wgpu::Buffer {
    ctx.storage_buffer_init(label, bytemuck::cast_slice(values))
        .expect("buffer")
}

/// `n` f32 read back, the copy awaited.
pub async fn read_f32_async(ctx: &GpuContext, buffer: &wgpu::Buffer, n: usize) -> Vec<f32> {
    let raw = ctx.read_back_async(buffer, (n * 4) as u64).await.expect("read back");
    bytemuck::pod_collect_to_vec(&raw)
}

/// `C = A · B` of shape `(m, k, n)` for every storage of A and B, each plan (split k included)
/// against `gemm::matmul`.
pub async fn matmul_layouts(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::Matmul,
    case: &str,
    (m, k, n): (usize, usize, usize),
) {
    use gpu_mlp::gpu::kernels::matmul::MatmulOperands;
    use gpu_mlp::gpu::kernels::{Epilogue, Region};
    use gpu_mlp::nn::model::{Product, Stored};
    let mut r = case_rng(case);
    let (a, b) = (random_vec(&mut r, m * k), random_vec(&mut r, k * n));
    let (a_buf, b_buf) = (upload(ctx, "a", &a), upload(ctx, "b", &b));
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
            gpu_mlp::cpu::gemm::matmul(product, &a, &b, &mut want);
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
                let binding = kernel.bind(ctx, "test matmul", &operands).expect("fits");
                ctx.queue.write_buffer(&c_buf, 0, &nan_bytes(m * n));
                ctx.submit_pass("test matmul", |pass| kernel.dispatch(pass, &binding, 0));
                let what = format!(
                    "matmul {m}×{k}×{n} A {a_stored:?} B {b_stored:?} ({} slices of k {})",
                    plan.slices, plan.k_slice
                );
                assert_close(&what, &read_f32_async(ctx, &c_buf, m * n).await, &want, KERNEL_TOL);
            }
        }
    }
}

/// The matmul layout cases, `(m, k, n)`: none of them tile multiples but the last two.
#[macro_export]
macro_rules! matmul_layout_cases {
    ($suite:ident) => {
        $suite!(matmul_layouts {
            matmul_layouts_1x1x1: (1, 1, 1);
            matmul_layouts_3x7x33: (3, 7, 33);
            matmul_layouts_7x785x3: (7, 785, 3);
            matmul_layouts_33x129x7: (33, 129, 7);
            matmul_layouts_129x33x785: (129, 33, 785);
            matmul_layouts_1x785x129: (1, 785, 129);
            matmul_layouts_128x784x64: (128, 784, 64);
            matmul_layouts_64x128x10: (64, 128, 10);
        });
    };
}

/// A weighted step's order and every sample's weight (None: unweighted).
pub type Weighting<'a> = Option<(&'a [u32], &'a [f32])>;

/// Runs the loss kernel on `logits` (`batch × units`, `labels` one per row, `weighted` or not)
/// for a step of `rows` samples, writing its metrics to slot 2. Returns (gradient, metric).
pub async fn gpu_loss(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::LossGrad,
    loss: gpu_mlp::nn::model::Loss,
    (logits, labels, weighted): (&[f32], &[u32], Weighting<'_>),
    rows: usize,
    units: usize,
) -> (Vec<f32>, gpu_mlp::gpu::kernels::loss::StepMetric) {
    use gpu_mlp::gpu::kernels::loss::{LossOperands, StepMetric};
    use gpu_mlp::gpu::kernels::{step_offset, Region, StepInfo};
    let batch = labels.len();
    // Unweighted, the order and weights are bound but never read: NaN would show if they were.
    let (order, weights) = weighted.unwrap_or((&[0], &[f32::NAN]));
    let order_buf = ctx
        .storage_buffer_init("order", bytemuck::cast_slice(order))
        .expect("buffer");
    let weights_buf = upload(ctx, "weights", weights);
    let logits_buf = upload(ctx, "logits", logits);
    let labels_buf = ctx
        .storage_buffer_init("labels", bytemuck::cast_slice(labels))
        .expect("buffer");
    let dlogits = ctx
        .storage_buffer_init("dlogits", &nan_bytes(batch * units))
        .expect("buffer");
    let metrics = ctx.storage_buffer_init("metrics", &nan_bytes(2 * 4)).expect("buffer");
    let info = StepInfo {
        rows: rows as u32,
        slot: 2,
        weighted: u32::from(weighted.is_some()),
        ..Default::default()
    };
    let steps = step_table(ctx, &[info]);
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
    let binding = kernel.bind(ctx, &operands);
    ctx.submit_pass("loss", |pass| kernel.dispatch(pass, &binding, step_offset(0)));
    let raw = ctx.read_back_async(&metrics, 4 * 8).await.expect("read back");
    let all: Vec<StepMetric> = bytemuck::pod_collect_to_vec(&raw);
    (read_f32_async(ctx, &dlogits, batch * units).await, all[2])
}

/// One loss on a batch of `batch` rows of which the step uses `rows` (a short last batch
/// leaves the rest zero), `classes` classes, unweighted or with a random weight per sample
/// (read through a random order): gradient, loss sum and hits against `loss_and_grad`. The
/// loss sum may be off by `rows` × [`LOG_ABS_ERROR`] beyond the relative tolerance.
pub async fn loss_matches_cpu(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::LossGrad,
    case: &str,
    (loss, batch, rows, classes, weighted): (gpu_mlp::nn::model::Loss, usize, usize, usize, bool),
) {
    let mut r = case_rng(case);
    let units = loss.output_units(classes).expect("valid");
    let logits: Vec<f32> = random_vec(&mut r, batch * units).iter().map(|v| 8.0 * v).collect();
    let labels: Vec<u32> = (0..batch).map(|_| r.random_range(0..classes as u32)).collect();
    let samples = 3 * batch + 1;
    let order: Vec<u32> = (0..batch).map(|_| r.random_range(0..samples as u32)).collect();
    let sample_weights: Vec<f32> = (0..samples).map(|_| r.random_range(0.0..4.0)).collect();
    let batch_weights: Vec<f32> = order.iter().map(|&i| sample_weights[i as usize]).collect();
    let mut want = vec![f32::NAN; batch * units];
    let cpu_weights = weighted.then_some(batch_weights.as_slice());
    let expected = gpu_mlp::cpu::ops::loss_and_grad(loss, &logits, &labels, cpu_weights, rows, units, &mut want);
    let gpu_weights = weighted.then_some((order.as_slice(), sample_weights.as_slice()));
    let (got, metric) = gpu_loss(ctx, kernel, loss, (&logits, &labels, gpu_weights), rows, units).await;
    assert_close(case, &got, &want, KERNEL_TOL);
    assert_eq!(metric.correct, expected.correct, "{case}: correct count");
    let err = (f64::from(metric.loss_sum) - expected.loss_sum).abs();
    let bound = KERNEL_TOL * expected.loss_sum.abs() + rows as f64 * LOG_ABS_ERROR;
    assert!(
        err <= bound,
        "{case}: loss sum {} vs {} (off by {err:e} > {bound:e})",
        metric.loss_sum,
        expected.loss_sum
    );
}

/// The loss cases, `(loss, batch, rows, classes, weighted)`: one row, a full batch, short
/// batches, many classes; some again with sample weights.
#[macro_export]
macro_rules! loss_cases {
    ($suite:ident) => {
        $suite!(loss_matches_cpu {
            loss_logits_ce_1_row: (Loss::SoftmaxCrossEntropy, 1, 1, 2, false);
            loss_logits_ce_128: (Loss::SoftmaxCrossEntropy, 128, 128, 10, false);
            loss_logits_ce_short_100_of_129: (Loss::SoftmaxCrossEntropy, 129, 100, 10, false);
            loss_logits_ce_short_257_of_300: (Loss::SoftmaxCrossEntropy, 300, 257, 3, false);
            loss_logits_ce_785_classes: (Loss::SoftmaxCrossEntropy, 7, 7, 785, false);
            loss_prob_ce_1_row: (Loss::SoftmaxProbCrossEntropy, 1, 1, 2, false);
            loss_prob_ce_128: (Loss::SoftmaxProbCrossEntropy, 128, 128, 10, false);
            loss_prob_ce_short_100_of_129: (Loss::SoftmaxProbCrossEntropy, 129, 100, 10, false);
            loss_prob_ce_short_257_of_300: (Loss::SoftmaxProbCrossEntropy, 300, 257, 3, false);
            loss_prob_ce_785_classes: (Loss::SoftmaxProbCrossEntropy, 7, 7, 785, false);
            loss_binary_ce_1_row: (Loss::BinaryCrossEntropy, 1, 1, 2, false);
            loss_binary_ce_128: (Loss::BinaryCrossEntropy, 128, 128, 2, false);
            loss_binary_ce_short_100_of_129: (Loss::BinaryCrossEntropy, 129, 100, 2, false);
            loss_binary_ce_short_257_of_300: (Loss::BinaryCrossEntropy, 300, 257, 2, false);
            loss_weighted_logits_ce_1_row: (Loss::SoftmaxCrossEntropy, 1, 1, 2, true);
            loss_weighted_logits_ce_short_100_of_129: (Loss::SoftmaxCrossEntropy, 129, 100, 10, true);
            loss_weighted_logits_ce_short_257_of_300: (Loss::SoftmaxCrossEntropy, 300, 257, 3, true);
            loss_weighted_logits_ce_785_classes: (Loss::SoftmaxCrossEntropy, 7, 7, 785, true);
            loss_weighted_prob_ce_short_100_of_129: (Loss::SoftmaxProbCrossEntropy, 129, 100, 10, true);
            loss_weighted_binary_ce_1_row: (Loss::BinaryCrossEntropy, 1, 1, 2, true);
            loss_weighted_binary_ce_short_257_of_300: (Loss::BinaryCrossEntropy, 300, 257, 2, true);
        });
    };
}

/// Three updates of one optimizer setting `(kind, nesterov, weight decay)` over `len`
/// parameters, from zero state, against `cpu::ops::optimizer_step`: parameters and state
/// (velocity, Adam's m and v) agree.
pub async fn optimizer_matches_cpu(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::Optim,
    case: &str,
    (kind, nesterov, weight_decay, len): (gpu_mlp::settings::OptimizerKind, bool, f32, usize),
) {
    use gpu_mlp::gpu::kernels::{step_offset, Region, StepInfo};
    use gpu_mlp::nn::optim::UpdateStep;
    use gpu_mlp::settings::Optimizer;
    let mut r = case_rng(case);
    let opt = Optimizer {
        kind,
        nesterov,
        weight_decay,
        ..Optimizer::default()
    };
    let (params, grads) = (random_vec(&mut r, len), random_vec(&mut r, len));
    let updates: Vec<UpdateStep> = (1..=3).map(|t| opt.step(t, 0.05 / t as f32)).collect();
    let (mut want, mut want_state) = (params.clone(), vec![0.0; len * kind.state_per_param()]);
    for u in &updates {
        gpu_mlp::cpu::ops::optimizer_step(&opt, u, &mut want, &grads, &mut want_state);
    }
    let (p_buf, g_buf) = (upload(ctx, "p", &params), upload(ctx, "g", &grads));
    let infos: Vec<StepInfo> = updates
        .iter()
        .map(|u| StepInfo {
            lr: u.lr,
            bias_correction1: u.bias_correction1,
            bias_correction2: u.bias_correction2,
            ..Default::default()
        })
        .collect();
    let steps = step_table(ctx, &infos);
    // Exactly `len` long: the buffers are padded to 16 bytes, and the state layout depends on the length.
    let region = |buffer| Region { buffer, offset: 0, len };
    let binding = kernel
        .bind(ctx, &steps, &opt, region(&p_buf), region(&g_buf))
        .expect("fits");
    ctx.submit_pass("optim", |pass| {
        for i in 0..infos.len() {
            kernel.dispatch(pass, &binding, step_offset(i));
        }
    });
    assert_close(case, &read_f32_async(ctx, &p_buf, len).await, &want, KERNEL_TOL);
    if !want_state.is_empty() {
        assert_close(
            &format!("{case} state"),
            &read_f32_async(ctx, &binding.state, want_state.len()).await,
            &want_state,
            KERNEL_TOL,
        );
    }
}

/// The optimizer cases, `(kind, nesterov, weight decay, len)`: every optimizer setting at lengths
/// 1, 7, 785 and a 784-512-10 model's 407 050 parameters.
#[macro_export]
macro_rules! optimizer_cases {
    ($suite:ident) => {
        $suite!(optimizer_matches_cpu {
            optim_sgd_len_1: (OptimizerKind::Sgd, false, 0.0, 1);
            optim_sgd_len_7: (OptimizerKind::Sgd, false, 0.0, 7);
            optim_sgd_len_785: (OptimizerKind::Sgd, false, 0.0, 785);
            optim_sgd_len_407050: (OptimizerKind::Sgd, false, 0.0, 407_050);
            optim_sgd_wd_len_1: (OptimizerKind::Sgd, false, 0.01, 1);
            optim_sgd_wd_len_7: (OptimizerKind::Sgd, false, 0.01, 7);
            optim_sgd_wd_len_785: (OptimizerKind::Sgd, false, 0.01, 785);
            optim_sgd_wd_len_407050: (OptimizerKind::Sgd, false, 0.01, 407_050);
            optim_momentum_len_1: (OptimizerKind::Momentum, false, 0.0, 1);
            optim_momentum_len_7: (OptimizerKind::Momentum, false, 0.0, 7);
            optim_momentum_len_785: (OptimizerKind::Momentum, false, 0.0, 785);
            optim_momentum_len_407050: (OptimizerKind::Momentum, false, 0.0, 407_050);
            optim_nesterov_wd_len_1: (OptimizerKind::Momentum, true, 0.01, 1);
            optim_nesterov_wd_len_7: (OptimizerKind::Momentum, true, 0.01, 7);
            optim_nesterov_wd_len_785: (OptimizerKind::Momentum, true, 0.01, 785);
            optim_nesterov_wd_len_407050: (OptimizerKind::Momentum, true, 0.01, 407_050);
            optim_adam_len_1: (OptimizerKind::Adam, false, 0.0, 1);
            optim_adam_len_7: (OptimizerKind::Adam, false, 0.0, 7);
            optim_adam_len_785: (OptimizerKind::Adam, false, 0.0, 785);
            optim_adam_len_407050: (OptimizerKind::Adam, false, 0.0, 407_050);
            optim_adam_wd_len_1: (OptimizerKind::Adam, false, 0.01, 1);
            optim_adam_wd_len_7: (OptimizerKind::Adam, false, 0.01, 7);
            optim_adam_wd_len_785: (OptimizerKind::Adam, false, 0.01, 785);
            optim_adam_wd_len_407050: (OptimizerKind::Adam, false, 0.01, 407_050);
            optim_adamw_len_1: (OptimizerKind::Adamw, false, 0.05, 1);
            optim_adamw_len_7: (OptimizerKind::Adamw, false, 0.05, 7);
            optim_adamw_len_785: (OptimizerKind::Adamw, false, 0.05, 785);
            optim_adamw_len_407050: (OptimizerKind::Adamw, false, 0.05, 407_050);
        });
    };
}

/// Gathers a short step (rows 5 and 6 of a batch of 7 come out as zeros) from a dataset of 37
/// samples of `dim` features, u8 (normalized) or f32, uploaded whole or in four chunks of 12
/// samples (as a dataset over one binding is), against `Dataset::write_row`.
pub async fn gather_matches_cpu(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::Gather,
    case: &str,
    (dim, bytes, chunked): (usize, bool, bool),
) {
    use gpu_mlp::data::{Affine, Dataset, Features};
    use gpu_mlp::gpu::kernels::gather::{GatherOperands, ResidentDataset};
    use gpu_mlp::gpu::kernels::{step_offset, StepInfo};
    use rand::seq::SliceRandom;
    let mut r = case_rng(case);
    let (len, batch) = (37usize, 7usize);
    let labels: Vec<u32> = (0..len).map(|_| r.random_range(0..10)).collect();
    let data = match bytes {
        true => Dataset {
            features: Features::U8((0..len * dim).map(|_| r.random()).collect()),
            labels,
            dim,
            transform: Affine {
                scale: 1.0 / 127.5,
                shift: -1.0,
            },
            weights: None,
        },
        false => Dataset {
            features: Features::F32(random_vec(&mut r, len * dim)),
            labels,
            dim,
            transform: Affine::IDENTITY,
            weights: None,
        },
    };
    let max_chunk_bytes = match chunked {
        true => 12 * dim as u64 * if bytes { 1 } else { 4 },
        false => 1 << 26,
    };
    let mut order: Vec<u32> = (0..len as u32).collect();
    order.shuffle(&mut r);
    // Step 1 starts at order[3] and is short: rows 5 and 6 must come out as zeros.
    let info = StepInfo {
        first: 3,
        rows: 5,
        slot: 0,
        ..Default::default()
    };
    let steps = step_table(
        ctx,
        &[
            StepInfo {
                first: 0,
                rows: 7,
                slot: 0,
                ..Default::default()
            },
            info,
        ],
    );
    let resident = ResidentDataset::upload_in_chunks(ctx, "test", &data, max_chunk_bytes).expect("upload");
    assert_eq!(resident.chunks.len(), if chunked { 4 } else { 1 }, "{case}: chunks");
    let order_buf = ctx
        .storage_buffer_init("order", bytemuck::cast_slice(&order))
        .expect("buffer");
    let x = ctx.storage_buffer_init("x", &nan_bytes(batch * dim)).expect("buffer");
    let labels = ctx.storage_buffer_init("labels", &[0xff; 4 * 7]).expect("buffer");
    let binding = kernel.bind(
        ctx,
        &GatherOperands {
            data: &resident,
            order: &order_buf,
            steps: &steps,
            x: &x,
            labels: &labels,
            batch,
        },
    );
    ctx.submit_pass("gather", |pass| kernel.dispatch(pass, &binding, step_offset(1)));
    let mut want = vec![0.0f32; batch * dim];
    let mut want_labels = vec![0u32; batch];
    for row in 0..info.rows as usize {
        let sample = order[info.first as usize + row] as usize;
        data.write_row(sample, &mut want[row * dim..(row + 1) * dim]);
        want_labels[row] = data.labels[sample];
    }
    assert_close(case, &read_f32_async(ctx, &x, batch * dim).await, &want, KERNEL_TOL);
    let raw = ctx
        .read_back_async(&labels, (batch * 4) as u64)
        .await
        .expect("read back");
    assert_eq!(
        bytemuck::pod_collect_to_vec::<u8, u32>(&raw),
        want_labels,
        "{case}: labels"
    );
}

/// The gather cases: (features per sample, u8 rather than f32, in four chunks rather than one).
#[macro_export]
macro_rules! gather_cases {
    ($suite:ident) => {
        $suite!(gather_matches_cpu {
            gather_u8_dim_1: (1, true, false);
            gather_u8_dim_3: (3, true, false);
            gather_u8_dim_785: (785, true, false);
            gather_u8_dim_1_chunked: (1, true, true);
            gather_u8_dim_3_chunked: (3, true, true);
            gather_u8_dim_785_chunked: (785, true, true);
            gather_f32_dim_1: (1, false, false);
            gather_f32_dim_3: (3, false, false);
            gather_f32_dim_785: (785, false, false);
            gather_f32_dim_1_chunked: (1, false, true);
            gather_f32_dim_3_chunked: (3, false, true);
            gather_f32_dim_785_chunked: (785, false, true);
        });
    };
}

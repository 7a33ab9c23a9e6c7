//! What a kernel test needs besides the GPU, shared by the native suites (through `common`) and
//! the browser's (`tests/browser.rs`, which builds for wasm32 and cannot take the rest of
//! `common`): seeded inputs, NaN-poisoned outputs, the comparison, the product plans, the step
//! table.

use gpu_mlp::cpu::{gemm, ops};
use gpu_mlp::gpu::kernels::matmul::{MatmulOperands, ProductPlan};
use gpu_mlp::gpu::kernels::{step_offset, Epilogue, Region, StepInfo};
use gpu_mlp::gpu::GpuContext;
use gpu_mlp::nn::dropout::Dropout;
use gpu_mlp::nn::model::{Activation, Product, Stored};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Every hidden activation, as the cases walk them.
pub const ACTIVATIONS: [Activation; 3] = [Activation::Relu, Activation::Tanh, Activation::Sigmoid];

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
    let expected = ops::loss_and_grad(loss, &logits, &labels, cpu_weights, rows, units, &mut want);
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
        ops::optimizer_step(&opt, u, &mut want, &grads, &mut want_state);
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
            &binding.unpack_state(&read_f32_async(ctx, &binding.state, binding.state.size() as usize / 4).await),
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

/// The epilogue to test, with its operand's values.
pub enum Tail {
    Bias(Vec<f32>),
    BiasAct(Vec<f32>, Activation),
    ActGrad(Vec<f32>, Activation),
}

/// The step table, hidden layer and step index a dropout epilogue draws its mask from.
pub type Masked<'a> = Option<(&'a wgpu::Buffer, u32, usize)>;

/// `(m, k, n)`, then each operand with how it is stored, the epilogue, and its dropout: the
/// result of each of `plans`.
pub async fn gpu_matmul(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::Matmul,
    (m, k, n): (usize, usize, usize),
    (a, a_stored): (&[f32], Stored),
    (b, b_stored): (&[f32], Stored),
    tail: &Tail,
    dropout: Masked<'_>,
) -> Vec<(ProductPlan, Vec<f32>)> {
    let (a_buf, b_buf, c_buf) = (
        upload(ctx, "a", a),
        upload(ctx, "b", b),
        ctx.storage_buffer_init("c", &nan_bytes(m * n)).expect("buffer"),
    );
    let extra = match tail {
        Tail::Bias(v) | Tail::BiasAct(v, _) | Tail::ActGrad(v, _) => upload(ctx, "extra", v),
    };
    let region = |buf| Region::all(buf);
    let epilogue = match tail {
        Tail::Bias(_) => Epilogue::Bias(region(&extra)),
        Tail::BiasAct(_, act) => Epilogue::BiasAct(region(&extra), *act),
        Tail::ActGrad(_, act) => Epilogue::ActGrad(region(&extra), *act),
    };
    let mut results = Vec::new();
    for plan in product_plans(m, k, n) {
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
        results.push((plan, read_f32_async(ctx, &c_buf, m * n).await));
    }
    results
}

/// Every plan's result against the CPU's.
pub fn assert_each_plan(case: &str, got: &[(ProductPlan, Vec<f32>)], want: &[f32]) {
    for (plan, values) in got {
        assert_close(
            &format!("{case} ({} slices of k {})", plan.slices, plan.k_slice),
            values,
            want,
            KERNEL_TOL,
        );
    }
}

/// A dense layer `(rows, fan_in, fan_out)`: the bias epilogue against `linear_forward`, and
/// bias + each activation against `activate` after it.
pub async fn matmul_forward_epilogues(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::Matmul,
    case: &str,
    (rows, fan_in, fan_out): (usize, usize, usize),
) {
    let mut r = case_rng(case);
    let x = random_vec(&mut r, rows * fan_in);
    // Scaled like an initialized layer (He-style), so pre-activations are O(1) as in training
    // and the saturating activations are compared where they are not flat.
    let scale = (3.0 / fan_in as f32).sqrt();
    let w: Vec<f32> = random_vec(&mut r, fan_out * fan_in).iter().map(|v| v * scale).collect();
    let bias = random_vec(&mut r, fan_out);
    let mut want = vec![0.0; rows * fan_out];
    ops::linear_forward(&x, &w, &bias, None, rows, &mut want);
    let got = gpu_matmul(
        ctx,
        kernel,
        (rows, fan_in, fan_out),
        (&x, Stored::AsIs),
        (&w, Stored::Transposed),
        &Tail::Bias(bias.clone()),
        None,
    )
    .await;
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
        )
        .await;
        assert_each_plan(&format!("linear+{act:?} {rows}×{fan_in}→{fan_out}"), &got, &want_act);
    }
}

/// `dZ · W ⊙ act'` for `(rows, fan_out, fan_in)`, each activation, against `activation_backward`.
pub async fn matmul_activation_grad(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::Matmul,
    case: &str,
    (rows, fan_out, fan_in): (usize, usize, usize),
) {
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
        )
        .await;
        assert_each_plan(&format!("dz·W ⊙ {act:?}' {rows}×{fan_out}→{fan_in}"), &got, &want);
    }
}

/// The weight gradient `dZᵀ · X` of `(rows, fan_in, fan_out)` with its fused row sums, the bias
/// gradient, against `linear_backward`, for every plan.
pub async fn matmul_row_sums(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::Matmul,
    case: &str,
    (rows, fan_in, fan_out): (usize, usize, usize),
) {
    let mut r = case_rng(case);
    let dz = random_vec(&mut r, rows * fan_out);
    let x = random_vec(&mut r, rows * fan_in);
    let w = random_vec(&mut r, fan_out * fan_in);
    let (mut dw, mut db) = (vec![0.0; fan_out * fan_in], vec![0.0; fan_out]);
    ops::linear_backward(&dz, &x, &w, rows, &mut dw, &mut db, None);
    let (dz_buf, x_buf) = (upload(ctx, "dz", &dz), upload(ctx, "x", &x));
    for plan in product_plans(fan_out, rows, fan_in) {
        let dw_buf = ctx
            .storage_buffer_init("dw", &nan_bytes(fan_out * fan_in))
            .expect("buffer");
        let db_buf = ctx.storage_buffer_init("db", &nan_bytes(fan_out)).expect("buffer");
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
            &read_f32_async(ctx, &dw_buf, fan_out * fan_in).await,
            &dw,
            KERNEL_TOL,
        );
        assert_close(
            &format!("db {case}"),
            &read_f32_async(ctx, &db_buf, fan_out).await,
            &db,
            KERNEL_TOL,
        );
    }
}

/// Dropout in the activation epilogue of `act`: the GPU draws exactly the CPU's mask (same
/// seed, step, layer, element), forward and backward.
pub async fn dropout_masks_match_cpu(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::Matmul,
    case: &str,
    act: Activation,
) {
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
    ops::linear_forward(&x, &w, &bias, None, rows, &mut want);
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
    )
    .await;
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
    )
    .await;
    assert_each_plan(&format!("{act:?} + dropout backward"), &got, &want_grad);
}

/// The forward-epilogue cases, `(rows, fan_in, fan_out)`: batch sizes 1 and 128, odd widths.
#[macro_export]
macro_rules! matmul_forward_epilogues_cases {
    ($suite:ident) => {
        $suite!(matmul_forward_epilogues {
            matmul_forward_1x785x129: (1, 785, 129);
            matmul_forward_128x784x33: (128, 784, 33);
            matmul_forward_7x3x10: (7, 3, 10);
            matmul_forward_129x2x16: (129, 2, 16);
        });
    };
}

/// The activation-gradient cases, `(rows, fan_out, fan_in)`: the output layer's input gradient
/// at batch 1 and 128, and an odd hidden layer.
#[macro_export]
macro_rules! matmul_activation_grad_cases {
    ($suite:ident) => {
        $suite!(matmul_activation_grad {
            matmul_activation_grad_1x10x785: (1, 10, 785);
            matmul_activation_grad_128x10x64: (128, 10, 64);
            matmul_activation_grad_33x129x7: (33, 129, 7);
        });
    };
}

/// The weight-gradient-with-row-sums cases, `(rows, fan_in, fan_out)`: one element, a
/// 784-input layer, widths around the tiles.
#[macro_export]
macro_rules! matmul_row_sums_cases {
    ($suite:ident) => {
        $suite!(matmul_row_sums {
            matmul_row_sums_1x1x1: (1, 1, 1);
            matmul_row_sums_128x784x10: (128, 784, 10);
            matmul_row_sums_129x33x785: (129, 33, 785);
            matmul_row_sums_7x257x129: (7, 257, 129);
        });
    };
}

/// The dropout-mask cases: one per hidden activation.
#[macro_export]
macro_rules! dropout_masks_match_cpu_cases {
    ($suite:ident) => {
        $suite!(dropout_masks_match_cpu {
            dropout_relu: Activation::Relu;
            dropout_tanh: Activation::Tanh;
            dropout_sigmoid: Activation::Sigmoid;
        });
    };
}

/// Two steps (13 and 5 rows) of `width` ReLU-like units, every third never firing, added on top
/// of earlier totals by `unit_stats.wgsl` and by `accumulate_unit_stats`.
pub async fn unit_stats_kernel_matches_accumulate_unit_stats(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::diagnostics::UnitStats,
    case: &str,
    width: usize,
) {
    let mut r = case_rng(case);
    let batch = 13;
    let mut acts: Vec<f32> = random_vec(&mut r, batch * width).iter().map(|v| v.max(0.0)).collect();
    for (i, a) in acts.iter_mut().enumerate() {
        if (i % width).is_multiple_of(3) {
            *a = 0.0;
        }
    }
    // Earlier totals, so accumulation (not overwriting) is what passes.
    let mut want: Vec<f32> = (0..3 * width)
        .map(|i| if i < 2 * width { r.random_range(0.0..5.0) } else { 0.0 })
        .collect();
    let stats = upload(ctx, "stats", &want);
    let steps = step_table(
        ctx,
        &[13, 5].map(|rows| StepInfo {
            rows,
            ..Default::default()
        }),
    );
    let act_buf = upload(ctx, "acts", &acts);
    let binding = kernel.bind(ctx, &steps, Region::all(&act_buf), width, Region::all(&stats));
    ctx.submit_pass("unit stats", |pass| {
        kernel.dispatch(pass, &binding, step_offset(0));
        kernel.dispatch(pass, &binding, step_offset(1));
    });
    ops::accumulate_unit_stats(&acts, 13, width, &mut want);
    ops::accumulate_unit_stats(&acts, 5, width, &mut want);
    let got = read_f32_async(ctx, &stats, 3 * width).await;
    assert_close(&format!("unit stats, width {width}"), &got, &want, KERNEL_TOL);
    assert!(
        want[2 * width..].contains(&0.0),
        "width {width}: some units never fired"
    );
}

/// Sums of squares of the gradients, weights and updates of segments of 1, 7, 129, 785 and
/// 100 000 parameters, each starting at a tensor boundary, against `param_sums`.
pub async fn param_norms_kernel_matches_param_sums(
    ctx: &GpuContext,
    kernel: &gpu_mlp::gpu::kernels::diagnostics::ParamNorms,
    case: &str,
    (): (),
) {
    use gpu_mlp::gpu::kernels::diagnostics::ParamNormsOperands;
    use gpu_mlp::nn::model::TENSOR_ALIGN;
    let mut r = case_rng(case);
    let lens = [1usize, 7, 129, 785, 100_000];
    let mut starts = Vec::new();
    let mut end = 0;
    for len in lens {
        starts.push(end);
        end = (end + len).next_multiple_of(TENSOR_ALIGN);
    }
    let (grads, params, before) = (
        random_vec(&mut r, end),
        random_vec(&mut r, end),
        random_vec(&mut r, end),
    );
    let segments: Vec<u32> = starts
        .iter()
        .zip(lens)
        .flat_map(|(&s, l)| [s as u32, l as u32])
        .collect();
    let (g, p, b) = (
        upload(ctx, "g", &grads),
        upload(ctx, "p", &params),
        upload(ctx, "b", &before),
    );
    let sums = ctx
        .storage_buffer_init("sums", &nan_bytes(3 * lens.len()))
        .expect("buffer");
    let seg = ctx
        .storage_buffer_init("segments", bytemuck::cast_slice(&segments))
        .expect("buffer");
    let binding = kernel.bind(
        ctx,
        &ParamNormsOperands {
            segments: &seg,
            segment_count: lens.len(),
            grads: Region::all(&g),
            params: Region::all(&p),
            before: Region::all(&b),
            sums: Region::all(&sums),
        },
    );
    ctx.submit_pass("param norms", |pass| kernel.dispatch(pass, &binding));
    let got = read_f32_async(ctx, &sums, 3 * lens.len()).await;
    let want: Vec<f32> = starts
        .iter()
        .zip(lens)
        .flat_map(|(&s, l)| ops::param_sums(&grads[s..s + l], &params[s..s + l], &before[s..s + l]).map(|v| v as f32))
        .collect();
    assert_close(case, &got, &want, KERNEL_TOL);
}

/// The activation-statistics cases: layer widths.
#[macro_export]
macro_rules! unit_stats_cases {
    ($suite:ident) => {
        $suite!(unit_stats_kernel_matches_accumulate_unit_stats {
            unit_stats_width_1: 1;
            unit_stats_width_7: 7;
            unit_stats_width_129: 129;
            unit_stats_width_785: 785;
        });
    };
}

/// The parameter-norms case (one: its segments cover the lengths).
#[macro_export]
macro_rules! param_norms_cases {
    ($suite:ident) => {
        $suite!(param_norms_kernel_matches_param_sums {
            param_norms_kernel_matches_param_sums: ();
        });
    };
}

/// The whole-run tolerance: the two backends' weights drift apart by rounding, step by step.
pub const RUN_TOL: f64 = 1e-4;

/// `n` synthetic 28×28 images of `classes` classes for training (seeded by `seed`) and `test`
/// more (seeded by `seed + 1000`).
pub fn random_image_splits(
    classes: usize,
    seed: u64,
    train: usize,
    test: usize,
) -> std::sync::Arc<gpu_mlp::data::Splits> {
    use gpu_mlp::data::{synthetic_images, Splits};
    std::sync::Arc::new(Splits {
        name: "random images".into(),
        train: synthetic_images(train, 784, classes, seed),
        val: None,
        test: Some(synthetic_images(test, 784, classes, seed + 1000)),
        class_names: (0..classes).map(|c| c.to_string()).collect(),
        warnings: Vec::new(),
        table: None,
    })
}

/// Trains the GPU backend (on `ctx`) and the CPU reference from the same weights on `order`
/// (learning rate `lr`) and compares per-step losses and sample counts, the final weights, the
/// optimizer state and the test metrics, each readback awaited.
pub async fn backends_agree(
    ctx: GpuContext,
    spec: &gpu_mlp::nn::model::MlpSpec,
    opts: &gpu_mlp::training::backend::TrainOptions,
    (order, lr): (&[u32], f32),
    data: std::sync::Arc<gpu_mlp::data::Splits>,
) {
    use gpu_mlp::cpu::CpuBackend;
    use gpu_mlp::gpu::GpuBackend;
    use gpu_mlp::nn::model::{initialize, Init, ParamLayout};
    use gpu_mlp::training::backend::{Backend, EvalSplit, Metrics};
    use std::sync::Arc;
    let batch = opts.batch_size;
    let params = initialize(&ParamLayout::new(spec), Init::HeUniform, 7);
    let mut cpu = CpuBackend::new(spec, params.clone(), Arc::clone(&data), opts).expect("cpu backend");
    let mut gpu = GpuBackend::new(ctx, spec, &params, data, opts).expect("gpu backend");
    let lrs = vec![lr; order.len().div_ceil(batch)];
    let cpu_steps = cpu.train_steps(order, &lrs).expect("cpu train");
    let gpu_steps = gpu.train_steps_async(order, &lrs).await.expect("gpu train");
    assert_eq!(cpu_steps.len(), order.len().div_ceil(batch));
    assert_eq!(gpu_steps.len(), cpu_steps.len());
    let mean = |s: &[gpu_mlp::StepMetrics]| -> Vec<f32> {
        s.iter().map(|m| (m.loss_sum / f64::from(m.samples)) as f32).collect()
    };
    let (cpu_loss, gpu_loss) = (mean(&cpu_steps), mean(&gpu_steps));
    for (step, (c, g)) in cpu_loss.iter().zip(&gpu_loss).enumerate() {
        assert_close(&format!("{} step {step} loss", spec.describe()), &[*g], &[*c], RUN_TOL);
    }
    assert_eq!(
        cpu_steps.iter().map(|s| s.samples).collect::<Vec<_>>(),
        gpu_steps.iter().map(|s| s.samples).collect::<Vec<_>>()
    );
    let (cpu_params, gpu_params) = (
        cpu.parameters().expect("read"),
        gpu.parameters_async().await.expect("read"),
    );
    // Training must actually have moved the weights, or agreeing proves little.
    assert!(rel_err(&cpu_params, &params) > 1e-3, "the weights barely changed");
    assert_close(
        &format!("{} final weights", spec.describe()),
        &gpu_params,
        &cpu_params,
        RUN_TOL,
    );
    let ((cpu_state, cpu_t), (gpu_state, gpu_t)) = (
        cpu.optimizer_state().expect("read"),
        gpu.optimizer_state_async().await.expect("read"),
    );
    assert_eq!(
        (cpu_t, gpu_t),
        (cpu_steps.len() as u64, gpu_steps.len() as u64),
        "optimizer step counts"
    );
    assert_close(
        &format!("{:?} state", opts.optimizer.kind),
        &gpu_state,
        &cpu_state,
        RUN_TOL,
    );
    // The GPU scores the split in parts that are not batch multiples, as a page might.
    let len = gpu.held_out_len(EvalSplit::Test).expect("a test split");
    let mut parts = Vec::new();
    for start in (0..len).step_by(129) {
        let part = start..(start + 129).min(len);
        parts.extend(gpu.evaluate_part_async(EvalSplit::Test, part).await.expect("eval"));
    }
    let (c, g) = (
        cpu.evaluate(EvalSplit::Test).expect("eval"),
        Metrics::from_steps(&parts),
    );
    assert_eq!(g.samples, len, "every test sample scored once");
    assert_close("test loss", &[g.loss as f32], &[c.loss as f32], RUN_TOL);
    assert!(
        (c.accuracy - g.accuracy).abs() <= 1.0 / c.samples as f64,
        "test accuracy {} vs {}",
        c.accuracy,
        g.accuracy
    );
}

//! The GPU backend: every buffer of the run allocated once, every bind group built once, and
//! many training steps recorded into one compute pass with one readback of metrics at the end.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use super::context::GpuContext;
use super::kernels::diagnostics::{ParamNorms, ParamNormsBinding, ParamNormsOperands, UnitStats, UnitStatsBinding};
use super::kernels::gather::{GatherBinding, GatherOperands, ResidentDataset};
use super::kernels::loss::{LossBinding, LossOperands, StepMetric};
use super::kernels::matmul::{MatmulBinding, MatmulOperands};
use super::kernels::optim::OptimBinding;
use super::kernels::{
    encode_step_table, step_offset, Epilogue, Gather, Launch, LossGrad, Matmul, Optim, Region, StepInfo, STEP_STRIDE,
};
use super::timestamps::Timestamps;
use std::cell::Cell;

use crate::data::Splits;
use crate::error::{Error, Result};
use crate::nn::dropout::fold_seed;
use crate::nn::model::{MlpSpec, ParamLayout, Product};
use crate::nn::optim::Optimizer;
pub use crate::nn::step::StepDispatch;
use crate::training::backend::{
    check_order, check_params_len, check_part, check_setup, missing_val_split, Backend, DispatchStats, EvalSplit,
    Pending, StepMetrics, StepTrace, TrainOptions,
};
use crate::training::diagnostics::RawDiagnostics;

/// The compiled kernels, created once per run.
struct Kernels {
    gather: Gather,
    matmul: Matmul,
    loss: LossGrad,
    optim: Optim,
    unit_stats: UnitStats,
    param_norms: ParamNorms,
}

/// The kernel binding behind one dispatch of a step.
#[derive(Clone, Copy)]
enum Op<'a> {
    Gather(&'a GatherBinding),
    Product(&'a MatmulBinding),
    Loss,
    Update,
    UnitStats(&'a UnitStatsBinding),
}

/// A step's work in recording order.
/// A step's dispatches in order, each with its kernel binding.
type StepOps<'a> = Vec<(StepDispatch, Op<'a>)>;

/// Every buffer of a run, allocated once: the GPU's twin of `cpu::net::Workspace` plus the
/// parameters, their gradients, and what a submit of many steps needs.
struct Buffers {
    params: wgpu::Buffer,
    grads: wgpu::Buffer,
    /// `acts[0]` is the input batch; `acts[l + 1]` is layer `l`'s output.
    acts: Vec<wgpu::Buffer>,
    /// `deltas[l]`: the loss gradient with respect to layer `l`'s pre-activation output.
    deltas: Vec<wgpu::Buffer>,
    batch_labels: wgpu::Buffer,
    /// Each training step's sample indices, written once per submit.
    train_order: wgpu::Buffer,
    /// Held-out splits are evaluated in order: one identity order serves them all.
    identity_order: wgpu::Buffer,
    /// One `StepInfo` per step of a submit.
    steps: wgpu::Buffer,
    metrics: wgpu::Buffer,
    metrics_staging: wgpu::Buffer,
    /// Per hidden layer: the epoch's activation statistics (`unit_stats.wgsl`).
    unit_stats: Vec<wgpu::Buffer>,
    /// The parameters before the latest training step.
    before: wgpu::Buffer,
    /// Each layer's weight and bias as `(first, length)`, and their three sums of squares.
    segments: wgpu::Buffer,
    param_sums: wgpu::Buffer,
    /// The unit statistics, then the parameter sums, read back together.
    diagnostics_staging: wgpu::Buffer,
}

impl Buffers {
    /// For `spec` at `batch` rows, `max_steps` steps per submit and held-out splits of up to
    /// `longest` samples.
    fn new(
        ctx: &GpuContext,
        spec: &MlpSpec,
        params: &[f32],
        batch: usize,
        max_steps: usize,
        longest: usize,
    ) -> Result<Self> {
        let f32s = |n: usize| (n * 4) as u64;
        let per_width = |name: &str, widths: &[usize]| {
            widths
                .iter()
                .enumerate()
                .map(|(l, w)| ctx.storage_buffer(&format!("{name} {l}"), f32s(w * batch)))
                .collect::<Result<Vec<_>>>()
        };
        let identity: Vec<u32> = (0..longest as u32).collect();
        let layout = ParamLayout::new(spec);
        let segments: Vec<u32> = layout
            .layers
            .iter()
            .flat_map(|l| [l.weight.start, l.weight.len(), l.bias.start, l.bias.len()])
            .map(|v| v as u32)
            .collect();
        let hidden = &spec.sizes[1..spec.sizes.len() - 1];
        let diagnostics_bytes = f32s(3 * hidden.iter().sum::<usize>() + 6 * layout.layers.len());
        let metric_bytes = (max_steps * std::mem::size_of::<StepMetric>()) as u64;
        Ok(Buffers {
            params: ctx.storage_buffer_init("parameters", bytemuck::cast_slice(params))?,
            grads: ctx.storage_buffer("gradients", f32s(params.len()))?,
            acts: per_width("activations", &spec.sizes)?,
            deltas: per_width("deltas", &spec.sizes[1..])?,
            batch_labels: ctx.storage_buffer("batch labels", f32s(batch))?,
            train_order: ctx.storage_buffer("train order", f32s(max_steps * batch))?,
            identity_order: ctx.storage_buffer_init("identity order", bytemuck::cast_slice(&identity))?,
            steps: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("steps"),
                size: max_steps as u64 * STEP_STRIDE,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            metrics: ctx.storage_buffer("metrics", metric_bytes)?,
            metrics_staging: ctx.staging_buffer(metric_bytes),
            unit_stats: hidden
                .iter()
                .enumerate()
                .map(|(l, w)| ctx.storage_buffer(&format!("unit stats {l}"), f32s(3 * w)))
                .collect::<Result<Vec<_>>>()?,
            before: ctx.storage_buffer("parameters before the step", f32s(params.len()))?,
            segments: ctx.storage_buffer_init("parameter segments", bytemuck::cast_slice(&segments))?,
            param_sums: ctx.storage_buffer("parameter sums", f32s(6 * layout.layers.len()))?,
            diagnostics_staging: ctx.staging_buffer(diagnostics_bytes),
        })
    }
}

/// One dense layer's three products, the GPU's twin of a layer of `cpu::net`.
struct LayerProducts {
    /// `Z = X · Wᵀ + b`, then the activation and dropout: `linear_forward`, `activate`.
    forward: MatmulBinding,
    /// `dW = dZᵀ · X`, with the bias gradient `Σ_batch dZ` as its row sums: `linear_backward`.
    weight_grad: MatmulBinding,
    /// `dZ_{l−1} = (dZ · W) ⊙ act'(A_l)`, through the previous layer's activation and dropout
    /// (`activation_backward`); layer 0 has no input gradient.
    input_grad: Option<MatmulBinding>,
}

impl LayerProducts {
    fn bind(
        ctx: &GpuContext,
        matmul: &Matmul,
        b: &Buffers,
        layout: &ParamLayout,
        l: usize,
        batch: usize,
    ) -> Result<Self> {
        let slots = &layout.layers[l];
        let region = |buffer, range: &std::ops::Range<usize>| Region {
            buffer,
            offset: range.start,
            len: range.len(),
        };
        // A plain product on the adapter's plan; each call below adds its epilogue.
        let product = |p: Product, a, b, c| MatmulOperands {
            m: p.m,
            k: p.k,
            n: p.n,
            a,
            a_stored: p.a,
            b,
            b_stored: p.b,
            c,
            plan: ctx.tiles.plan(p.m, p.k, p.n),
            partials: None,
            epilogue: Epilogue::None,
            row_sums: None,
            dropout: None,
        };
        let (x, z, dz) = (
            Region::all(&b.acts[l]),
            Region::all(&b.acts[l + 1]),
            Region::all(&b.deltas[l]),
        );
        let (w, bias) = (region(&b.params, &slots.weight), region(&b.params, &slots.bias));
        let hidden = l as u32;

        // Z[batch, out] = X · Wᵀ
        let mut forward = product(slots.forward_product(batch), x, w, z);
        forward.epilogue = match slots.activation {
            Some(act) => Epilogue::BiasAct(bias, act),
            None => Epilogue::Bias(bias),
        };
        forward.dropout = slots.activation.map(|_| (&b.steps, hidden));
        let forward = matmul.bind(ctx, &format!("forward {l}"), &forward)?;

        // dW[out, in] = dZᵀ · X, db = Σ_batch dZ
        let mut weight_grad = product(slots.weight_grad_product(batch), dz, x, region(&b.grads, &slots.weight));
        weight_grad.row_sums = Some(region(&b.grads, &slots.bias));
        let weight_grad = matmul.bind(ctx, &format!("weight grad {l}"), &weight_grad)?;

        // dZ_{l−1}[batch, in] = (dZ · W) ⊙ act'(X), X being layer l − 1's output
        let input_grad = match l.checked_sub(1) {
            None => None,
            Some(below) => {
                let mut input_grad = product(slots.input_grad_product(batch), dz, w, Region::all(&b.deltas[below]));
                let act = layout.layers[below]
                    .activation
                    .expect("hidden layers have an activation");
                input_grad.epilogue = Epilogue::ActGrad(x, act);
                input_grad.dropout = Some((&b.steps, below as u32));
                Some(matmul.bind(ctx, &format!("input grad {l}"), &input_grad)?)
            }
        };
        Ok(LayerProducts {
            forward,
            weight_grad,
            input_grad,
        })
    }
}

pub struct GpuBackend {
    ctx: GpuContext,
    kernels: Kernels,
    layout: ParamLayout,
    batch_size: usize,
    train_len: usize,
    buffers: Buffers,
    /// Held-out splits resident for evaluation: which, how many samples, their gather.
    eval_sets: Vec<(EvalSplit, usize, GatherBinding)>,
    /// Most steps one submit can record (the step and metrics buffers' capacity).
    max_steps: usize,
    train_gather: GatherBinding,
    layers: Vec<LayerProducts>,
    loss: LossBinding,
    optim: OptimBinding,
    /// Per hidden layer, its activation statistics.
    unit_stats: Vec<UnitStatsBinding>,
    param_norms: ParamNormsBinding,
    /// Training samples since the diagnostics were last read.
    stat_samples: u64,
    optimizer: Optimizer,
    dropout: f32,
    seed: u32,
    /// Optimizer steps taken (Adam's t).
    step_count: u64,
    /// The training samples have weights in the loss.
    weighted: bool,
    stats: Cell<DispatchStats>,
    // Kept alive for the gather bindings, never touched by the host after the upload.
    _datasets: Vec<ResidentDataset>,
    _sample_weights: wgpu::Buffer,
}

impl GpuBackend {
    pub fn new(
        ctx: GpuContext,
        spec: &MlpSpec,
        params: &[f32],
        data: Arc<Splits>,
        opts: &TrainOptions,
    ) -> Result<Self> {
        let batch = opts.batch_size;
        let layout = ParamLayout::new(spec);
        check_setup(spec, params, &data, batch)?;
        if batch > ctx.limits.max_compute_workgroups_per_dimension as usize {
            return Err(Error::DeviceLimit(format!(
                "batch size {batch} is over the adapter's {} workgroups per dimension",
                ctx.limits.max_compute_workgroups_per_dimension
            )));
        }
        let kernels = Kernels {
            gather: Gather::new(&ctx),
            matmul: Matmul::new(&ctx),
            loss: LossGrad::new(&ctx),
            optim: Optim::new(&ctx),
            unit_stats: UnitStats::new(&ctx),
            param_norms: ParamNorms::new(&ctx),
        };
        let held_out: Vec<(EvalSplit, &crate::data::Dataset)> = [EvalSplit::Val, EvalSplit::Test]
            .into_iter()
            .filter_map(|s| s.of(&data).ok().map(|d| (s, d)))
            .collect();
        let train_len = data.train.len();
        let longest = held_out
            .iter()
            .map(|(_, d)| d.len())
            .chain([train_len])
            .max()
            .unwrap_or(1);
        let max_steps = longest.div_ceil(batch).max(1);
        let buffers = Buffers::new(&ctx, spec, params, batch, max_steps, longest)?;

        let train_set = ResidentDataset::upload(&ctx, "train", &data.train)?;
        let held_out_sets = held_out
            .iter()
            .map(|(s, d)| ResidentDataset::upload(&ctx, &format!("{s:?}"), d))
            .collect::<Result<Vec<_>>>()?;
        let gather = |data: &ResidentDataset, order: &wgpu::Buffer| {
            kernels.gather.bind(
                &ctx,
                &GatherOperands {
                    data,
                    order,
                    steps: &buffers.steps,
                    x: &buffers.acts[0],
                    labels: &buffers.batch_labels,
                    batch,
                },
            )
        };
        let train_gather = gather(&train_set, &buffers.train_order);
        let eval_sets = held_out
            .iter()
            .zip(&held_out_sets)
            .map(|((split, d), set)| (*split, d.len(), gather(set, &buffers.identity_order)))
            .collect();

        let layers = (0..layout.layers.len())
            .map(|l| LayerProducts::bind(&ctx, &kernels.matmul, &buffers, &layout, l, batch))
            .collect::<Result<Vec<_>>>()?;
        let last = layout.layers.len() - 1;
        // Resident beside the training set, read through the step's order (one unread weight
        // when the samples are unweighted).
        let sample_weights = ctx.storage_buffer_init(
            "sample weights",
            bytemuck::cast_slice(data.train.weights.as_deref().unwrap_or(&[1.0])),
        )?;
        let loss = kernels.loss.bind(
            &ctx,
            &LossOperands {
                steps: &buffers.steps,
                logits: Region::all(&buffers.acts[last + 1]),
                labels: &buffers.batch_labels,
                dlogits: Region::all(&buffers.deltas[last]),
                metrics: &buffers.metrics,
                order: Region::all(&buffers.train_order),
                weights: Region::all(&sample_weights),
                loss: spec.loss,
                units: spec.outputs(),
                batch,
            },
        );
        let optim = kernels.optim.bind(
            &ctx,
            &buffers.steps,
            &opts.optimizer,
            Region::all(&buffers.params),
            Region::all(&buffers.grads),
        )?;
        let unit_stats = buffers
            .unit_stats
            .iter()
            .enumerate()
            .map(|(l, stats)| {
                let width = layout.layers[l].fan_out;
                let acts = Region::all(&buffers.acts[l + 1]);
                kernels
                    .unit_stats
                    .bind(&ctx, &buffers.steps, acts, width, Region::all(stats))
            })
            .collect();
        let param_norms = kernels.param_norms.bind(
            &ctx,
            &ParamNormsOperands {
                segments: &buffers.segments,
                segment_count: 2 * layout.layers.len(),
                grads: Region::all(&buffers.grads),
                params: Region::all(&buffers.params),
                before: Region::all(&buffers.before),
                sums: Region::all(&buffers.param_sums),
            },
        );
        Ok(GpuBackend {
            ctx,
            kernels,
            layout,
            batch_size: batch,
            train_len,
            buffers,
            eval_sets,
            max_steps,
            train_gather,
            layers,
            loss,
            optim,
            unit_stats,
            param_norms,
            stat_samples: 0,
            optimizer: opts.optimizer,
            dropout: opts.dropout,
            seed: fold_seed(opts.seed),
            step_count: 0,
            weighted: data.train.weights.is_some(),
            stats: Cell::default(),
            _datasets: std::iter::once(train_set).chain(held_out_sets).collect(),
            _sample_weights: sample_weights,
        })
    }

    /// The dispatches of `step` (a list from [`crate::nn::step`]) bound to this backend's
    /// kernels, the batch gathered by `gather`.
    fn step_ops<'a>(&'a self, step: &[StepDispatch], gather: &'a GatherBinding) -> StepOps<'a> {
        step.iter()
            .filter_map(|&dispatch| {
                let op = match dispatch {
                    StepDispatch::Gather => Op::Gather(gather),
                    StepDispatch::Forward(l) => Op::Product(&self.layers[l].forward),
                    StepDispatch::Loss => Op::Loss,
                    StepDispatch::ActivationStats(l) => Op::UnitStats(&self.unit_stats[l]),
                    StepDispatch::WeightGrad(l) => Op::Product(&self.layers[l].weight_grad),
                    StepDispatch::InputGrad(l) => Op::Product(self.layers[l].input_grad.as_ref()?),
                    StepDispatch::Update => Op::Update,
                };
                Some((dispatch, op))
            })
            .collect()
    }

    /// A whole training step, as `cpu::net::loss_and_gradients`, the hidden activations'
    /// statistics, then the optimizer update.
    fn train_ops(&self) -> StepOps<'_> {
        self.step_ops(&crate::nn::step::training_step(self.layers.len()), &self.train_gather)
    }

    /// Records `op` for the step whose `StepInfo` is at `step_offset`.
    fn record(&self, pass: &mut wgpu::ComputePass<'_>, op: Op<'_>, step_offset: u32) {
        let k = &self.kernels;
        match op {
            Op::Gather(gather) => k.gather.dispatch(pass, gather, step_offset),
            Op::Product(product) => k.matmul.dispatch(pass, product, step_offset),
            Op::Loss => k.loss.dispatch(pass, &self.loss, step_offset),
            Op::Update => k.optim.dispatch(pass, &self.optim, step_offset),
            Op::UnitStats(stats) => k.unit_stats.dispatch(pass, stats, step_offset),
        }
    }

    /// The dispatches `op` records.
    fn launches(&self, op: Op<'_>) -> Vec<Launch> {
        match op {
            Op::Gather(gather) => vec![gather.launch()],
            Op::Product(product) => product.launches(),
            Op::Loss => vec![self.loss.launch()],
            Op::Update => vec![self.optim.launch()],
            Op::UnitStats(stats) => vec![stats.launch()],
        }
    }

    /// Each entry of a training step with the dispatches it records: what `gpu-mlp bench`
    /// shows of how a step fills the GPU.
    pub fn step_launches(&self) -> Vec<(StepDispatch, Vec<Launch>)> {
        self.train_ops()
            .into_iter()
            .map(|(dispatch, op)| (dispatch, self.launches(op)))
            .collect()
    }

    /// Writes the step table, records `infos.len()` steps of `ops`, submits once and reads
    /// back each step's metrics. Returns the metrics and the dispatch count; with `timestamps`,
    /// marks the time after every dispatch. `training`: the parameters are copied aside
    /// just before the last step, so the diagnostics can measure its update.
    async fn run_steps(
        &self,
        infos: &[StepInfo],
        ops: &StepOps<'_>,
        training: bool,
        mut timestamps: Option<&mut Timestamps>,
    ) -> Result<(Vec<StepMetrics>, u64)> {
        if infos.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let b = &self.buffers;
        self.ctx.queue.write_buffer(&b.steps, 0, &encode_step_table(infos));
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        let last = if training { infos.len() - 1 } else { infos.len() };
        let mut started = false;
        for steps in [0..last, last..infos.len()].into_iter().filter(|r| !r.is_empty()) {
            if steps.start == last {
                encoder.copy_buffer_to_buffer(&b.params, 0, &b.before, 0, b.params.size());
            }
            let mut pass = encoder.begin_compute_pass(&Default::default());
            if let (Some(t), false) = (timestamps.as_deref_mut(), started) {
                t.start(&mut pass);
                started = true;
            }
            for step in steps {
                for (dispatch, op) in ops {
                    self.record(&mut pass, *op, step_offset(step));
                    if let Some(t) = timestamps.as_deref_mut() {
                        t.mark(&mut pass, dispatch.to_string());
                    }
                }
            }
        }
        let per_step: usize = ops.iter().map(|(_, op)| self.launches(*op).len()).sum();
        let dispatches = (per_step * infos.len()) as u64;
        let bytes = (infos.len() * std::mem::size_of::<StepMetric>()) as u64;
        encoder.copy_buffer_to_buffer(&b.metrics, 0, &b.metrics_staging, 0, bytes);
        self.ctx.queue.submit([encoder.finish()]);
        let raw = self.ctx.map_staging_async(&b.metrics_staging, bytes).await?;
        let metrics: Vec<StepMetric> = bytemuck::pod_collect_to_vec(&raw);
        let steps = metrics
            .iter()
            .zip(infos)
            .map(|(m, info)| StepMetrics {
                loss_sum: f64::from(m.loss_sum),
                correct: m.correct,
                samples: info.rows,
            })
            .collect();
        Ok((steps, dispatches))
    }

    /// Trains the steps of `order` (at most `max_steps`) in one submit, its metrics awaited.
    async fn train_submit(
        &mut self,
        order: &[u32],
        lrs: &[f32],
        timestamps: Option<&mut Timestamps>,
    ) -> Result<Vec<StepMetrics>> {
        self.ctx
            .queue
            .write_buffer(&self.buffers.train_order, 0, bytemuck::cast_slice(order));
        let infos = self.plan(0..order.len(), Some(lrs));
        let (steps, dispatches) = self.run_steps(&infos, &self.train_ops(), true, timestamps).await?;
        self.stat_samples += order.len() as u64;
        let mut stats = self.stats.get();
        stats.steps += steps.len() as u64;
        stats.dispatches += dispatches;
        stats.submits += 1;
        self.stats.set(stats);
        Ok(steps)
    }

    /// Trains one step on the first batch of `order` at learning rate `lr`, with a timestamp
    /// after every dispatch: the GPU time of each kernel of the step, in order. Needs an adapter
    /// with timestamp queries inside passes (`GpuContext::timestamps`).
    pub fn profile_train_step(&mut self, order: &[u32], lr: f32) -> Result<Vec<(String, Duration)>> {
        let batch = &order[..self.batch_size.min(order.len())];
        check_order(batch, self.train_len, &[lr], self.batch_size)?;
        let mut timestamps = Timestamps::new(&self.ctx, self.train_ops().len() as u32)?;
        pollster::block_on(self.train_submit(batch, &[lr], Some(&mut timestamps)))?;
        timestamps.read(&self.ctx)
    }

    /// Whether `profile_train_step` can time this adapter's dispatches.
    pub fn has_timestamps(&self) -> bool {
        self.ctx.timestamps
    }

    /// The first `len` f32s of `buffer`, read back.
    async fn read_f32s(&self, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<f32>> {
        Ok(bytemuck::pod_collect_to_vec(
            &self.ctx.read_back_async(buffer, (len * 4) as u64).await?,
        ))
    }

    /// The held-out split `split`: its length and how its samples are gathered.
    fn eval_set(&self, split: EvalSplit) -> Result<&(EvalSplit, usize, GatherBinding)> {
        self.eval_sets
            .iter()
            .find(|(s, _, _)| *s == split)
            .ok_or_else(missing_val_split)
    }

    /// The steps covering the positions `samples` of the gather order in batches; training
    /// steps (with `lrs`) advance the optimizer's step count, scoring steps (none) do not.
    fn plan(&mut self, samples: Range<usize>, lrs: Option<&[f32]>) -> Vec<StepInfo> {
        let len = samples.len();
        (0..len.div_ceil(self.batch_size))
            .map(|s| {
                let (lr, update, dropout) = match lrs {
                    Some(lrs) => {
                        self.step_count += 1;
                        (lrs[s], self.optimizer.step(self.step_count, lrs[s]), self.dropout)
                    }
                    None => (0.0, self.optimizer.step(1, 0.0), 0.0),
                };
                StepInfo {
                    first: (samples.start + s * self.batch_size) as u32,
                    rows: (len - s * self.batch_size).min(self.batch_size) as u32,
                    slot: s as u32,
                    lr,
                    bias_correction1: update.bias_correction1,
                    bias_correction2: update.bias_correction2,
                    seed: self.seed,
                    index: self.step_count as u32,
                    dropout,
                    weighted: u32::from(lrs.is_some() && self.weighted),
                    _pad: [0; 2],
                }
            })
            .collect()
    }
}

impl Backend for GpuBackend {
    fn trace_step(&mut self, batch: &[u32], lr: f32) -> Result<StepTrace> {
        pollster::block_on(self.trace_step_async(batch, lr))
    }

    fn describe(&self) -> String {
        let a = &self.ctx.adapter;
        format!("gpu: {} ({}, {:?})", a.name, a.backend, a.device_type)
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn train_steps(&mut self, order: &[u32], lrs: &[f32]) -> Result<Vec<StepMetrics>> {
        pollster::block_on(self.train_steps_async(order, lrs))
    }

    fn held_out_len(&self, split: EvalSplit) -> Result<usize> {
        let (_, len, _) = self.eval_set(split)?;
        Ok(*len)
    }

    fn evaluate_part(&mut self, split: EvalSplit, samples: Range<usize>) -> Result<Vec<StepMetrics>> {
        pollster::block_on(self.evaluate_part_async(split, samples))
    }

    fn dispatch_stats(&self) -> DispatchStats {
        self.stats.get()
    }

    fn diagnostics(&mut self) -> Result<Option<RawDiagnostics>> {
        pollster::block_on(self.diagnostics_async())
    }

    fn optimizer_state(&mut self) -> Result<(Vec<f32>, u64)> {
        pollster::block_on(self.optimizer_state_async())
    }

    fn set_optimizer_state(&mut self, state: &[f32], steps: u64) -> Result<()> {
        check_params_len(state, self.layout.len * self.optimizer.kind.state_per_param())?;
        for (offset, values) in self.optim.state_slots(state) {
            self.ctx
                .queue
                .write_buffer(&self.optim.state, offset, bytemuck::cast_slice(values));
        }
        self.step_count = steps;
        Ok(())
    }

    fn set_parameters(&mut self, params: &[f32]) -> Result<()> {
        check_params_len(params, self.layout.len)?;
        self.ctx
            .queue
            .write_buffer(&self.buffers.params, 0, bytemuck::cast_slice(params));
        Ok(())
    }

    fn parameters(&mut self) -> Result<Vec<f32>> {
        pollster::block_on(self.parameters_async())
    }

    /// Each submit's metrics awaited: a browser's WebGPU answers when the GPU is done.
    fn train_steps_async<'a>(&'a mut self, order: &'a [u32], lrs: &'a [f32]) -> Pending<'a, Vec<StepMetrics>> {
        Box::pin(async move {
            check_order(order, self.train_len, lrs, self.batch_size)?;
            let mut out = Vec::with_capacity(lrs.len());
            for (chunk, chunk_lrs) in order
                .chunks(self.max_steps * self.batch_size)
                .zip(lrs.chunks(self.max_steps))
            {
                out.extend(self.train_submit(chunk, chunk_lrs, None).await?);
            }
            Ok(out)
        })
    }

    fn evaluate_part_async(&mut self, split: EvalSplit, samples: Range<usize>) -> Pending<'_, Vec<StepMetrics>> {
        Box::pin(async move {
            check_part(&samples, self.held_out_len(split)?)?;
            let infos = self.plan(samples, None);
            let (_, _, gather) = self.eval_set(split)?;
            let forward = self.step_ops(&crate::nn::step::forward_pass(self.layers.len()), gather);
            let (steps, _) = self.run_steps(&infos, &forward, false, None).await?;
            Ok(steps)
        })
    }

    fn trace_step_async<'a>(&'a mut self, batch: &'a [u32], lr: f32) -> Pending<'a, StepTrace> {
        Box::pin(async move {
            check_order(batch, self.train_len, &[lr], self.batch_size)?;
            self.train_submit(batch, &[lr], None).await?;
            let rows = batch.len();
            let widths = self.layout.widths();
            let b = &self.buffers;
            let mut acts = Vec::with_capacity(widths.len());
            for (a, w) in b.acts.iter().zip(&widths) {
                acts.push(self.read_f32s(a, rows * w).await?);
            }
            let mut deltas = Vec::with_capacity(widths.len() - 1);
            for (d, w) in b.deltas.iter().zip(&widths[1..]) {
                deltas.push(self.read_f32s(d, rows * w).await?);
            }
            Ok(StepTrace {
                acts,
                deltas,
                grads: self.read_f32s(&b.grads, self.layout.len).await?,
                params: self.read_f32s(&b.params, self.layout.len).await?,
                // Fused into the products' epilogues: never stored.
                pre_activations: None,
            })
        })
    }

    fn parameters_async(&mut self) -> Pending<'_, Vec<f32>> {
        Box::pin(async move { self.read_f32s(&self.buffers.params, self.layout.len).await })
    }

    fn optimizer_state_async(&mut self) -> Pending<'_, (Vec<f32>, u64)> {
        Box::pin(async move {
            let state = if self.optimizer.kind.state_per_param() == 0 {
                Vec::new()
            } else {
                let buffer = self
                    .read_f32s(&self.optim.state, self.optim.state.size() as usize / 4)
                    .await?;
                self.optim.unpack_state(&buffer)
            };
            Ok((state, self.step_count))
        })
    }

    fn diagnostics_async(&mut self) -> Pending<'_, Option<RawDiagnostics>> {
        Box::pin(async move {
            if self.stat_samples == 0 {
                return Ok(None);
            }
            let b = &self.buffers;
            let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                self.kernels.param_norms.dispatch(&mut pass, &self.param_norms);
            }
            let mut out = RawDiagnostics::empty(&self.layout);
            // Each buffer's values (its padding left out), one after the other.
            let lens: Vec<usize> = out
                .units
                .iter()
                .map(Vec::len)
                .chain([6 * self.layout.layers.len()])
                .collect();
            let mut offset = 0;
            for (source, len) in b.unit_stats.iter().chain([&b.param_sums]).zip(&lens) {
                let bytes = (len * 4) as u64;
                encoder.copy_buffer_to_buffer(source, 0, &b.diagnostics_staging, offset, bytes);
                offset += bytes;
            }
            for stats in &b.unit_stats {
                encoder.clear_buffer(stats, 0, None);
            }
            self.ctx.queue.submit([encoder.finish()]);
            let raw: Vec<f32> =
                bytemuck::pod_collect_to_vec(&self.ctx.map_staging_async(&b.diagnostics_staging, offset).await?);
            let (unit_values, param_values) = raw.split_at(offset as usize / 4 - lens[lens.len() - 1]);
            let mut rest = unit_values;
            for units in out.units.iter_mut() {
                let (mine, after) = rest.split_at(units.len());
                units.copy_from_slice(mine);
                rest = after;
            }
            for (layer, sums) in out.params.iter_mut().zip(param_values.chunks_exact(6)) {
                *layer = [0, 3].map(|s| [0, 1, 2].map(|i| f64::from(sums[s + i])));
            }
            out.samples = std::mem::take(&mut self.stat_samples);
            Ok(Some(out))
        })
    }

    fn gradients(&mut self) -> Result<Vec<f32>> {
        pollster::block_on(self.read_f32s(&self.buffers.grads, self.layout.len))
    }
}

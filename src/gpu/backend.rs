//! The GPU backend: every buffer of the run allocated once, every bind group built once, and
//! many training steps recorded into one compute pass with one readback of metrics at the end.

use std::sync::Arc;
use std::time::Duration;

use super::context::GpuContext;
use super::kernels::gather::{GatherBinding, GatherOperands, ResidentDataset};
use super::kernels::loss::{LossBinding, LossOperands, StepMetric};
use super::kernels::matmul::{MatmulBinding, MatmulOperands};
use super::kernels::optim::OptimBinding;
use super::kernels::{
    encode_step_table, step_offset, Epilogue, Gather, LossGrad, Matmul, Optim, Region, StepInfo, STEP_STRIDE,
};
use super::timestamps::Timestamps;
use std::cell::Cell;

use crate::backend::{
    check_order, check_params_len, check_setup, missing_val_split, Backend, EvalSplit, Metrics, ScheduleStats,
    StepMetrics, TrainOptions,
};
use crate::data::Splits;
use crate::dropout::fold_seed;
use crate::error::{Error, Result};
use crate::model::{MlpSpec, ParamLayout, Stored};
use crate::optim::Optimizer;

/// The compiled kernels, created once per run.
struct Kernels {
    gather: Gather,
    matmul: Matmul,
    loss: LossGrad,
    optim: Optim,
}

/// What one dispatch of a step computes; layers count from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepDispatch {
    Gather,
    Forward(usize),
    Loss,
    WeightGrad(usize),
    InputGrad(usize),
    Update,
}

impl std::fmt::Display for StepDispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepDispatch::Gather => write!(f, "gather batch"),
            StepDispatch::Forward(l) => write!(f, "layer {} forward", l + 1),
            StepDispatch::Loss => write!(f, "loss + gradient"),
            StepDispatch::WeightGrad(l) => write!(f, "layer {} dW, db", l + 1),
            StepDispatch::InputGrad(l) => write!(f, "layer {} dX", l + 1),
            StepDispatch::Update => write!(f, "optimizer update"),
        }
    }
}

/// Called after each dispatch a step records (to count or time them).
type After<'a> = &'a mut dyn FnMut(&mut wgpu::ComputePass<'_>, StepDispatch);

/// Bind groups for one layer's backward pass.
struct LayerBackward {
    /// dW = dZᵀ · X, with the bias gradient Σ_batch dZ as its row sums.
    weight_grad: MatmulBinding,
    /// Gradient into the layer's input, through the previous layer's ReLU (absent for layer 0).
    input_grad: Option<MatmulBinding>,
}

pub struct GpuBackend {
    ctx: GpuContext,
    kernels: Kernels,
    layout: ParamLayout,
    batch_size: usize,
    train_len: usize,
    /// Held-out splits resident for evaluation: which, how many samples, their gather.
    eval_sets: Vec<(EvalSplit, usize, GatherBinding)>,
    /// Most steps one submit can record (the step and metrics buffers' capacity).
    max_steps: usize,
    params: wgpu::Buffer,
    train_order: wgpu::Buffer,
    steps: wgpu::Buffer,
    metrics: wgpu::Buffer,
    metrics_staging: wgpu::Buffer,
    train_gather: GatherBinding,
    forward: Vec<MatmulBinding>,
    backward: Vec<LayerBackward>,
    loss: LossBinding,
    optim: OptimBinding,
    optimizer: Optimizer,
    dropout: f32,
    seed: u32,
    /// Optimizer steps taken (Adam's t).
    step_count: u64,
    stats: Cell<ScheduleStats>,
    // Kept alive for the bind groups above, never touched by the host after creation.
    _resident: Vec<wgpu::Buffer>,
    _datasets: Vec<ResidentDataset>,
}

impl GpuBackend {
    pub fn new(
        ctx: GpuContext,
        spec: &MlpSpec,
        params: &[f32],
        data: Arc<Splits>,
        opts: &TrainOptions,
    ) -> Result<Self> {
        let batch_size = opts.batch_size;
        let layout = ParamLayout::new(spec);
        check_setup(spec, params, &data, batch_size)?;
        if batch_size > ctx.limits.max_compute_workgroups_per_dimension as usize {
            return Err(Error::DeviceLimit(format!(
                "batch size {batch_size} is over the adapter's {} workgroups per dimension",
                ctx.limits.max_compute_workgroups_per_dimension
            )));
        }
        let kernels = Kernels {
            gather: Gather::new(&ctx),
            matmul: Matmul::new(&ctx),
            loss: LossGrad::new(&ctx),
            optim: Optim::new(&ctx),
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
        let max_steps = longest.div_ceil(batch_size).max(1);
        let f32s = |n: usize| (n * 4) as u64;

        let train_set = ResidentDataset::upload(&ctx, "train", &data.train)?;
        let held_out_sets = held_out
            .iter()
            .map(|(s, d)| ResidentDataset::upload(&ctx, &format!("{s:?}"), d))
            .collect::<Result<Vec<_>>>()?;
        let params_buf = ctx.storage_buffer_init("parameters", bytemuck::cast_slice(params))?;
        let grads = ctx.storage_buffer("gradients", f32s(layout.len))?;
        let widths: Vec<usize> = spec.sizes.clone();
        let acts = widths
            .iter()
            .enumerate()
            .map(|(l, w)| ctx.storage_buffer(&format!("activations {l}"), f32s(w * batch_size)))
            .collect::<Result<Vec<_>>>()?;
        let deltas = widths[1..]
            .iter()
            .enumerate()
            .map(|(l, w)| ctx.storage_buffer(&format!("deltas {l}"), f32s(w * batch_size)))
            .collect::<Result<Vec<_>>>()?;
        let batch_labels = ctx.storage_buffer("batch labels", (batch_size * 4) as u64)?;
        let train_order = ctx.storage_buffer("train order", (max_steps * batch_size * 4) as u64)?;
        // Held-out splits are evaluated in order: one identity order serves them all.
        let identity: Vec<u32> = (0..longest as u32).collect();
        let identity_order = ctx.storage_buffer_init("identity order", bytemuck::cast_slice(&identity))?;
        let steps = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("steps"),
            size: max_steps as u64 * STEP_STRIDE,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let metric_bytes = (max_steps * std::mem::size_of::<StepMetric>()) as u64;
        let metrics = ctx.storage_buffer("metrics", metric_bytes)?;
        let metrics_staging = ctx.staging_buffer(metric_bytes);

        let gather = |data: &ResidentDataset, order: &wgpu::Buffer| {
            kernels.gather.bind(
                &ctx,
                &GatherOperands {
                    data,
                    order,
                    steps: &steps,
                    x: &acts[0],
                    labels: &batch_labels,
                    batch: batch_size,
                },
            )
        };
        let train_gather = gather(&train_set, &train_order);
        let eval_sets = held_out
            .iter()
            .zip(&held_out_sets)
            .map(|((split, d), set)| (*split, d.len(), gather(set, &identity_order)))
            .collect();

        let last = layout.layers.len() - 1;
        let weight = |l: usize, buf| Region {
            buffer: buf,
            offset: layout.layers[l].weight.start,
            len: layout.layers[l].weight.len(),
        };
        let bias = |l: usize, buf| Region {
            buffer: buf,
            offset: layout.layers[l].bias.start,
            len: layout.layers[l].bias.len(),
        };
        let forward = layout
            .layers
            .iter()
            .enumerate()
            .map(|(l, s)| {
                let b = bias(l, &params_buf);
                kernels.matmul.bind(
                    &ctx,
                    &format!("forward {l}"),
                    &MatmulOperands {
                        m: batch_size,
                        k: s.fan_in,
                        n: s.fan_out,
                        a: Region::all(&acts[l]),
                        a_stored: Stored::AsIs,
                        b: weight(l, &params_buf),
                        b_stored: Stored::Transposed,
                        c: Region::all(&acts[l + 1]),
                        epilogue: match s.activation {
                            Some(act) => Epilogue::BiasAct(b, act),
                            None => Epilogue::Bias(b),
                        },
                        row_sums: None,
                        dropout: s.activation.map(|_| (&steps, l as u32)),
                    },
                )
            })
            .collect();
        let backward = layout
            .layers
            .iter()
            .enumerate()
            .map(|(l, s)| LayerBackward {
                // dW[out, in] = dZᵀ · X
                weight_grad: kernels.matmul.bind(
                    &ctx,
                    &format!("weight grad {l}"),
                    &MatmulOperands {
                        m: s.fan_out,
                        k: batch_size,
                        n: s.fan_in,
                        a: Region::all(&deltas[l]),
                        a_stored: Stored::Transposed,
                        b: Region::all(&acts[l]),
                        b_stored: Stored::AsIs,
                        c: weight(l, &grads),
                        epilogue: Epilogue::None,
                        row_sums: Some(bias(l, &grads)),
                        dropout: None,
                    },
                ),
                // dZ_{l−1} = (dZ_l · W_l) ⊙ act'(A_l), A_l being layer l − 1's output
                input_grad: (l > 0).then(|| {
                    kernels.matmul.bind(
                        &ctx,
                        &format!("input grad {l}"),
                        &MatmulOperands {
                            m: batch_size,
                            k: s.fan_out,
                            n: s.fan_in,
                            a: Region::all(&deltas[l]),
                            a_stored: Stored::AsIs,
                            b: weight(l, &params_buf),
                            b_stored: Stored::AsIs,
                            c: Region::all(&deltas[l - 1]),
                            epilogue: Epilogue::ActGrad(
                                Region::all(&acts[l]),
                                layout.layers[l - 1]
                                    .activation
                                    .expect("hidden layers have an activation"),
                            ),
                            row_sums: None,
                            dropout: Some((&steps, (l - 1) as u32)),
                        },
                    )
                }),
            })
            .collect();
        let loss = kernels.loss.bind(
            &ctx,
            &LossOperands {
                steps: &steps,
                logits: Region::all(&acts[last + 1]),
                labels: &batch_labels,
                dlogits: Region::all(&deltas[last]),
                metrics: &metrics,
                loss: spec.loss,
                units: spec.outputs(),
                batch: batch_size,
            },
        );
        let optim = kernels.optim.bind(
            &ctx,
            &steps,
            &opts.optimizer,
            Region::all(&params_buf),
            Region::all(&grads),
        )?;

        let mut resident = vec![grads, batch_labels, identity_order];
        resident.extend(acts);
        resident.extend(deltas);
        Ok(GpuBackend {
            ctx,
            kernels,
            layout,
            batch_size,
            train_len,
            eval_sets,
            max_steps,
            params: params_buf,
            train_order,
            steps,
            metrics,
            metrics_staging,
            train_gather,
            forward,
            backward,
            loss,
            optim,
            optimizer: opts.optimizer,
            dropout: opts.dropout,
            seed: fold_seed(opts.seed),
            step_count: 0,
            stats: Cell::default(),
            _resident: resident,
            _datasets: std::iter::once(train_set).chain(held_out_sets).collect(),
        })
    }

    /// Records one step's forward pass and loss.
    fn record_forward(&self, pass: &mut wgpu::ComputePass<'_>, gather: &GatherBinding, step: usize, after: After<'_>) {
        let k = &self.kernels;
        k.gather.dispatch(pass, gather, step_offset(step));
        after(pass, StepDispatch::Gather);
        for (layer, f) in self.forward.iter().enumerate() {
            k.matmul.dispatch(pass, f, step_offset(step));
            after(pass, StepDispatch::Forward(layer));
        }
        k.loss.dispatch(pass, &self.loss, step_offset(step));
        after(pass, StepDispatch::Loss);
    }

    /// Records one whole training step.
    fn record_train_step(&self, pass: &mut wgpu::ComputePass<'_>, step: usize, after: After<'_>) {
        let k = &self.kernels;
        self.record_forward(pass, &self.train_gather, step, after);
        for (layer, grads) in self.backward.iter().enumerate().rev() {
            k.matmul.dispatch(pass, &grads.weight_grad, step_offset(step));
            after(pass, StepDispatch::WeightGrad(layer));
            if let Some(input_grad) = &grads.input_grad {
                k.matmul.dispatch(pass, input_grad, step_offset(step));
                after(pass, StepDispatch::InputGrad(layer));
            }
        }
        k.optim.dispatch(pass, &self.optim, step_offset(step));
        after(pass, StepDispatch::Update);
    }

    /// Writes the step table, records `infos.len()` steps with `record` (which calls `after`
    /// once per dispatch), submits once and reads back each step's metrics. Returns the metrics
    /// and the dispatch count; with `timestamps`, marks the time after every dispatch.
    fn run_steps(
        &self,
        infos: &[StepInfo],
        record: impl Fn(&mut wgpu::ComputePass<'_>, usize, After<'_>),
        mut timestamps: Option<&mut Timestamps>,
    ) -> Result<(Vec<StepMetrics>, u64)> {
        if infos.is_empty() {
            return Ok((Vec::new(), 0));
        }
        self.ctx.queue.write_buffer(&self.steps, 0, &encode_step_table(infos));
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        let mut dispatches = 0;
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            if let Some(t) = timestamps.as_deref_mut() {
                t.start(&mut pass);
            }
            let mut after = |pass: &mut wgpu::ComputePass<'_>, dispatch: StepDispatch| {
                dispatches += 1;
                if let Some(t) = timestamps.as_deref_mut() {
                    t.mark(pass, dispatch.to_string());
                }
            };
            for step in 0..infos.len() {
                record(&mut pass, step, &mut after);
            }
        }
        let bytes = (infos.len() * std::mem::size_of::<StepMetric>()) as u64;
        encoder.copy_buffer_to_buffer(&self.metrics, 0, &self.metrics_staging, 0, bytes);
        self.ctx.queue.submit([encoder.finish()]);
        let raw = self.ctx.map_staging(&self.metrics_staging, bytes)?;
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

    /// Trains the steps of `order` (at most `max_steps`) in one submit.
    fn train_submit(
        &mut self,
        order: &[u32],
        lrs: &[f32],
        timestamps: Option<&mut Timestamps>,
    ) -> Result<Vec<StepMetrics>> {
        self.ctx
            .queue
            .write_buffer(&self.train_order, 0, bytemuck::cast_slice(order));
        let infos = self.plan(order.len(), Some(lrs));
        let (steps, dispatches) = self.run_steps(
            &infos,
            |pass, step, after| self.record_train_step(pass, step, after),
            timestamps,
        )?;
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
        // At most 3 dispatches per layer and 3 more per step.
        let mut timestamps = Timestamps::new(&self.ctx, 3 * self.forward.len() as u32 + 3)?;
        self.train_submit(batch, &[lr], Some(&mut timestamps))?;
        timestamps.read(&self.ctx)
    }

    /// The steps covering `len` samples in batches, starting at sample 0 of the order buffer;
    /// training steps (with `lrs`) advance the optimizer's step count.
    fn plan(&mut self, len: usize, lrs: Option<&[f32]>) -> Vec<StepInfo> {
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
                    first: (s * self.batch_size) as u32,
                    rows: (len - s * self.batch_size).min(self.batch_size) as u32,
                    slot: s as u32,
                    lr,
                    bias_correction1: update.bias_correction1,
                    bias_correction2: update.bias_correction2,
                    seed: self.seed,
                    index: self.step_count as u32,
                    dropout,
                    _pad: [0; 3],
                }
            })
            .collect()
    }
}

impl Backend for GpuBackend {
    fn describe(&self) -> String {
        let a = &self.ctx.adapter;
        format!("gpu: {} ({}, {:?})", a.name, a.backend, a.device_type)
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn train(&mut self, order: &[u32], lrs: &[f32]) -> Result<Vec<StepMetrics>> {
        check_order(order, self.train_len, lrs, self.batch_size)?;
        let mut out = Vec::with_capacity(lrs.len());
        for (chunk, chunk_lrs) in order
            .chunks(self.max_steps * self.batch_size)
            .zip(lrs.chunks(self.max_steps))
        {
            out.extend(self.train_submit(chunk, chunk_lrs, None)?);
        }
        Ok(out)
    }

    fn evaluate(&mut self, split: EvalSplit) -> Result<Metrics> {
        let index = self
            .eval_sets
            .iter()
            .position(|(s, _, _)| *s == split)
            .ok_or_else(missing_val_split)?;
        let infos = self.plan(self.eval_sets[index].1, None);
        let gather = &self.eval_sets[index].2;
        let (steps, _) = self.run_steps(
            &infos,
            |pass, step, after| self.record_forward(pass, gather, step, after),
            None,
        )?;
        Ok(Metrics::from_steps(&steps))
    }

    fn schedule_stats(&self) -> ScheduleStats {
        self.stats.get()
    }

    fn optimizer_state(&mut self) -> Result<(Vec<f32>, u64)> {
        let bytes = self.optim.state.size();
        let state = if self.optimizer.kind.state_per_param() == 0 {
            Vec::new()
        } else {
            bytemuck::pod_collect_to_vec(&self.ctx.read_back(&self.optim.state, bytes)?)
        };
        Ok((state, self.step_count))
    }

    fn set_optimizer_state(&mut self, state: &[f32], steps: u64) -> Result<()> {
        check_params_len(state, self.layout.len * self.optimizer.kind.state_per_param())?;
        if !state.is_empty() {
            self.ctx
                .queue
                .write_buffer(&self.optim.state, 0, bytemuck::cast_slice(state));
        }
        self.step_count = steps;
        Ok(())
    }

    fn set_parameters(&mut self, params: &[f32]) -> Result<()> {
        check_params_len(params, self.layout.len)?;
        self.ctx
            .queue
            .write_buffer(&self.params, 0, bytemuck::cast_slice(params));
        Ok(())
    }

    fn parameters(&mut self) -> Result<Vec<f32>> {
        let raw = self.ctx.read_back(&self.params, (self.layout.len * 4) as u64)?;
        Ok(bytemuck::pod_collect_to_vec(&raw))
    }
}

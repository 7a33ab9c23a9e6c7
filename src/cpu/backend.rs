//! The CPU reference as a full backend: `--device cpu`.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;
use web_time::Instant;

use super::aligned::Aligned;
use super::net::{forward, loss_and_gradients, Workspace};
use super::ops::{accumulate_unit_stats, loss_and_grad, optimizer_step, param_sums};
use crate::data::{Dataset, Splits};
use crate::error::Result;
use crate::nn::dropout::{fold_seed, Dropout};
use crate::nn::model::{Loss, MlpSpec, ParamLayout};
use crate::nn::optim::Optimizer;
use crate::training::backend::{
    check_order, check_params_len, check_part, check_setup, Backend, DispatchStats, EvalSplit, StepMetrics, StepTrace,
    TrainOptions,
};
use crate::training::diagnostics::RawDiagnostics;

pub struct CpuBackend {
    layout: ParamLayout,
    loss: Loss,
    params: Aligned<f32>,
    grads: Vec<f32>,
    ws: Workspace<f32>,
    data: Arc<Splits>,
    batch_size: usize,
    optimizer: Optimizer,
    dropout: f32,
    seed: u32,
    /// Velocity, or Adam's m then v.
    optimizer_state: Vec<f32>,
    /// Optimizer steps taken (Adam's t).
    steps: u64,
    /// The activation statistics since the diagnostics were last read.
    unit_stats: RawDiagnostics,
    /// The parameters before the latest step, for the size of its update.
    before: Vec<f32>,
}

impl CpuBackend {
    pub fn new(spec: &MlpSpec, params: Vec<f32>, data: Arc<Splits>, opts: &TrainOptions) -> Result<Self> {
        let layout = ParamLayout::new(spec);
        let batch_size = opts.batch_size;
        check_setup(spec, &params, &data, batch_size)?;
        let layout_len = layout.len;
        let mut ws = Workspace::new(&layout, batch_size);
        // Weighted training samples: each step's weights are gathered beside its labels.
        ws.weights = data.train.weights.as_ref().map(|_| Vec::with_capacity(batch_size));
        Ok(CpuBackend {
            loss: spec.loss,
            grads: vec![0.0; layout.len],
            ws,
            params: Aligned::from_slice(&params),
            data,
            batch_size,
            optimizer: opts.optimizer,
            dropout: opts.dropout,
            seed: fold_seed(opts.seed),
            optimizer_state: vec![0.0; layout_len * opts.optimizer.kind.state_per_param()],
            steps: 0,
            unit_stats: RawDiagnostics::empty(&layout),
            before: vec![0.0; layout_len],
            layout,
        })
    }

    /// Copies the samples `indices` of `split` into the input batch and label buffers.
    fn gather(&mut self, split: &Dataset, indices: &[u32]) {
        // Rows are scattered over the dataset, so the copy waits on memory: split it over threads.
        self.ws.acts[0][..indices.len() * split.dim]
            .par_chunks_mut(split.dim)
            .zip(indices)
            .for_each(|(row, &i)| split.write_row(i as usize, row));
        for (label, &i) in self.ws.labels.iter_mut().zip(indices) {
            *label = split.labels[i as usize];
        }
    }

    /// The training steps of [`Backend::train_steps`] for a checked `order`.
    fn run_steps(&mut self, order: &[u32], lrs: &[f32]) -> Result<Vec<StepMetrics>> {
        let data = Arc::clone(&self.data);
        let mut steps = Vec::with_capacity(lrs.len());
        let last = lrs.len().saturating_sub(1);
        for (i, (batch, &lr)) in order.chunks(self.batch_size).zip(lrs).enumerate() {
            self.gather(&data.train, batch);
            if let (Some(weights), Some(batch_weights)) = (&data.train.weights, &mut self.ws.weights) {
                batch_weights.clear();
                batch_weights.extend(batch.iter().map(|&i| weights[i as usize]));
            }
            let rows = batch.len();
            self.steps += 1;
            let dropout = (self.dropout > 0.0).then_some(Dropout {
                p: self.dropout,
                seed: self.seed,
                step: self.steps as u32,
            });
            let loss = loss_and_gradients(
                &self.layout,
                self.loss,
                &self.params,
                &mut self.ws,
                rows,
                &mut self.grads,
                dropout.as_ref(),
            );
            self.record_unit_stats(rows);
            if i == last {
                self.before.copy_from_slice(&self.params);
            }
            let update = self.optimizer.step(self.steps, lr);
            optimizer_step(
                &self.optimizer,
                &update,
                &mut self.params,
                &self.grads,
                &mut self.optimizer_state,
            );
            steps.push(StepMetrics {
                loss_sum: loss.loss_sum,
                correct: loss.correct,
                samples: rows as u32,
            });
        }
        Ok(steps)
    }

    /// Adds the hidden activations of the batch just trained on to the unit statistics.
    fn record_unit_stats(&mut self, rows: usize) {
        let stats = &mut self.unit_stats;
        for (l, units) in stats.units.iter_mut().enumerate() {
            accumulate_unit_stats(&self.ws.acts[l + 1], rows, self.layout.layers[l].fan_out, units);
        }
        stats.samples += rows as u64;
    }
}

/// How long [`keep_pool_busy`]'s threads wait without work before they sleep: ten times a
/// 784-512-10 step's longest single-threaded stretch (≈ 0.1 ms on two cores).
const BUSY_WAIT_LIMIT: Duration = Duration::from_millis(1);

/// Runs `work` while the pool's other threads wait for its parallel parts busily, rather than
/// going to sleep in between: rayon puts an idle thread to sleep within microseconds, and a
/// step's single-threaded stretches (the small products, the loss) are longer than that, so
/// every parallel phase of a step would wait for a thread to wake (+1% samples/s measured,
/// BENCHMARKS.md). A thread that finds no work for [`BUSY_WAIT_LIMIT`] stops waiting and
/// sleeps as rayon's do: it spins only while the steps keep handing it work. The waiting jobs
/// are spawned before any of `work`'s own: they sit below all of them in this thread's queue,
/// which other threads take from the bottom, so a thread that takes one of `work`'s jobs has
/// taken a waiting job first, and this thread, which takes from the top, never runs one while
/// `work` is unfinished.
fn keep_pool_busy<'scope, R>(scope: &rayon::Scope<'scope>, work: impl FnOnce() -> R) -> R {
    /// Set when `work` ends, even by a panic, so that the waiting jobs end too.
    struct Done(Arc<AtomicBool>);
    impl Drop for Done {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let done = Done(Arc::new(AtomicBool::new(false)));
    for _ in 1..rayon::current_num_threads() {
        let done = Arc::clone(&done.0);
        scope.spawn(move |_| {
            let mut last_work = Instant::now();
            while !done.load(Ordering::Acquire) && last_work.elapsed() < BUSY_WAIT_LIMIT {
                if rayon::yield_now() == Some(rayon::Yield::Executed) {
                    last_work = Instant::now();
                } else {
                    std::hint::spin_loop();
                }
            }
        });
    }
    work()
}

impl Backend for CpuBackend {
    fn trace_step(&mut self, batch: &[u32], lr: f32) -> Result<StepTrace> {
        check_order(batch, self.data.train.len(), &[lr], self.batch_size)?;
        self.ws.keep_pre_activations();
        let traced = self.run_steps(batch, &[lr]);
        let pre_activations = self.ws.pre_acts.take();
        traced?;
        let rows = batch.len();
        let first_rows = |v: &[f32], width: usize| v[..rows * width].to_vec();
        let widths = self.layout.widths();
        Ok(StepTrace {
            acts: self
                .ws
                .acts
                .iter()
                .zip(&widths)
                .map(|(a, &w)| first_rows(a, w))
                .collect(),
            pre_activations: pre_activations
                .map(|z| z.iter().zip(&widths[1..]).map(|(z, &w)| first_rows(z, w)).collect()),
            deltas: self
                .ws
                .deltas
                .iter()
                .zip(&widths[1..])
                .map(|(d, &w)| first_rows(d, w))
                .collect(),
            grads: self.grads.clone(),
            params: self.params.to_vec(),
        })
    }

    fn describe(&self) -> String {
        format!("cpu (plain-Rust reference, {})", super::gemm::products_by())
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn train_steps(&mut self, order: &[u32], lrs: &[f32]) -> Result<Vec<StepMetrics>> {
        check_order(order, self.data.train.len(), lrs, self.batch_size)?;
        // Run the steps on one of the pool's threads: each parallel product is then a fork the
        // other threads join, instead of a hand-off that puts the caller to sleep and wakes it
        // again for every product (+5–30% samples/s on two cores).
        rayon::scope(|scope| keep_pool_busy(scope, || self.run_steps(order, lrs)))
    }

    fn held_out_len(&self, split: EvalSplit) -> Result<usize> {
        Ok(split.of(&self.data)?.len())
    }

    fn evaluate_part(&mut self, split: EvalSplit, samples: Range<usize>) -> Result<Vec<StepMetrics>> {
        let data = Arc::clone(&self.data);
        let split = split.of(&data)?;
        check_part(&samples, split.len())?;
        let units = self.layout.layers[self.layout.layers.len() - 1].fan_out;
        let mut scratch = vec![0.0f32; self.batch_size * units];
        let indices: Vec<u32> = (samples.start as u32..samples.end as u32).collect();
        let mut steps = Vec::new();
        for batch in indices.chunks(self.batch_size) {
            self.gather(split, batch);
            forward(&self.layout, &self.params, &mut self.ws, batch.len(), None);
            let loss = loss_and_grad(
                self.loss,
                self.ws.logits(),
                &self.ws.labels,
                None,
                batch.len(),
                units,
                &mut scratch,
            );
            steps.push(StepMetrics {
                loss_sum: loss.loss_sum,
                correct: loss.correct,
                samples: batch.len() as u32,
            });
        }
        Ok(steps)
    }

    fn parameters(&mut self) -> Result<Vec<f32>> {
        Ok(self.params.to_vec())
    }

    fn gradients(&mut self) -> Result<Vec<f32>> {
        Ok(self.grads.clone())
    }

    fn set_parameters(&mut self, params: &[f32]) -> Result<()> {
        check_params_len(params, self.params.len())?;
        self.params.copy_from_slice(params);
        Ok(())
    }

    fn optimizer_state(&mut self) -> Result<(Vec<f32>, u64)> {
        Ok((self.optimizer_state.clone(), self.steps))
    }

    fn set_optimizer_state(&mut self, state: &[f32], steps: u64) -> Result<()> {
        check_params_len(state, self.optimizer_state.len())?;
        self.optimizer_state.copy_from_slice(state);
        self.steps = steps;
        Ok(())
    }

    fn diagnostics(&mut self) -> Result<Option<RawDiagnostics>> {
        if self.unit_stats.samples == 0 {
            return Ok(None);
        }
        let mut raw = std::mem::replace(&mut self.unit_stats, RawDiagnostics::empty(&self.layout));
        let sums = |range: &std::ops::Range<usize>| {
            param_sums(
                &self.grads[range.clone()],
                &self.params[range.clone()],
                &self.before[range.clone()],
            )
        };
        raw.params = self
            .layout
            .layers
            .iter()
            .map(|slots| [sums(&slots.weight), sums(&slots.bias)])
            .collect();
        Ok(Some(raw))
    }

    fn dispatch_stats(&self) -> DispatchStats {
        DispatchStats {
            steps: self.steps,
            ..Default::default()
        }
    }
}

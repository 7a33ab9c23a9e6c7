//! What a training loop needs from a compute backend; implemented by the CPU reference and the GPU.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;

use crate::data::{Dataset, Splits};
use crate::error::{Error, Result};
use crate::nn::model::{MlpSpec, ParamLayout};
use crate::nn::optim::Optimizer;
use crate::training::diagnostics::RawDiagnostics;

/// A held-out split to evaluate on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalSplit {
    Val,
    Test,
}

impl EvalSplit {
    /// The split's data, or an error when the data has no such split.
    pub fn of(self, data: &Splits) -> Result<&Dataset> {
        match self {
            EvalSplit::Test => data.test.as_ref().ok_or_else(missing_test_split),
            EvalSplit::Val => data.val.as_ref().ok_or_else(missing_val_split),
        }
    }
}

fn missing_test_split() -> Error {
    Error::InvalidConfig {
        field: "test",
        detail: "no test split: these data came without test samples".into(),
    }
}

pub(crate) fn missing_val_split() -> Error {
    Error::InvalidConfig {
        field: "val_split",
        detail: "no validation split: set --val-split".into(),
    }
}

/// How a backend trains, fixed when it is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    pub batch_size: usize,
    pub optimizer: Optimizer,
    /// Dropout probability after each hidden layer while training (0: none).
    pub dropout: f32,
    /// Seeds the dropout masks.
    pub seed: u64,
}

impl TrainOptions {
    /// Plain SGD at `batch_size`.
    pub fn new(batch_size: usize) -> Self {
        TrainOptions {
            batch_size,
            optimizer: Optimizer::default(),
            dropout: 0.0,
            seed: 0,
        }
    }
}

/// Loss and accuracy of one training step (one mini-batch), or summed over several.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct StepMetrics {
    /// Sum of the per-sample losses (divide by `samples` for the mean).
    pub loss_sum: f64,
    pub correct: u32,
    pub samples: u32,
}

impl StepMetrics {
    /// The steps' sums as one entry.
    pub fn total(steps: &[StepMetrics]) -> StepMetrics {
        steps.iter().fold(StepMetrics::default(), |t, s| StepMetrics {
            loss_sum: t.loss_sum + s.loss_sum,
            correct: t.correct + s.correct,
            samples: t.samples + s.samples,
        })
    }
}

/// Loss and accuracy over a whole split.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    pub loss: f64,
    pub accuracy: f64,
    pub samples: usize,
}

impl Metrics {
    /// What a split that was not measured shows: NaN loss and accuracy.
    pub const UNMEASURED: Metrics = Metrics {
        loss: f64::NAN,
        accuracy: f64::NAN,
        samples: 0,
    };

    /// Combines per-step sums into means.
    pub fn from_steps(steps: &[StepMetrics]) -> Metrics {
        let samples: usize = steps.iter().map(|s| s.samples as usize).sum();
        let loss: f64 = steps.iter().map(|s| s.loss_sum).sum();
        let correct: u64 = steps.iter().map(|s| u64::from(s.correct)).sum();
        let n = samples.max(1) as f64;
        Metrics {
            loss: loss / n,
            accuracy: correct as f64 / n,
            samples,
        }
    }
}

/// How a backend's work was scheduled so far: training steps, and on the GPU the kernel
/// dispatches recorded and command buffers submitted for them (0 on the CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DispatchStats {
    pub steps: u64,
    pub dispatches: u64,
    pub submits: u64,
}

impl DispatchStats {
    pub fn dispatches_per_step(&self) -> f64 {
        self.dispatches as f64 / self.steps.max(1) as f64
    }
}

/// A backend's answer that may have to wait for the device: boxed, so `dyn Backend` can
/// return it. A browser answers a GPU readback only after the page's task yields; natively the
/// blocking methods wait on the same futures.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + 'a>>;

/// A place where a network is trained: it owns the parameters and the data for one run.
///
/// The `_async` methods are what the training loop awaits ([`crate::training::train::fit_async`]):
/// by default the blocking method's answer, ready at once (the CPU computes it in place); the
/// GPU awaits its readbacks instead, and its blocking methods wait for those futures.
pub trait Backend {
    /// Short human description, e.g. `cpu` or `gpu: llvmpipe (Vulkan)`.
    fn describe(&self) -> String;

    /// The mini-batch size the backend was built for.
    fn batch_size(&self) -> usize;

    /// One optimizer step per consecutive `batch_size` slice of `order` (indices into the
    /// training split; the last slice may be shorter), step `i` at learning rate `lrs[i]`.
    /// Returns each step's metrics.
    fn train_steps(&mut self, order: &[u32], lrs: &[f32]) -> Result<Vec<StepMetrics>>;

    /// How many samples a held-out split has (an error when the data have no such split).
    fn held_out_len(&self, split: EvalSplit) -> Result<usize>;

    /// Each batch's loss and accuracy on `samples` of a held-out split, without changing the
    /// parameters: a part of a split, so a host that must stay responsive scores it piece by
    /// piece. Asking for the validation split of data that has none is an error.
    fn evaluate_part(&mut self, split: EvalSplit, samples: Range<usize>) -> Result<Vec<StepMetrics>>;

    /// Loss and accuracy on a whole held-out split.
    fn evaluate(&mut self, split: EvalSplit) -> Result<Metrics> {
        let len = self.held_out_len(split)?;
        Ok(Metrics::from_steps(&self.evaluate_part(split, 0..len)?))
    }

    /// Replaces the parameters (same layout), e.g. to go back to the best epoch's.
    fn set_parameters(&mut self, params: &[f32]) -> Result<()>;

    /// The current parameters, in the flat [`crate::nn::model::ParamLayout`].
    fn parameters(&mut self) -> Result<Vec<f32>>;

    /// The gradient of every parameter at the latest training step (flat layout; zeros before
    /// the first).
    fn gradients(&mut self) -> Result<Vec<f32>>;

    /// The optimizer's state (velocity, or Adam's m then v, each in the parameter layout;
    /// empty for plain SGD) and the number of optimizer steps taken.
    fn optimizer_state(&mut self) -> Result<(Vec<f32>, u64)>;

    /// Restores the optimizer's state and step count (as [`Backend::optimizer_state`] gave them).
    fn set_optimizer_state(&mut self, state: &[f32], steps: u64) -> Result<()>;

    /// Training work scheduled since the backend was built (evaluation not counted).
    fn dispatch_stats(&self) -> DispatchStats;

    /// Trains one step on `batch` (sample indices of the training split) at learning rate `lr`
    /// and returns every tensor it computed, by name: what `gpu-mlp explain` prints and the
    /// CPU↔GPU step test compares.
    fn trace_step(&mut self, batch: &[u32], lr: f32) -> Result<StepTrace>;

    /// What the training steps since the last call measured for the per-layer diagnostics
    /// (the activations of all of them, the parameters at the latest one), then starts
    /// counting anew; `None` when no step ran since.
    fn diagnostics(&mut self) -> Result<Option<RawDiagnostics>>;

    /// [`Backend::train_steps`], awaited.
    fn train_steps_async<'a>(&'a mut self, order: &'a [u32], lrs: &'a [f32]) -> Pending<'a, Vec<StepMetrics>> {
        Box::pin(std::future::ready(self.train_steps(order, lrs)))
    }

    /// [`Backend::evaluate_part`], awaited.
    fn evaluate_part_async(&mut self, split: EvalSplit, samples: Range<usize>) -> Pending<'_, Vec<StepMetrics>> {
        Box::pin(std::future::ready(self.evaluate_part(split, samples)))
    }

    /// [`Backend::trace_step`], awaited.
    fn trace_step_async<'a>(&'a mut self, batch: &'a [u32], lr: f32) -> Pending<'a, StepTrace> {
        Box::pin(std::future::ready(self.trace_step(batch, lr)))
    }

    /// [`Backend::parameters`], awaited.
    fn parameters_async(&mut self) -> Pending<'_, Vec<f32>> {
        Box::pin(std::future::ready(self.parameters()))
    }

    /// [`Backend::optimizer_state`], awaited.
    fn optimizer_state_async(&mut self) -> Pending<'_, (Vec<f32>, u64)> {
        Box::pin(std::future::ready(self.optimizer_state()))
    }

    /// [`Backend::diagnostics`], awaited.
    fn diagnostics_async(&mut self) -> Pending<'_, Option<RawDiagnostics>> {
        Box::pin(std::future::ready(self.diagnostics()))
    }
}

/// Every tensor of one training step, read back (see [`Backend::trace_step`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StepTrace {
    /// `acts[0]`: the gathered, normalized input batch; `acts[l + 1]`: layer `l`'s output
    /// (after its activation for hidden layers; the logits for the last).
    pub acts: Vec<Vec<f32>>,
    /// Each layer's pre-activation `Z = X·Wᵀ + b`, where the backend stores it (the CPU; the
    /// GPU fuses the bias and activation into the product and never writes Z).
    pub pre_activations: Option<Vec<Vec<f32>>>,
    /// `deltas[l]`: the loss gradient with respect to layer `l`'s pre-activation output (the
    /// last one: dlogits).
    pub deltas: Vec<Vec<f32>>,
    /// Every parameter's gradient, and the parameters after the update (flat layout).
    pub grads: Vec<f32>,
    pub params: Vec<f32>,
}

impl StepTrace {
    /// Every tensor under its name: `input`, `layer1.activation` … `logits`, `dlogits`,
    /// `layer<N>.dZ`, `layer<N>.dW`, `layer<N>.db`, `layer<N>.weight`, `layer<N>.bias` (after the
    /// update), and `layer<N>.Z` where stored.
    pub fn named(&self, layout: &ParamLayout) -> Vec<(String, &[f32])> {
        let last = layout.layers.len() - 1;
        let mut out: Vec<(String, &[f32])> = vec![("input".into(), &self.acts[0])];
        for l in 0..layout.layers.len() {
            let n = l + 1;
            if let Some(z) = &self.pre_activations {
                out.push((format!("layer{n}.Z"), &z[l]));
            }
            match l == last {
                true => out.push(("logits".into(), &self.acts[n])),
                false => out.push((format!("layer{n}.activation"), &self.acts[n])),
            }
        }
        for (l, slots) in layout.layers.iter().enumerate().rev() {
            let n = l + 1;
            match l == last {
                true => out.push(("dlogits".into(), &self.deltas[l])),
                false => out.push((format!("layer{n}.dZ"), &self.deltas[l])),
            }
            out.push((format!("layer{n}.dW"), &self.grads[slots.weight.clone()]));
            out.push((format!("layer{n}.db"), &self.grads[slots.bias.clone()]));
        }
        for (l, slots) in layout.layers.iter().enumerate() {
            out.push((format!("layer{}.weight", l + 1), &self.params[slots.weight.clone()]));
            out.push((format!("layer{}.bias", l + 1), &self.params[slots.bias.clone()]));
        }
        out
    }
}

/// Checks that parameters, data and batch size fit the model; shared by both backends.
pub(crate) fn check_setup(spec: &MlpSpec, params: &[f32], data: &Splits, batch_size: usize) -> Result<()> {
    let layout = ParamLayout::new(spec);
    check_params_len(params, layout.len)?;
    if batch_size == 0 {
        return Err(Error::InvalidConfig {
            field: "batch-size",
            detail: "must be ≥ 1".into(),
        });
    }
    let (inputs, outputs) = (spec.inputs(), spec.outputs());
    let dims_match = [Some(&data.train), data.val.as_ref(), data.test.as_ref()]
        .iter()
        .flatten()
        .all(|d| d.dim == inputs);
    if !dims_match || spec.loss.output_units(data.classes())? != outputs {
        return Err(Error::InvalidConfig {
            field: "model",
            detail: format!(
                "model has {inputs} inputs and {outputs} outputs for {:?}, dataset `{}` has {} features and {} classes",
                spec.loss,
                data.name,
                data.train.dim,
                data.classes()
            ),
        });
    }
    Ok(())
}

/// Checks that replacement parameters fit the layout.
pub(crate) fn check_params_len(params: &[f32], len: usize) -> Result<()> {
    if params.len() == len {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            field: "parameters",
            detail: format!("expected {len} values for this model, got {}", params.len()),
        })
    }
}

/// Checks that a part of a held-out split of `len` samples lies within it.
pub(crate) fn check_part(samples: &Range<usize>, len: usize) -> Result<()> {
    match samples.start <= samples.end && samples.end <= len {
        true => Ok(()),
        false => Err(Error::InvalidConfig {
            field: "samples",
            detail: format!("samples {samples:?} are out of range for a held-out split of {len}"),
        }),
    }
}

/// Checks that a training order only names samples that exist and that there is one learning
/// rate per batch.
pub(crate) fn check_order(order: &[u32], len: usize, lrs: &[f32], batch_size: usize) -> Result<()> {
    if lrs.len() != order.len().div_ceil(batch_size) {
        return Err(Error::InvalidConfig {
            field: "learning rates",
            detail: format!(
                "{} given for {} batches of {batch_size} from {} samples",
                lrs.len(),
                order.len().div_ceil(batch_size),
                order.len()
            ),
        });
    }
    match order.iter().find(|&&i| i as usize >= len) {
        Some(i) => Err(Error::InvalidConfig {
            field: "order",
            detail: format!("sample index {i} is out of range for a training split of {len}"),
        }),
        None => Ok(()),
    }
}

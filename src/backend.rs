//! What a training loop needs from a compute backend; implemented by the CPU reference and the GPU.

use crate::error::Result;

/// Loss and accuracy of one training step (one mini-batch).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepMetrics {
    /// Sum of the per-sample losses (divide by `samples` for the mean).
    pub loss_sum: f64,
    pub correct: u32,
    pub samples: u32,
}

/// Loss and accuracy over a whole split.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    pub loss: f64,
    pub accuracy: f64,
    pub samples: usize,
}

impl Metrics {
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

/// A place where a network is trained: it owns the parameters and the data for one run.
pub trait Backend {
    /// Short human description, e.g. `cpu` or `gpu: llvmpipe (Vulkan)`.
    fn describe(&self) -> String;

    /// The mini-batch size the backend was built for.
    fn batch_size(&self) -> usize;

    /// One SGD step per consecutive `batch_size` slice of `order` (indices into the training
    /// split; the last slice may be shorter), at learning rate `lr`. Returns each step's metrics.
    fn train(&mut self, order: &[u32], lr: f32) -> Result<Vec<StepMetrics>>;

    /// Loss and accuracy on the test split, without changing the parameters.
    fn evaluate_test(&mut self) -> Result<Metrics>;

    /// The current parameters, in the flat [`crate::model::ParamLayout`].
    fn parameters(&mut self) -> Result<Vec<f32>>;
}

//! The dispatches of one training step, in order, each with the CPU reference functions it
//! mirrors and the WGSL kernel that runs it: the one list the GPU backend records, `bench` and
//! the profiler time (by its names), `explain` prints beside each value, and the README's
//! kernel table is checked against.

/// One dispatch of a step; layers count from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepDispatch {
    Gather,
    Forward(usize),
    Loss,
    WeightGrad(usize),
    InputGrad(usize),
    Update,
    ActivationStats(usize),
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
            StepDispatch::ActivationStats(l) => write!(f, "layer {} activation stats", l + 1),
        }
    }
}

impl StepDispatch {
    /// The CPU reference's functions that compute the same (`cpu::ops`, or the data's).
    pub fn cpu_twin(self) -> &'static [&'static str] {
        match self {
            StepDispatch::Gather => &["Dataset::write_row"],
            StepDispatch::Forward(_) => &["linear_forward", "activate"],
            StepDispatch::Loss => &["loss_and_grad"],
            StepDispatch::WeightGrad(_) => &["linear_backward"],
            StepDispatch::InputGrad(_) => &["linear_backward", "activation_backward"],
            StepDispatch::Update => &["optimizer_step"],
            StepDispatch::ActivationStats(_) => &["accumulate_unit_stats"],
        }
    }

    /// The WGSL file of the kernel that runs it.
    pub fn kernel(self) -> &'static str {
        match self {
            StepDispatch::Gather => "gather.wgsl",
            StepDispatch::Forward(_) | StepDispatch::WeightGrad(_) | StepDispatch::InputGrad(_) => "matmul.wgsl",
            StepDispatch::Loss => "loss.wgsl",
            StepDispatch::Update => "optim.wgsl",
            StepDispatch::ActivationStats(_) => "unit_stats.wgsl",
        }
    }
}

/// The forward pass and loss of a network of `layers` layers on a gathered batch (also how a
/// held-out split is evaluated).
pub fn forward_pass(layers: usize) -> Vec<StepDispatch> {
    std::iter::once(StepDispatch::Gather)
        .chain((0..layers).map(StepDispatch::Forward))
        .chain([StepDispatch::Loss])
        .collect()
}

/// A whole training step: the forward pass and loss, each hidden layer's activation
/// statistics, the backward pass from the last layer down (the first layer's input gradient
/// is not needed), and the optimizer update.
pub fn training_step(layers: usize) -> Vec<StepDispatch> {
    let mut step = forward_pass(layers);
    step.extend((0..layers.saturating_sub(1)).map(StepDispatch::ActivationStats));
    for l in (0..layers).rev() {
        step.push(StepDispatch::WeightGrad(l));
        if l > 0 {
            step.push(StepDispatch::InputGrad(l));
        }
    }
    step.push(StepDispatch::Update);
    step
}

//! The dispatches of one training step, in order, each with the CPU reference functions it
//! mirrors and the WGSL kernel that runs it: the one list the GPU backend records, `bench` and
//! the profiler time (by its names), `explain` prints beside each value, and the README's
//! kernel table is checked against.

use crate::nn::model::{ParamLayout, Product};
use crate::nn::optim::OptimizerKind;

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

/// The least work one dispatch of a step does: its floating-point operations, and the bytes of
/// memory it must move (every operand read once, every result written once). What the roofline
/// holds its time against; an estimate, not a count of the kernel's instructions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    pub flops: u64,
    pub bytes: u64,
}

impl Work {
    /// A bare product: its operands read once, its result written once.
    pub fn of_product(p: Product) -> Work {
        Work::product(p, 0, 0)
    }

    /// A product with an elementwise epilogue of `epilogue_flops`, reading `extra_reads` f32s
    /// besides its operands (a bias, an activation).
    fn product(p: Product, epilogue_flops: usize, extra_reads: usize) -> Work {
        Work {
            flops: p.flops() + epilogue_flops as u64,
            bytes: 4 * (p.m * p.k + p.k * p.n + p.m * p.n + extra_reads) as u64,
        }
    }
}

impl std::ops::Add for Work {
    type Output = Work;
    fn add(self, other: Work) -> Work {
        Work {
            flops: self.flops + other.flops,
            bytes: self.bytes + other.bytes,
        }
    }
}

impl StepDispatch {
    /// The least work of this dispatch in a step of `batch` rows through `layout`, the inputs
    /// stored as `input_bytes` bytes a feature (1 for images), updated by `optimizer`.
    pub fn work(self, layout: &ParamLayout, batch: usize, input_bytes: usize, optimizer: OptimizerKind) -> Work {
        let layers = &layout.layers;
        let classes = layers[layers.len() - 1].fan_out;
        let f32s = |n: usize| 4 * n as u64;
        match self {
            StepDispatch::Gather => {
                let values = batch * layers[0].fan_in;
                Work {
                    flops: 2 * values as u64,
                    bytes: (input_bytes * values) as u64 + f32s(values),
                }
            }
            StepDispatch::Forward(l) => {
                let out = batch * layers[l].fan_out;
                Work::product(layers[l].forward_product(batch), 2 * out, layers[l].fan_out)
            }
            // Softmax, the loss and its gradient: about five operations a logit.
            StepDispatch::Loss => Work {
                flops: 5 * (batch * classes) as u64,
                bytes: f32s(2 * batch * classes),
            },
            StepDispatch::WeightGrad(l) => {
                let grads = batch * layers[l].fan_out;
                Work::product(layers[l].weight_grad_product(batch), grads, layers[l].fan_out)
            }
            StepDispatch::InputGrad(l) => {
                let values = batch * layers[l].fan_in;
                Work::product(layers[l].input_grad_product(batch), 2 * values, values)
            }
            StepDispatch::ActivationStats(l) => {
                let values = batch * layers[l].fan_out;
                Work {
                    flops: 3 * values as u64,
                    bytes: f32s(values + 3 * layers[l].fan_out),
                }
            }
            // Each parameter, its gradient and its state read, the parameter and state written.
            StepDispatch::Update => {
                let state = optimizer.state_per_param();
                let per_param = match optimizer {
                    OptimizerKind::Sgd => 2,
                    OptimizerKind::Momentum => 4,
                    OptimizerKind::Adam | OptimizerKind::Adamw => 12,
                };
                Work {
                    flops: (per_param * layout.len) as u64,
                    bytes: f32s((3 + 2 * state) * layout.len),
                }
            }
        }
    }
}

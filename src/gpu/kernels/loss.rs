//! `shaders/loss.wgsl`: the loss (softmax cross-entropy from logits or from probabilities, or
//! binary cross-entropy with logits), its gradient, and the step's summed loss and correct count,
//! in one single-workgroup dispatch.

use super::{step_binding, Binding, Kernel, Launch, Region};
use crate::gpu::context::GpuContext;
use crate::nn::model::Loss;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct LossParams {
    units: u32,
    batch: u32,
    loss: u32,
    _pad: u32,
}

/// One entry of the metrics buffer, as the kernel writes it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct StepMetric {
    pub loss_sum: f32,
    pub correct: u32,
}

/// The buffers of one loss dispatch.
pub struct LossOperands<'a> {
    pub steps: &'a wgpu::Buffer,
    pub logits: Region<'a>,
    pub labels: &'a wgpu::Buffer,
    pub dlogits: Region<'a>,
    pub metrics: &'a wgpu::Buffer,
    /// The training order and each training sample's weight, read on weighted steps only.
    pub order: Region<'a>,
    pub weights: Region<'a>,
    pub loss: Loss,
    /// Output units per row.
    pub units: usize,
    pub batch: usize,
}

pub struct LossBinding {
    group: wgpu::BindGroup,
}

impl LossBinding {
    pub fn launch(&self) -> Launch {
        Launch {
            kernel: "loss",
            workgroups: 1,
            k_per_workgroup: None,
        }
    }
}

pub(super) fn host_layouts() -> Vec<super::HostLayout> {
    vec![
        host_layout!("loss.wgsl", LossParams { units, batch, loss }),
        host_layout!("loss.wgsl", StepMetric { loss_sum, correct }),
    ]
}

/// `loss.wgsl`'s bindings.
pub const BINDINGS: &[Binding] = &[
    Binding::STEP,
    Binding::uniform("params"),
    Binding::read("logits"),
    Binding::read("labels"),
    Binding::read_write("dlogits"),
    Binding::read_write("metrics"),
    Binding::read("order"),
    Binding::read("weights"),
];

pub struct LossGrad {
    kernel: Kernel,
}

impl LossGrad {
    pub fn new(ctx: &GpuContext) -> Self {
        let kernel = Kernel::guarded(ctx, "loss", shader_source!("loss"), BINDINGS, &[]);
        LossGrad { kernel }
    }

    pub fn bind(&self, ctx: &GpuContext, op: &LossOperands<'_>) -> LossBinding {
        // The shader is compiled without runtime checks: these sizes are its bounds argument.
        let size = op.batch * op.units;
        assert!(
            op.units >= 1
                && op.logits.len >= size
                && op.dlogits.len >= size
                && op.labels.size() >= (op.batch * 4) as u64,
            "loss: a region is smaller than {} rows of {} units",
            op.batch,
            op.units
        );
        let params = LossParams {
            units: op.units as u32,
            batch: op.batch as u32,
            loss: op.loss.code(),
            _pad: 0,
        };
        let uniform = ctx.uniform_buffer("loss", &params);
        let group = self.kernel.bind(
            ctx,
            "loss",
            &[
                ("step", step_binding(op.steps)),
                ("params", uniform.as_entire_binding()),
                ("logits", op.logits.binding()),
                ("labels", op.labels.as_entire_binding()),
                ("dlogits", op.dlogits.binding()),
                ("metrics", op.metrics.as_entire_binding()),
                ("order", op.order.binding()),
                ("weights", op.weights.binding()),
            ],
        );
        LossBinding { group }
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &LossBinding, step_offset: u32) {
        self.kernel.dispatch(pass, &binding.group, &[step_offset], [1, 1, 1]);
    }
}

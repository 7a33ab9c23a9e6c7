//! `shaders/softmax_xent.wgsl`: softmax cross-entropy, its gradient (p − y)/rows and the step's
//! summed loss and correct count, in one single-workgroup dispatch.

use super::{step_binding, Kernel, Region, Slot};
use crate::gpu::context::GpuContext;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct XentParams {
    classes: u32,
    batch: u32,
    _pad: [u32; 2],
}

/// One entry of the metrics buffer, as the kernel writes it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct StepMetric {
    pub loss_sum: f32,
    pub correct: u32,
}

/// The buffers of one softmax-cross-entropy dispatch.
pub struct XentOperands<'a> {
    pub steps: &'a wgpu::Buffer,
    pub logits: Region<'a>,
    pub labels: &'a wgpu::Buffer,
    pub dlogits: Region<'a>,
    pub metrics: &'a wgpu::Buffer,
    pub classes: usize,
    pub batch: usize,
}

pub struct XentBinding {
    group: wgpu::BindGroup,
}

pub struct SoftmaxXent {
    kernel: Kernel,
}

impl SoftmaxXent {
    pub fn new(ctx: &GpuContext) -> Self {
        let ro = Slot::Storage { read_only: true };
        let rw = Slot::Storage { read_only: false };
        let kernel = Kernel::new(
            ctx,
            "softmax_xent",
            include_str!("../../../shaders/softmax_xent.wgsl"),
            &[Slot::Step, Slot::Uniform, ro, ro, rw, rw],
            &[],
        );
        SoftmaxXent { kernel }
    }

    pub fn bind(&self, ctx: &GpuContext, op: &XentOperands<'_>) -> XentBinding {
        let params = XentParams {
            classes: op.classes as u32,
            batch: op.batch as u32,
            _pad: [0; 2],
        };
        let uniform = ctx.uniform_buffer("softmax_xent", &params);
        let group = self.kernel.bind(
            ctx,
            "softmax_xent",
            &[
                step_binding(op.steps),
                uniform.as_entire_binding(),
                op.logits.binding(),
                op.labels.as_entire_binding(),
                op.dlogits.binding(),
                op.metrics.as_entire_binding(),
            ],
        );
        XentBinding { group }
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &XentBinding, step_offset: u32) {
        self.kernel.dispatch(pass, &binding.group, &[step_offset], (1, 1));
    }
}

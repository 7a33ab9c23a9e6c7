//! `shaders/sgd.wgsl`: p −= lr · g over the whole flat parameter buffer in one dispatch.

use super::{step_binding, Kernel, Region, Slot, LINEAR_WORKGROUP};
use crate::gpu::context::GpuContext;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SgdParams {
    len: u32,
    _pad: [u32; 3],
}

pub struct SgdBinding {
    group: wgpu::BindGroup,
    workgroups: u32,
}

pub struct Sgd {
    kernel: Kernel,
}

impl Sgd {
    pub fn new(ctx: &GpuContext) -> Self {
        let kernel = Kernel::new(
            ctx,
            "sgd",
            include_str!("../../../shaders/sgd.wgsl"),
            &[
                Slot::Step,
                Slot::Uniform,
                Slot::Storage { read_only: false },
                Slot::Storage { read_only: true },
            ],
            &[],
        );
        Sgd { kernel }
    }

    /// Updates `params` from `grads` (same length) with the learning rate of the step.
    pub fn bind(&self, ctx: &GpuContext, steps: &wgpu::Buffer, params: Region<'_>, grads: Region<'_>) -> SgdBinding {
        let len = params.len.min(grads.len);
        let uniform = ctx.uniform_buffer(
            "sgd",
            &SgdParams {
                len: len as u32,
                _pad: [0; 3],
            },
        );
        let group = self.kernel.bind(
            ctx,
            "sgd",
            &[
                step_binding(steps),
                uniform.as_entire_binding(),
                params.binding(),
                grads.binding(),
            ],
        );
        let max_groups = ctx.limits.max_compute_workgroups_per_dimension;
        SgdBinding {
            group,
            workgroups: (len as u32).div_ceil(LINEAR_WORKGROUP).clamp(1, max_groups),
        }
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &SgdBinding, step_offset: u32) {
        self.kernel
            .dispatch(pass, &binding.group, &[step_offset], (binding.workgroups, 1));
    }
}

//! `shaders/bias_grad.wgsl`: db[j] = Σ_r dz[r, j].

use super::{Kernel, Region, Slot, LINEAR_WORKGROUP};
use crate::gpu::context::GpuContext;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct BiasGradParams {
    rows: u32,
    cols: u32,
    _pad: [u32; 2],
}

pub struct BiasGradBinding {
    group: wgpu::BindGroup,
    workgroups: u32,
}

pub struct BiasGrad {
    kernel: Kernel,
}

impl BiasGrad {
    pub fn new(ctx: &GpuContext) -> Self {
        let kernel = Kernel::new(
            ctx,
            "bias_grad",
            include_str!("../../../shaders/bias_grad.wgsl"),
            &[
                Slot::Uniform,
                Slot::Storage { read_only: true },
                Slot::Storage { read_only: false },
            ],
            &[],
        );
        BiasGrad { kernel }
    }

    /// Sums the `rows × cols` matrix `dz` over its rows into `db` (`cols` long).
    pub fn bind(
        &self,
        ctx: &GpuContext,
        label: &str,
        dz: Region<'_>,
        db: Region<'_>,
        rows: usize,
        cols: usize,
    ) -> BiasGradBinding {
        let params = BiasGradParams {
            rows: rows as u32,
            cols: cols as u32,
            _pad: [0; 2],
        };
        let uniform = ctx.uniform_buffer(label, &params);
        let group = self
            .kernel
            .bind(ctx, label, &[uniform.as_entire_binding(), dz.binding(), db.binding()]);
        BiasGradBinding {
            group,
            workgroups: (cols as u32).div_ceil(LINEAR_WORKGROUP),
        }
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &BiasGradBinding) {
        self.kernel.dispatch(pass, &binding.group, &[], (binding.workgroups, 1));
    }
}

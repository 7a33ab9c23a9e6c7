//! The diagnostics' two kernels: `shaders/unit_stats.wgsl`, recorded in every training step
//! after the forward pass, adds each hidden unit's activation sums and fired flag to the epoch's
//! totals; `shaders/param_norms.wgsl`, dispatched once when the diagnostics are read, gives each
//! weight and bias its sums of squares (gradient, values, latest change).

use super::{step_binding, Binding, Kernel, Launch, Region};
use crate::gpu::context::GpuContext;

/// Threads per workgroup of `unit_stats.wgsl` (its `WORKGROUP` override).
const UNIT_WORKGROUP: u32 = 64;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct UnitStatsParams {
    width: u32,
    _pad: [u32; 3],
}

/// One hidden layer's activation statistics, bound once per run.
pub struct UnitStatsBinding {
    group: wgpu::BindGroup,
    workgroups: u32,
}

impl UnitStatsBinding {
    pub fn launch(&self) -> Launch {
        Launch {
            kernel: "unit stats",
            workgroups: self.workgroups,
            k_per_workgroup: None,
        }
    }
}

pub(super) fn host_layouts() -> Vec<super::HostLayout> {
    vec![host_layout!("unit_stats.wgsl", UnitStatsParams { width })]
}

/// `unit_stats.wgsl`'s bindings.
pub const UNIT_STATS_BINDINGS: &[Binding] = &[
    Binding::STEP,
    Binding::uniform("params"),
    Binding::read("acts"),
    Binding::read_write("stats"),
];

/// `param_norms.wgsl`'s bindings.
pub const PARAM_NORMS_BINDINGS: &[Binding] = &[
    Binding::read("segments"),
    Binding::read("grads"),
    Binding::read("weights"),
    Binding::read("before"),
    Binding::read_write("sums"),
];

pub struct UnitStats {
    kernel: Kernel,
}

impl UnitStats {
    pub fn new(ctx: &GpuContext) -> Self {
        let kernel = Kernel::new(
            ctx,
            "unit stats",
            shader_source!("unit_stats"),
            UNIT_STATS_BINDINGS,
            &[("WORKGROUP", f64::from(UNIT_WORKGROUP))],
        );
        UnitStats { kernel }
    }

    /// Accumulates the rows of `acts` (`[batch, width]`) into `stats` (3 × `width` values).
    pub fn bind(
        &self,
        ctx: &GpuContext,
        steps: &wgpu::Buffer,
        acts: Region<'_>,
        width: usize,
        stats: Region<'_>,
    ) -> UnitStatsBinding {
        let uniform = ctx.uniform_buffer(
            "unit stats",
            &UnitStatsParams {
                width: width as u32,
                _pad: [0; 3],
            },
        );
        let group = self.kernel.bind(
            ctx,
            "unit stats",
            &[
                ("step", step_binding(steps)),
                ("params", uniform.as_entire_binding()),
                ("acts", acts.binding()),
                ("stats", stats.binding()),
            ],
        );
        UnitStatsBinding {
            group,
            workgroups: (width as u32).div_ceil(UNIT_WORKGROUP),
        }
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &UnitStatsBinding, step_offset: u32) {
        self.kernel
            .dispatch(pass, &binding.group, &[step_offset], [binding.workgroups, 1, 1]);
    }
}

/// The buffers of the parameter-norm reduction.
pub struct ParamNormsOperands<'a> {
    /// `(first element, length)` of each tensor to reduce, as `u32` pairs.
    pub segments: &'a wgpu::Buffer,
    pub segment_count: usize,
    pub grads: Region<'a>,
    pub params: Region<'a>,
    /// The parameters before the latest step.
    pub before: Region<'a>,
    /// 3 sums per segment.
    pub sums: Region<'a>,
}

pub struct ParamNormsBinding {
    group: wgpu::BindGroup,
    workgroups: u32,
}

pub struct ParamNorms {
    kernel: Kernel,
}

impl ParamNorms {
    pub fn new(ctx: &GpuContext) -> Self {
        let kernel = Kernel::new(
            ctx,
            "param norms",
            shader_source!("param_norms"),
            PARAM_NORMS_BINDINGS,
            &[],
        );
        ParamNorms { kernel }
    }

    pub fn bind(&self, ctx: &GpuContext, op: &ParamNormsOperands<'_>) -> ParamNormsBinding {
        let group = self.kernel.bind(
            ctx,
            "param norms",
            &[
                ("segments", op.segments.as_entire_binding()),
                ("grads", op.grads.binding()),
                ("weights", op.params.binding()),
                ("before", op.before.binding()),
                ("sums", op.sums.binding()),
            ],
        );
        ParamNormsBinding {
            group,
            workgroups: op.segment_count as u32,
        }
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &ParamNormsBinding) {
        self.kernel
            .dispatch(pass, &binding.group, &[], [binding.workgroups, 1, 1]);
    }
}

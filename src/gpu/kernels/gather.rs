//! `shaders/gather.wgsl`: builds a step's input batch on the GPU from the resident dataset and
//! the shuffled order, converting u8 pixels (or f32 features) to normalized f32.

use super::{step_binding, Kernel, Slot, LINEAR_WORKGROUP};
use crate::data::{Dataset, Features};
use crate::error::Result;
use crate::gpu::context::GpuContext;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GatherParams {
    dim: u32,
    batch: u32,
    scale: f32,
    shift: f32,
}

/// A dataset split uploaded once: features in their stored type, labels as u32.
pub struct ResidentDataset {
    pub features: wgpu::Buffer,
    pub labels: wgpu::Buffer,
    pub byte_features: bool,
    pub dim: usize,
    pub len: usize,
    pub scale: f32,
    pub shift: f32,
}

impl ResidentDataset {
    pub fn upload(ctx: &GpuContext, label: &str, data: &Dataset) -> Result<Self> {
        let (features, byte_features) = match &data.features {
            Features::U8(v) => (ctx.storage_buffer_init(&format!("{label} features"), v)?, true),
            Features::F32(v) => (
                ctx.storage_buffer_init(&format!("{label} features"), bytemuck::cast_slice(v))?,
                false,
            ),
        };
        let labels = ctx.storage_buffer_init(&format!("{label} labels"), bytemuck::cast_slice(&data.labels))?;
        Ok(ResidentDataset {
            features,
            labels,
            byte_features,
            dim: data.dim,
            len: data.len(),
            scale: data.transform.scale,
            shift: data.transform.shift,
        })
    }
}

/// The buffers one gather reads and writes.
pub struct GatherOperands<'a> {
    pub data: &'a ResidentDataset,
    pub order: &'a wgpu::Buffer,
    pub steps: &'a wgpu::Buffer,
    /// `[batch, dim]` f32 output.
    pub x: &'a wgpu::Buffer,
    /// `[batch]` u32 output.
    pub labels: &'a wgpu::Buffer,
    pub batch: usize,
}

pub struct GatherBinding {
    group: wgpu::BindGroup,
    byte_features: bool,
    workgroups: (u32, u32),
}

/// One shader, specialized by the `BYTE_FEATURES` override into two pipelines.
pub struct Gather {
    bytes: Kernel,
    floats: Kernel,
}

impl Gather {
    pub fn new(ctx: &GpuContext) -> Self {
        let ro = Slot::Storage { read_only: true };
        let rw = Slot::Storage { read_only: false };
        let slots = [Slot::Step, Slot::Uniform, ro, ro, ro, rw, rw];
        let source = shader_source!("gather");
        Gather {
            bytes: Kernel::new(ctx, "gather u8", source, &slots, &[("BYTE_FEATURES", 1.0)]),
            floats: Kernel::new(ctx, "gather f32", source, &slots, &[("BYTE_FEATURES", 0.0)]),
        }
    }

    fn kernel(&self, byte_features: bool) -> &Kernel {
        if byte_features {
            &self.bytes
        } else {
            &self.floats
        }
    }

    pub fn bind(&self, ctx: &GpuContext, op: &GatherOperands<'_>) -> GatherBinding {
        let params = GatherParams {
            dim: op.data.dim as u32,
            batch: op.batch as u32,
            scale: op.data.scale,
            shift: op.data.shift,
        };
        let uniform = ctx.uniform_buffer("gather", &params);
        let group = self.kernel(op.data.byte_features).bind(
            ctx,
            "gather",
            &[
                step_binding(op.steps),
                uniform.as_entire_binding(),
                op.data.features.as_entire_binding(),
                op.data.labels.as_entire_binding(),
                op.order.as_entire_binding(),
                op.x.as_entire_binding(),
                op.labels.as_entire_binding(),
            ],
        );
        GatherBinding {
            group,
            byte_features: op.data.byte_features,
            workgroups: ((op.data.dim as u32).div_ceil(LINEAR_WORKGROUP), op.batch as u32),
        }
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &GatherBinding, step_offset: u32) {
        self.kernel(binding.byte_features)
            .dispatch(pass, &binding.group, &[step_offset], binding.workgroups);
    }
}

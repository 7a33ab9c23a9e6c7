//! One small struct per WGSL kernel: its pipeline, its bind-group layout, a typed `bind` that
//! builds the bind group once per run, and a `dispatch` that records it into a compute pass.

/// A kernel's WGSL: `shaders/step.wgsl` (the shared step-table struct) followed by
/// `shaders/<name>.wgsl`.
macro_rules! shader_source {
    ($name:literal) => {
        concat!(
            include_str!("../../../shaders/step.wgsl"),
            include_str!(concat!("../../../shaders/", $name, ".wgsl"))
        )
    };
}

pub mod gather;
pub mod loss;
pub mod matmul;
pub mod optim;

pub use gather::Gather;
pub use loss::LossGrad;
pub use matmul::{Epilogue, Matmul};
pub use optim::Optim;

use std::num::NonZeroU64;

use super::context::GpuContext;

/// Per-step values the host writes once per submit into an array of `STEP_STRIDE`-spaced
/// entries; each step's kernels read theirs through a dynamic uniform offset, so nothing is
/// written between the steps recorded in one command buffer.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct StepInfo {
    /// Offset of the step's first sample index in the order buffer.
    pub first: u32,
    /// Samples in the step (the last batch of an epoch may be short).
    pub rows: u32,
    /// Index of the step's entry in the metrics buffer.
    pub slot: u32,
    pub lr: f32,
    /// Adam's bias corrections 1 − β1ᵗ, 1 − β2ᵗ.
    pub bias_correction1: f32,
    pub bias_correction2: f32,
    /// The run's seed (folded to 32 bits) and the global training step (1-based): the dropout
    /// masks' counters.
    pub seed: u32,
    pub index: u32,
    /// Dropout probability after hidden layers (0 when evaluating).
    pub dropout: f32,
    pub _pad: [u32; 3],
}

/// Lays `infos` out at `STEP_STRIDE` spacing, as the step buffer holds them.
pub fn encode_step_table(infos: &[StepInfo]) -> Vec<u8> {
    let mut table = vec![0u8; infos.len() * STEP_STRIDE as usize];
    for (entry, info) in table.chunks_exact_mut(STEP_STRIDE as usize).zip(infos) {
        entry[..std::mem::size_of::<StepInfo>()].copy_from_slice(bytemuck::bytes_of(info));
    }
    table
}

/// Spacing of `StepInfo` entries: the largest `min_uniform_buffer_offset_alignment` wgpu allows.
pub const STEP_STRIDE: u64 = 256;

/// Workgroup size of the 1-D kernels (gather, loss, optim); matches the WGSL.
pub const LINEAR_WORKGROUP: u32 = 256;

/// What a binding slot of a kernel holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slot {
    Uniform,
    /// The `StepInfo` array, bound with a dynamic offset.
    Step,
    Storage {
        read_only: bool,
    },
}

/// A compiled compute pipeline with its explicit bind-group layout.
pub(crate) struct Kernel {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

impl Kernel {
    pub fn new(ctx: &GpuContext, label: &str, source: &str, slots: &[Slot], constants: &[(&str, f64)]) -> Self {
        let entries: Vec<wgpu::BindGroupLayoutEntry> = slots
            .iter()
            .enumerate()
            .map(|(i, slot)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match slot {
                        Slot::Uniform | Slot::Step => wgpu::BufferBindingType::Uniform,
                        Slot::Storage { read_only } => wgpu::BufferBindingType::Storage { read_only: *read_only },
                    },
                    has_dynamic_offset: matches!(slot, Slot::Step),
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let layout = ctx.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries: &entries,
        });
        let module = ctx.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let pipeline_layout = ctx.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = ctx.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                ..Default::default()
            },
            cache: None,
        });
        Kernel { pipeline, layout }
    }

    /// A bind group whose entries are `resources`, in binding order.
    pub fn bind(&self, ctx: &GpuContext, label: &str, resources: &[wgpu::BindingResource<'_>]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = resources
            .iter()
            .enumerate()
            .map(|(i, r)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: r.clone(),
            })
            .collect();
        ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &self.layout,
            entries: &entries,
        })
    }

    /// Records one dispatch of this kernel.
    pub fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        group: &wgpu::BindGroup,
        offsets: &[u32],
        workgroups: (u32, u32),
    ) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, group, offsets);
        pass.dispatch_workgroups(workgroups.0, workgroups.1, 1);
    }
}

/// `len` f32 elements of `buffer` starting at element `offset`: a tensor inside a flat buffer.
#[derive(Debug, Clone, Copy)]
pub struct Region<'a> {
    pub buffer: &'a wgpu::Buffer,
    pub offset: usize,
    pub len: usize,
}

impl<'a> Region<'a> {
    /// The whole buffer.
    pub fn all(buffer: &'a wgpu::Buffer) -> Self {
        Region {
            buffer,
            offset: 0,
            len: (buffer.size() / 4) as usize,
        }
    }

    pub fn binding(&self) -> wgpu::BindingResource<'a> {
        self.binding_of_len(self.len.max(1))
    }

    /// The region viewed as `array<vec4<f32>>`: its length rounded up to whole vec4s. Buffers are
    /// allocated in whole 16-byte units and tensors start 256-byte aligned, so the rounded view
    /// stays inside the buffer.
    pub fn binding_vec4(&self) -> wgpu::BindingResource<'a> {
        self.binding_of_len(self.len.max(1).next_multiple_of(4))
    }

    fn binding_of_len(&self, len: usize) -> wgpu::BindingResource<'a> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: self.buffer,
            offset: (self.offset * 4) as u64,
            size: NonZeroU64::new((len * 4) as u64),
        })
    }
}

/// The `StepInfo` binding: one entry, placed by the dynamic offset at dispatch.
pub fn step_binding(steps: &wgpu::Buffer) -> wgpu::BindingResource<'_> {
    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer: steps,
        offset: 0,
        size: NonZeroU64::new(std::mem::size_of::<StepInfo>() as u64),
    })
}

/// Dynamic offset of step `index`'s `StepInfo`.
pub fn step_offset(index: usize) -> u32 {
    (index as u64 * STEP_STRIDE) as u32
}

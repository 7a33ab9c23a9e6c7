//! `shaders/gather.wgsl`: builds a step's input batch on the GPU from the resident dataset and
//! the shuffled order, converting u8 pixels (or f32 features) to normalized f32.

use super::{step_binding, Binding, Kernel, Launch, LINEAR_WORKGROUP};
use crate::data::{Dataset, Features};
use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GatherParams {
    dim: u32,
    batch: u32,
    scale: f32,
    shift: f32,
    samples_per_chunk: u32,
    _pad: [u32; 3],
}

/// Chunks the gather kernel can bind (`chunk0..chunk3` in the WGSL).
pub const MAX_CHUNKS: usize = 4;

/// A dataset split uploaded once: features in their stored type (in chunks that each fit one
/// storage binding), labels as u32.
pub struct ResidentDataset {
    pub chunks: Vec<wgpu::Buffer>,
    pub samples_per_chunk: usize,
    pub labels: wgpu::Buffer,
    pub byte_features: bool,
    pub dim: usize,
    pub len: usize,
    pub scale: f32,
    pub shift: f32,
}

impl ResidentDataset {
    pub fn upload(ctx: &GpuContext, label: &str, data: &Dataset) -> Result<Self> {
        let max_binding = ctx
            .limits
            .max_storage_buffer_binding_size
            .min(ctx.limits.max_buffer_size);
        ResidentDataset::upload_in_chunks(ctx, label, data, max_binding)
    }

    /// [`ResidentDataset::upload`] with chunks of at most `max_chunk_bytes` (tests use small ones).
    pub fn upload_in_chunks(ctx: &GpuContext, label: &str, data: &Dataset, max_chunk_bytes: u64) -> Result<Self> {
        let (bytes, byte_features): (&[u8], bool) = match &data.features {
            Features::U8(v) => (v, true),
            Features::F32(v) => (bytemuck::cast_slice(v), false),
        };
        let sample_bytes = (bytes.len() / data.len().max(1)).max(1) as u64;
        // Whole samples per chunk, a multiple of 4 so every chunk starts on a u32 word.
        let samples_per_chunk = ((max_chunk_bytes / sample_bytes) as usize / 4 * 4).max(4);
        let chunk_bytes = samples_per_chunk * sample_bytes as usize;
        let chunks = bytes.chunks(chunk_bytes.max(1)).collect::<Vec<_>>();
        if chunks.len() > MAX_CHUNKS || sample_bytes * 4 > max_chunk_bytes {
            return Err(Error::DeviceLimit(format!(
                "the {label} split has {} bytes of features; the GPU binds {max_chunk_bytes} bytes at a time and \
                 the gather kernel takes at most {MAX_CHUNKS} chunks",
                bytes.len()
            )));
        }
        let chunks = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| ctx.storage_buffer_init(&format!("{label} features {i}"), c))
            .collect::<Result<Vec<_>>>()?;
        let labels = ctx.storage_buffer_init(&format!("{label} labels"), bytemuck::cast_slice(&data.labels))?;
        Ok(ResidentDataset {
            chunks,
            samples_per_chunk,
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
/// `gather.wgsl`'s bindings: the dataset's labels and up to four chunks of its features.
pub(super) fn host_layouts() -> Vec<super::HostLayout> {
    vec![host_layout!(
        "gather.wgsl",
        GatherParams {
            dim,
            batch,
            scale,
            shift,
            samples_per_chunk,
        }
    )]
}

pub const BINDINGS: &[Binding] = &[
    Binding::STEP,
    Binding::uniform("params"),
    Binding::read("labels"),
    Binding::read("order"),
    Binding::read_write("x"),
    Binding::read_write("batch_labels"),
    Binding::read("chunk0"),
    Binding::read("chunk1"),
    Binding::read("chunk2"),
    Binding::read("chunk3"),
];

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
    workgroups: [u32; 3],
}

impl GatherBinding {
    pub fn launch(&self) -> Launch {
        Launch {
            kernel: "gather",
            workgroups: self.workgroups.iter().product(),
            k_per_workgroup: None,
        }
    }
}

/// One shader, specialized by the `BYTE_FEATURES` override into two pipelines.
pub struct Gather {
    bytes: Kernel,
    floats: Kernel,
    /// Bound in place of chunks a dataset does not have.
    no_chunk: wgpu::Buffer,
}

impl Gather {
    pub fn new(ctx: &GpuContext) -> Self {
        let source = shader_source!("gather");
        Gather {
            bytes: Kernel::new(ctx, "gather u8", source, BINDINGS, &[("BYTE_FEATURES", 1.0)]),
            floats: Kernel::new(ctx, "gather f32", source, BINDINGS, &[("BYTE_FEATURES", 0.0)]),
            no_chunk: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("gather no chunk"),
                size: 16,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            }),
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
            samples_per_chunk: op.data.samples_per_chunk as u32,
            _pad: [0; 3],
        };
        let chunk = |i: usize| op.data.chunks.get(i).unwrap_or(&self.no_chunk).as_entire_binding();
        let uniform = ctx.uniform_buffer("gather", &params);
        let group = self.kernel(op.data.byte_features).bind(
            ctx,
            "gather",
            &[
                ("step", step_binding(op.steps)),
                ("params", uniform.as_entire_binding()),
                ("labels", op.data.labels.as_entire_binding()),
                ("order", op.order.as_entire_binding()),
                ("x", op.x.as_entire_binding()),
                ("batch_labels", op.labels.as_entire_binding()),
                ("chunk0", chunk(0)),
                ("chunk1", chunk(1)),
                ("chunk2", chunk(2)),
                ("chunk3", chunk(3)),
            ],
        );
        GatherBinding {
            group,
            byte_features: op.data.byte_features,
            // Four features per invocation.
            workgroups: [(op.data.dim as u32).div_ceil(4 * LINEAR_WORKGROUP), op.batch as u32, 1],
        }
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &GatherBinding, step_offset: u32) {
        self.kernel(binding.byte_features)
            .dispatch(pass, &binding.group, &[step_offset], binding.workgroups);
    }
}

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

/// A struct's layout as the host writes it: `HostLayout` of `$ty` in `$shader`, its listed
/// fields (the WGSL's members; the host's padding left out) with their offsets.
macro_rules! host_layout {
    ($shader:literal, $ty:ident { $($field:ident),* $(,)? }) => {
        $crate::gpu::kernels::HostLayout {
            shader: $shader,
            name: stringify!($ty),
            members: vec![$((stringify!($field), std::mem::offset_of!($ty, $field))),*],
            size: std::mem::size_of::<$ty>(),
        }
    };
}

pub mod diagnostics;
pub mod gather;
pub mod loss;
pub mod matmul;
pub mod optim;
pub mod peak;

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
    /// 1 when the loss weights each row by its training sample's weight (a training step on
    /// weighted samples), else 0.
    pub weighted: u32,
    pub _pad: [u32; 2],
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

/// One dispatch a step records: its kernel, the workgroups it launches, and for a product how
/// much of the shared dimension k each workgroup walks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Launch {
    pub kernel: &'static str,
    pub workgroups: u32,
    pub k_per_workgroup: Option<usize>,
}

/// What a binding of a kernel holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Uniform,
    /// The `StepInfo` array, bound with a dynamic offset.
    Step,
    Storage {
        read_only: bool,
    },
}

/// One binding of a kernel: the name its WGSL gives the variable and what it holds. Its
/// `@binding` index is its place in the kernel's list; `tests/shaders_validate.rs` checks
/// each list against its WGSL (index, name, access), and `Kernel::bind` takes resources by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub name: &'static str,
    pub slot: Slot,
}

impl Binding {
    /// The step table entry (`var<uniform> step: Step`), at a dynamic offset.
    pub const STEP: Binding = Binding {
        name: "step",
        slot: Slot::Step,
    };

    pub const fn uniform(name: &'static str) -> Binding {
        Binding {
            name,
            slot: Slot::Uniform,
        }
    }

    pub const fn read(name: &'static str) -> Binding {
        Binding {
            name,
            slot: Slot::Storage { read_only: true },
        }
    }

    pub const fn read_write(name: &'static str) -> Binding {
        Binding {
            name,
            slot: Slot::Storage { read_only: false },
        }
    }
}

/// A struct the host and a shader share, as the host lays it out (see `host_layout!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLayout {
    pub shader: &'static str,
    pub name: &'static str,
    /// Each member the WGSL declares, with its byte offset in the host's struct.
    pub members: Vec<(&'static str, usize)>,
    pub size: usize,
}

/// Every struct the kernels share with their WGSL (the step table's `Step` included), for the
/// test that checks each member's offset and the size against the WGSL's.
pub fn host_layouts() -> Vec<HostLayout> {
    let step = host_layout!(
        "optim.wgsl",
        StepInfo {
            first,
            rows,
            slot,
            lr,
            bias_correction1,
            bias_correction2,
            seed,
            index,
            dropout,
            weighted,
        }
    );
    let mut layouts = vec![HostLayout { name: "Step", ..step }];
    layouts.extend(gather::host_layouts());
    layouts.extend(loss::host_layouts());
    layouts.extend(matmul::host_layouts());
    layouts.extend(optim::host_layouts());
    layouts.extend(diagnostics::host_layouts());
    layouts.extend(peak::host_layouts());
    layouts
}

/// Every code a WGSL `const` shares with a Rust enum: the shader, the constant's name, and the
/// value the host passes for it.
pub fn shared_codes() -> Vec<(&'static str, &'static str, u32)> {
    use crate::nn::model::{Activation, Loss};
    use crate::nn::optim::OptimizerKind;
    use matmul::EpilogueKind;
    vec![
        ("matmul.wgsl", "EPILOGUE_NONE", EpilogueKind::None as u32),
        ("matmul.wgsl", "EPILOGUE_BIAS", EpilogueKind::Bias as u32),
        ("matmul.wgsl", "EPILOGUE_BIAS_ACT", EpilogueKind::BiasAct as u32),
        ("matmul.wgsl", "EPILOGUE_ACT_GRAD", EpilogueKind::ActGrad as u32),
        ("matmul.wgsl", "ACT_RELU", Activation::Relu.code()),
        ("matmul.wgsl", "ACT_TANH", Activation::Tanh.code()),
        ("matmul.wgsl", "ACT_SIGMOID", Activation::Sigmoid.code()),
        ("loss.wgsl", "PROB_CE", Loss::SoftmaxProbCrossEntropy.code()),
        ("loss.wgsl", "BINARY_CE", Loss::BinaryCrossEntropy.code()),
        ("loss.wgsl", "THREADS", LINEAR_WORKGROUP),
        ("optim.wgsl", "SGD", OptimizerKind::Sgd.code()),
        ("optim.wgsl", "MOMENTUM", OptimizerKind::Momentum.code()),
        ("optim.wgsl", "ADAMW", OptimizerKind::Adamw.code()),
    ]
}

/// Every kernel's WGSL file and bindings, for the test that holds one to the other.
pub fn interfaces() -> [(&'static str, &'static [Binding]); 7] {
    [
        ("gather.wgsl", gather::BINDINGS),
        ("loss.wgsl", loss::BINDINGS),
        ("matmul.wgsl", matmul::BINDINGS),
        ("optim.wgsl", optim::BINDINGS),
        ("unit_stats.wgsl", diagnostics::UNIT_STATS_BINDINGS),
        ("param_norms.wgsl", diagnostics::PARAM_NORMS_BINDINGS),
        ("peak.wgsl", peak::BINDINGS),
    ]
}

/// Whether wgpu adds its per-access bounds checks to a kernel's shader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuntimeChecks {
    /// wgpu clamps every buffer and array access.
    On,
    /// The kernel guards every index itself: its WGSL states the bounds argument, and
    /// `tests/canary.rs` checks guard values around each output stay untouched.
    GuardedByKernel,
}

/// What a kernel is compiled from: its WGSL, binding slots, override constants and checks.
pub(crate) struct KernelSource<'a> {
    pub label: &'a str,
    pub wgsl: &'a str,
    pub bindings: &'static [Binding],
    pub constants: &'a [(&'a str, f64)],
    pub checks: RuntimeChecks,
}

/// A compiled compute pipeline with its explicit bind-group layout.
pub(crate) struct Kernel {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
    pub bindings: &'static [Binding],
}

impl Kernel {
    /// The entry point `main` of `source`, with wgpu's runtime checks on.
    pub fn new(
        ctx: &GpuContext,
        label: &str,
        source: &str,
        bindings: &'static [Binding],
        constants: &[(&str, f64)],
    ) -> Self {
        Kernel::main(ctx, label, source, bindings, constants, RuntimeChecks::On)
    }

    /// The entry point `main` of a kernel that guards its own indices (`RuntimeChecks::GuardedByKernel`).
    pub fn guarded(
        ctx: &GpuContext,
        label: &str,
        source: &str,
        bindings: &'static [Binding],
        constants: &[(&str, f64)],
    ) -> Self {
        Kernel::main(ctx, label, source, bindings, constants, RuntimeChecks::GuardedByKernel)
    }

    fn main(
        ctx: &GpuContext,
        label: &str,
        wgsl: &str,
        bindings: &'static [Binding],
        constants: &[(&str, f64)],
        checks: RuntimeChecks,
    ) -> Self {
        let source = KernelSource {
            label,
            wgsl,
            bindings,
            constants,
            checks,
        };
        let [main] = Kernel::entry_points(ctx, &source, ["main"]);
        main
    }

    /// One pipeline per entry point of `source`, all with one bind-group layout, so one bind
    /// group serves each of them.
    pub fn entry_points<const N: usize>(ctx: &GpuContext, source: &KernelSource<'_>, entries: [&str; N]) -> [Self; N] {
        let label = source.label;
        let layout_entries: Vec<wgpu::BindGroupLayoutEntry> = source
            .bindings
            .iter()
            .enumerate()
            .map(|(i, Binding { slot, .. })| wgpu::BindGroupLayoutEntry {
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
            entries: &layout_entries,
        });
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.wgsl.into()),
        };
        let module = match source.checks {
            RuntimeChecks::On => ctx.device.create_shader_module(desc),
            // SAFETY: the kernel keeps every access in bounds and every loop finite (the
            // argument is in its WGSL; tests/canary.rs checks it on every adapter CI has).
            RuntimeChecks::GuardedByKernel => unsafe {
                ctx.device
                    .create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
            },
        };
        let pipeline_layout = ctx.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        entries.map(|entry| Kernel {
            pipeline: ctx.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&format!("{label} {entry}")),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: source.constants,
                    ..Default::default()
                },
                cache: None,
            }),
            layout: layout.clone(),
            bindings: source.bindings,
        })
    }

    /// A bind group of `resources`, each given by its binding's name. Every binding takes
    /// exactly one: a missing or unknown name is a bug in the kernel's Rust, caught by the
    /// kernel's parity test.
    pub fn bind(
        &self,
        ctx: &GpuContext,
        label: &str,
        resources: &[(&str, wgpu::BindingResource<'_>)],
    ) -> wgpu::BindGroup {
        assert_eq!(
            resources.len(),
            self.bindings.len(),
            "{label}: one resource per binding of {:?}",
            self.bindings.iter().map(|b| b.name).collect::<Vec<_>>()
        );
        let entries: Vec<wgpu::BindGroupEntry> = self
            .bindings
            .iter()
            .enumerate()
            .map(|(i, binding)| {
                let (_, resource) = resources
                    .iter()
                    .find(|(name, _)| *name == binding.name)
                    .unwrap_or_else(|| panic!("{label}: no resource for binding `{}`", binding.name));
                wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: resource.clone(),
                }
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
        [x, y, z]: [u32; 3],
    ) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, group, offsets);
        pass.dispatch_workgroups(x, y, z);
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

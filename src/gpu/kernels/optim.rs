//! `shaders/optim.wgsl`: one optimizer update (SGD, momentum, Adam, AdamW) over the whole flat
//! parameter buffer in one dispatch; the per-step rate and bias corrections come from the step table.

use super::{step_binding, Binding, Kernel, Launch, Region, LINEAR_WORKGROUP};
use crate::error::Result;
use crate::gpu::context::GpuContext;
use crate::nn::optim::Optimizer;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct OptimParams {
    len: u32,
    kind: u32,
    nesterov: u32,
    momentum: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
}

pub struct OptimBinding {
    group: wgpu::BindGroup,
    workgroups: u32,
    /// Optimizer state (velocity, or Adam's m then v), zero at the start: one slot of
    /// `slot_len(len)` values per array, its first `len` the parameters'.
    pub state: wgpu::Buffer,
    len: usize,
}

/// Values per state array in the buffer: `len` rounded up to whole vec4s, so Adam's v starts
/// on one.
fn slot_len(len: usize) -> usize {
    len.next_multiple_of(4)
}

impl OptimBinding {
    /// The state as the CPU backend and checkpoints hold it (each array `len` long, one after
    /// the other), from the buffer's contents.
    pub fn unpack_state(&self, buffer: &[f32]) -> Vec<f32> {
        buffer
            .chunks(slot_len(self.len))
            .flat_map(|slot| &slot[..self.len])
            .copied()
            .collect()
    }

    /// Where each array of a packed state (`len` values each) goes in the buffer, in bytes.
    pub fn state_slots<'s>(&self, state: &'s [f32]) -> impl Iterator<Item = (u64, &'s [f32])> + use<'s, '_> {
        state
            .chunks(self.len.max(1))
            .enumerate()
            .map(|(slot, values)| ((slot * slot_len(self.len) * 4) as u64, values))
    }

    pub fn launch(&self) -> Launch {
        Launch {
            kernel: "optimizer",
            workgroups: self.workgroups,
            k_per_workgroup: None,
        }
    }
}

pub(super) fn host_layouts() -> Vec<super::HostLayout> {
    vec![host_layout!(
        "optim.wgsl",
        OptimParams {
            len,
            kind,
            nesterov,
            momentum,
            beta1,
            beta2,
            eps,
            weight_decay,
        }
    )]
}

/// `optim.wgsl`'s bindings.
pub const BINDINGS: &[Binding] = &[
    Binding::STEP,
    Binding::uniform("params"),
    Binding::read_write("weights"),
    Binding::read("grads"),
    Binding::read_write("state"),
];

pub struct Optim {
    kernel: Kernel,
}

impl Optim {
    pub fn new(ctx: &GpuContext) -> Self {
        let kernel = Kernel::guarded(ctx, "optim", shader_source!("optim"), BINDINGS, &[]);
        Optim { kernel }
    }

    /// Updates `params` from `grads` (same length) with `opt`, allocating its state buffer.
    pub fn bind(
        &self,
        ctx: &GpuContext,
        steps: &wgpu::Buffer,
        opt: &Optimizer,
        params: Region<'_>,
        grads: Region<'_>,
    ) -> Result<OptimBinding> {
        let len = params.len.min(grads.len);
        let uniform = ctx.uniform_buffer(
            "optim",
            &OptimParams {
                len: len as u32,
                kind: opt.kind.code(),
                nesterov: u32::from(opt.nesterov),
                momentum: opt.momentum,
                beta1: opt.beta1,
                beta2: opt.beta2,
                eps: opt.eps,
                weight_decay: opt.weight_decay,
            },
        );
        let state = ctx.storage_buffer(
            "optimizer state",
            (slot_len(len) * opt.kind.state_per_param() * 4) as u64,
        )?;
        let group = self.kernel.bind(
            ctx,
            "optim",
            &[
                ("step", step_binding(steps)),
                ("params", uniform.as_entire_binding()),
                ("weights", params.binding_vec4()),
                ("grads", grads.binding_vec4()),
                ("state", state.as_entire_binding()),
            ],
        );
        let max_groups = ctx.limits.max_compute_workgroups_per_dimension;
        Ok(OptimBinding {
            group,
            workgroups: (len as u32).div_ceil(4 * LINEAR_WORKGROUP).clamp(1, max_groups),
            state,
            len,
        })
    }

    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &OptimBinding, step_offset: u32) {
        self.kernel
            .dispatch(pass, &binding.group, &[step_offset], [binding.workgroups, 1, 1]);
    }
}

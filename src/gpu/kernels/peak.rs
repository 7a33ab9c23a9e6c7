//! `shaders/peak.wgsl`: the device's fp32 FMA throughput and the bandwidth a kernel reaches,
//! measured by `gpu-mlp bench` (the roofline every product and step is held against).

use super::{Binding, Kernel, KernelSource, RuntimeChecks};
use crate::error::Result;
use crate::gpu::context::GpuContext;

/// Invocations per workgroup (`WORKGROUP` in the WGSL).
const WORKGROUP: u32 = 256;

/// Independent vec4 FMA chains per invocation of `fma_chains`.
const CHAINS: u64 = 8;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PeakParams {
    iters: u32,
    len: u32,
    _pad: [u32; 2],
}

pub(super) fn host_layouts() -> Vec<super::HostLayout> {
    vec![host_layout!("peak.wgsl", PeakParams { iters, len })]
}

/// `peak.wgsl`'s bindings.
pub const BINDINGS: &[Binding] = &[
    Binding::uniform("params"),
    Binding::read("src"),
    Binding::read_write("dst"),
];

/// The two kernels and the buffers one measurement uses: `len` vec4s in and out.
pub struct Peak {
    fma_chains: Kernel,
    copy: Kernel,
    group: wgpu::BindGroup,
    len: u32,
    iters: u32,
    _buffers: [wgpu::Buffer; 3],
}

impl Peak {
    /// FMA chains of `iters` steps on `len` invocations, and copies of `len` vec4s (a buffer of
    /// `16 · len` bytes each way).
    pub fn new(ctx: &GpuContext, len: u32, iters: u32) -> Result<Peak> {
        let source = KernelSource {
            label: "peak",
            wgsl: shader_source!("peak"),
            bindings: BINDINGS,
            constants: &[],
            checks: RuntimeChecks::On,
        };
        let [fma_chains, copy] = Kernel::entry_points(ctx, &source, ["fma_chains", "copy"]);
        let bytes = 16 * u64::from(len);
        let src = ctx.storage_buffer_init("peak src", bytemuck::cast_slice(&vec![0.5f32; 4 * len as usize]))?;
        let dst = ctx.storage_buffer("peak dst", bytes)?;
        let params = ctx.uniform_buffer(
            "peak",
            &PeakParams {
                iters,
                len,
                _pad: [0; 2],
            },
        );
        let group = fma_chains.bind(
            ctx,
            "peak",
            &[
                ("params", params.as_entire_binding()),
                ("src", src.as_entire_binding()),
                ("dst", dst.as_entire_binding()),
            ],
        );
        Ok(Peak {
            fma_chains,
            copy,
            group,
            len,
            iters,
            _buffers: [src, dst, params],
        })
    }

    /// Floating-point operations of one `fma_chains` dispatch (an FMA is two).
    pub fn fma_flops(&self) -> u64 {
        u64::from(self.len) * u64::from(self.iters) * CHAINS * 4 * 2
    }

    /// Bytes one `copy` dispatch reads and writes.
    pub fn copy_bytes(&self) -> u64 {
        2 * 16 * u64::from(self.len)
    }

    pub fn dispatch_fma(&self, pass: &mut wgpu::ComputePass<'_>) {
        self.fma_chains
            .dispatch(pass, &self.group, &[], [self.workgroups(), 1, 1]);
    }

    pub fn dispatch_copy(&self, pass: &mut wgpu::ComputePass<'_>) {
        self.copy.dispatch(pass, &self.group, &[], [self.workgroups(), 1, 1]);
    }

    fn workgroups(&self) -> u32 {
        self.len.div_ceil(WORKGROUP)
    }
}

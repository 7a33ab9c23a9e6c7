//! `shaders/matmul.wgsl`: C = A · B with either operand stored transposed and a fused epilogue.

use super::{step_binding, Kernel, Region, Slot, STEP_STRIDE};
use crate::cpu::ops::Stored;
use crate::gpu::context::GpuContext;
use crate::model::Activation;

/// Output tile of one workgroup; must match `TILE_M` / `TILE_N` in the WGSL (checked by a test).
pub const TILE_M: u32 = 64;
pub const TILE_N: u32 = 64;

/// What happens to each accumulated value before it is stored.
#[derive(Debug, Clone, Copy)]
pub enum Epilogue<'a> {
    None,
    /// `c = acc + bias[col]`.
    Bias(Region<'a>),
    /// `c = act(acc + bias[col])`: a dense layer with its activation.
    BiasAct(Region<'a>, Activation),
    /// `c = acc · act'(z)`, the backward pass through an activation whose output is given
    /// (`[rows, n]`): the derivative is computed from it.
    ActGrad(Region<'a>, Activation),
}

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    a_transposed: u32,
    b_transposed: u32,
    epilogue: u32,
    a_vec4: u32,
    b_vec4: u32,
    row_sums: u32,
    activation: u32,
    layer: u32,
    _pad: u32,
}

/// The operands of one product `c[m×n] = a[m×k] · b[k×n]`.
pub struct MatmulOperands<'a> {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a: Region<'a>,
    pub a_stored: Stored,
    pub b: Region<'a>,
    pub b_stored: Stored,
    pub c: Region<'a>,
    pub epilogue: Epilogue<'a>,
    /// Also write `Σ_k a[row, k]` for each row here (`m` long): the bias gradient when the
    /// product is the weight gradient `dZᵀ · X`.
    pub row_sums: Option<Region<'a>>,
    /// The step table, for dropout in the activation epilogues (`None`: no dropout), and the
    /// hidden layer whose output the mask covers.
    pub dropout: Option<(&'a wgpu::Buffer, u32)>,
}

/// One product with fixed operands and shape, ready to dispatch.
pub struct MatmulBinding {
    group: wgpu::BindGroup,
    workgroups: (u32, u32),
    /// Reads the step table (so the dispatch's step offset matters).
    steps: bool,
}

pub struct Matmul {
    kernel: Kernel,
    /// Bound where an epilogue needs no bias or mask.
    unused: wgpu::Buffer,
    /// Bound where no row sums are asked for (a separate buffer: it is bound writable).
    unused_sums: wgpu::Buffer,
    /// A zeroed step table entry (dropout 0), bound where no dropout is asked for.
    no_dropout: wgpu::Buffer,
}

impl Matmul {
    pub fn new(ctx: &GpuContext) -> Self {
        let ro = Slot::Storage { read_only: true };
        let rw = Slot::Storage { read_only: false };
        let kernel = Kernel::new(
            ctx,
            "matmul",
            shader_source!("matmul"),
            &[Slot::Uniform, ro, ro, rw, ro, ro, rw, ro, ro, Slot::Step],
            &[],
        );
        let unused = |label| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: 16,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        };
        Matmul {
            kernel,
            unused: unused("matmul unused operand"),
            unused_sums: unused("matmul unused row sums"),
            no_dropout: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("matmul no dropout"),
                size: STEP_STRIDE,
                usage: wgpu::BufferUsages::UNIFORM,
                mapped_at_creation: false,
            }),
        }
    }

    pub fn bind(&self, ctx: &GpuContext, label: &str, op: &MatmulOperands<'_>) -> MatmulBinding {
        assert!(
            op.a.len >= op.m * op.k
                && op.b.len >= op.k * op.n
                && op.c.len >= op.m * op.n
                && op.row_sums.is_none_or(|s| s.len >= op.m),
            "matmul `{label}`: a region is smaller than its {}×{}×{} shape",
            op.m,
            op.k,
            op.n
        );
        let unused = Region::all(&self.unused);
        let (code, bias, aux, activation) = match op.epilogue {
            Epilogue::None => (0, unused, unused, Activation::Relu),
            Epilogue::Bias(b) => (1, b, unused, Activation::Relu),
            Epilogue::BiasAct(b, act) => (2, b, unused, act),
            Epilogue::ActGrad(out, act) => (3, unused, out, act),
        };
        // vec4 staging runs along each operand's contiguous dimension; it needs that dimension
        // to be a multiple of 4 (regions start 256-byte aligned, so vec4s are aligned too).
        let contiguous = |stored, rows: usize, cols: usize| if stored == Stored::AsIs { cols } else { rows };
        let params = MatmulParams {
            m: op.m as u32,
            n: op.n as u32,
            k: op.k as u32,
            a_transposed: u32::from(op.a_stored == Stored::Transposed),
            b_transposed: u32::from(op.b_stored == Stored::Transposed),
            epilogue: code,
            a_vec4: u32::from(contiguous(op.a_stored, op.m, op.k) % 4 == 0),
            b_vec4: u32::from(contiguous(op.b_stored, op.k, op.n) % 4 == 0),
            row_sums: u32::from(op.row_sums.is_some()),
            activation: activation.code(),
            layer: op.dropout.map_or(0, |(_, layer)| layer),
            _pad: 0,
        };
        let sums = op.row_sums.unwrap_or(Region::all(&self.unused_sums));
        let uniform = ctx.uniform_buffer(label, &params);
        let group = self.kernel.bind(
            ctx,
            label,
            &[
                uniform.as_entire_binding(),
                op.a.binding(),
                op.b.binding(),
                op.c.binding(),
                bias.binding(),
                aux.binding(),
                sums.binding(),
                op.a.binding_vec4(),
                op.b.binding_vec4(),
                step_binding(op.dropout.map_or(&self.no_dropout, |(steps, _)| steps)),
            ],
        );
        MatmulBinding {
            group,
            workgroups: ((op.n as u32).div_ceil(TILE_N), (op.m as u32).div_ceil(TILE_M)),
            steps: op.dropout.is_some(),
        }
    }

    /// Records the product for the step at `step_offset` (ignored without dropout).
    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &MatmulBinding, step_offset: u32) {
        let offset = if binding.steps { step_offset } else { 0 };
        self.kernel
            .dispatch(pass, &binding.group, &[offset], binding.workgroups);
    }
}

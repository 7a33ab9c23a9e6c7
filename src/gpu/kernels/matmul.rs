//! `shaders/matmul.wgsl`: C = A · B with either operand stored transposed and a fused epilogue.

use super::{step_binding, Kernel, Region, Slot, STEP_STRIDE};
use crate::model::Stored;
use crate::gpu::context::GpuContext;
use crate::model::Activation;

/// A workgroup's shape. Each invocation computes a 4×4 block of C, so `wg_x × wg_y` invocations
/// cover a `4·wg_y × 4·wg_x` tile, staging `tile_k` of the shared dimension at a time. Set
/// through the WGSL's overrides: one pipeline per shape, one shader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileShape {
    /// 64×64 tiles of 16×16 invocations: every product with both m and n above 32.
    Square,
    /// 128×32 tiles for n ≤ 32, such as a 10-class output layer's forward product (batch × 10),
    /// where a square tile would leave 54 of its 64 columns idle (22 of 32 here).
    NarrowN,
    /// 32×128 tiles for m ≤ 32: the output layer's weight gradient (10 × hidden).
    NarrowM,
}

/// Invocations along n and m, and the staged depth of k.
#[derive(Debug, Clone, Copy)]
pub struct TileDims {
    pub wg_x: u32,
    pub wg_y: u32,
    pub tile_k: u32,
}

impl TileDims {
    pub fn tile_m(self) -> u32 {
        4 * self.wg_y
    }

    pub fn tile_n(self) -> u32 {
        4 * self.wg_x
    }
}

impl TileShape {
    pub const ALL: [TileShape; 3] = [TileShape::Square, TileShape::NarrowN, TileShape::NarrowM];

    /// The shape for a product with an `m × n` result.
    pub fn for_product(m: usize, n: usize) -> TileShape {
        if n <= 32 {
            TileShape::NarrowN
        } else if m <= 32 {
            TileShape::NarrowM
        } else {
            TileShape::Square
        }
    }

    pub fn dims(self) -> TileDims {
        // All 256 invocations, and at least 8 along n: a row of invocations reads the same A
        // value from workgroup memory (a broadcast), and narrower rows measured slower.
        let (wg_x, wg_y, tile_k) = match self {
            TileShape::Square => (16, 16, 32),
            TileShape::NarrowN => (8, 32, 16),
            TileShape::NarrowM => (32, 8, 16),
        };
        TileDims { wg_x, wg_y, tile_k }
    }
}

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
    shape: TileShape,
    workgroups: (u32, u32),
    /// Reads the step table (so the dispatch's step offset matters).
    steps: bool,
}

pub struct Matmul {
    /// One pipeline per tile shape, in `TileShape::ALL`'s order.
    kernels: [Kernel; 3],
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
        let kernels = TileShape::ALL.map(|shape| {
            let dims = shape.dims();
            Kernel::new(
                ctx,
                &format!("matmul {shape:?}"),
                shader_source!("matmul"),
                &[Slot::Uniform, ro, ro, rw, ro, ro, rw, ro, ro, Slot::Step],
                &[
                    ("WG_X", f64::from(dims.wg_x)),
                    ("WG_Y", f64::from(dims.wg_y)),
                    ("TILE_K", f64::from(dims.tile_k)),
                ],
            )
        });
        let unused = |label| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: 16,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        };
        Matmul {
            kernels,
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
        let shape = TileShape::for_product(op.m, op.n);
        let group = self.kernels[shape as usize].bind(
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
            shape,
            workgroups: (
                (op.n as u32).div_ceil(shape.dims().tile_n()),
                (op.m as u32).div_ceil(shape.dims().tile_m()),
            ),
            steps: op.dropout.is_some(),
        }
    }

    /// Records the product for the step at `step_offset` (ignored without dropout).
    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &MatmulBinding, step_offset: u32) {
        let offset = if binding.steps { step_offset } else { 0 };
        self.kernels[binding.shape as usize].dispatch(pass, &binding.group, &[offset], binding.workgroups);
    }
}

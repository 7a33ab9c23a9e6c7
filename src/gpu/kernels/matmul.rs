//! `shaders/matmul.wgsl`: C = A · B with either operand stored transposed and a fused epilogue.

use super::{step_binding, Binding, Kernel, KernelSource, Launch, Region, RuntimeChecks, STEP_STRIDE};
use crate::error::Result;
use crate::gpu::context::GpuContext;
pub use crate::gpu::tiles::{ProductPlan, TileDims, TilePolicy, TileShape};
use crate::nn::model::{Activation, Stored};

/// An epilogue's code, as `matmul.wgsl`'s `EPILOGUE_*` constants number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpilogueKind {
    None = 0,
    Bias = 1,
    BiasAct = 2,
    ActGrad = 3,
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
    k_slice: u32,
    slices: u32,
    _pad: [u32; 3],
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
    /// Tile shape and split of k (`TilePolicy::plan`, or any split a test wants).
    pub plan: ProductPlan,
    /// Where a split plan keeps its partial results (`ProductPlan::partials_len` long);
    /// `None`: the binding allocates its own.
    pub partials: Option<Region<'a>>,
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
    plan: ProductPlan,
    /// Workgroups of the product (along n, m, slices) and of the split's reduction.
    workgroups: [u32; 3],
    reduce_workgroups: [u32; 3],
    /// Reads the step table (so the dispatch's step offset matters).
    steps: bool,
    _partials: Option<wgpu::Buffer>,
}

impl MatmulBinding {
    /// The dispatches this product records: the product, then (split k) the reduction.
    pub fn launches(&self) -> Vec<Launch> {
        let product = Launch {
            kernel: "matmul",
            workgroups: self.workgroups.iter().product(),
            k_per_workgroup: Some(self.plan.k_slice),
        };
        let reduce = Launch {
            kernel: "matmul reduce",
            workgroups: self.reduce_workgroups.iter().product(),
            k_per_workgroup: None,
        };
        match self.plan.slices {
            1 => vec![product],
            _ => vec![product, reduce],
        }
    }
}

/// A tile shape's two pipelines: the product and the split-k reduction.
struct ShapeKernels {
    product: Kernel,
    reduce: Kernel,
}

pub(super) fn host_layouts() -> Vec<super::HostLayout> {
    vec![host_layout!(
        "matmul.wgsl",
        MatmulParams {
            m,
            n,
            k,
            a_transposed,
            b_transposed,
            epilogue,
            a_vec4,
            b_vec4,
            row_sums,
            activation,
            layer,
            k_slice,
            slices,
        }
    )]
}

/// `matmul.wgsl`'s bindings: the parameters, A, B and C, the epilogue's operand, the row
/// sums, A and B again as vec4s, the step table (for dropout) and the split-k partials.
pub const BINDINGS: &[Binding] = &[
    Binding::uniform("p"),
    Binding::read("a"),
    Binding::read("b"),
    Binding::read_write("c"),
    Binding::read("operand"),
    Binding::read_write("sums"),
    Binding::read("a4"),
    Binding::read("b4"),
    Binding::STEP,
    Binding::read_write("partials"),
];

pub struct Matmul {
    /// One pair of pipelines per tile shape, in `TileShape::ALL`'s order.
    kernels: [ShapeKernels; 3],
    /// Bound where an epilogue needs no bias or mask.
    unused: wgpu::Buffer,
    /// Bound where no row sums are asked for, and where k is not split: buffers of their own,
    /// as both are bound writable and WebGPU forbids writable bindings that overlap.
    unused_sums: wgpu::Buffer,
    unused_partials: wgpu::Buffer,
    /// A zeroed step table entry (dropout 0), bound where no dropout is asked for.
    no_dropout: wgpu::Buffer,
}

impl Matmul {
    pub fn new(ctx: &GpuContext) -> Self {
        let kernels = TileShape::ALL.map(|shape| {
            let dims = shape.dims();
            assert!(dims.fits_workgroup_memory(), "{shape:?} overflows matmul.wgsl's tiles");
            let [product, reduce] = Kernel::entry_points(
                ctx,
                &KernelSource {
                    label: &format!("matmul {shape:?}"),
                    wgsl: shader_source!("matmul"),
                    bindings: BINDINGS,
                    constants: &[
                        ("WG_X", f64::from(dims.wg_x)),
                        ("WG_Y", f64::from(dims.wg_y)),
                        ("TILE_K", f64::from(dims.tile_k)),
                    ],
                    checks: RuntimeChecks::GuardedByKernel,
                },
                ["main", "reduce"],
            );
            ShapeKernels { product, reduce }
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
            unused_partials: unused("matmul unused partials"),
            no_dropout: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("matmul no dropout"),
                size: STEP_STRIDE,
                usage: wgpu::BufferUsages::UNIFORM,
                mapped_at_creation: false,
            }),
        }
    }

    /// Binds the product's operands once; a split plan also gets its partials buffer.
    pub fn bind(&self, ctx: &GpuContext, label: &str, op: &MatmulOperands<'_>) -> Result<MatmulBinding> {
        let unused = Region::all(&self.unused);
        let (m, k, n, plan) = (op.m, op.k, op.n, op.plan);
        // The epilogue's code, its operand and how much of it the shader reads.
        let (kind, operand, operand_len, activation) = match op.epilogue {
            Epilogue::None => (EpilogueKind::None, unused, 0, Activation::Relu),
            Epilogue::Bias(b) => (EpilogueKind::Bias, b, n, Activation::Relu),
            Epilogue::BiasAct(b, act) => (EpilogueKind::BiasAct, b, n, act),
            Epilogue::ActGrad(out, act) => (EpilogueKind::ActGrad, out, m * n, act),
        };
        // The shader is compiled without runtime checks: these sizes are its bounds argument.
        assert!(
            op.a.len >= m * k
                && op.b.len >= k * n
                && op.c.len >= m * n
                && op.row_sums.is_none_or(|s| s.len >= m)
                && operand.len >= operand_len,
            "matmul `{label}`: a region is smaller than its {m}×{k}×{n} shape"
        );
        assert!(
            plan.shape == TileShape::for_product(m, n) && plan.slices * plan.k_slice >= k && plan.slices >= 1,
            "matmul `{label}`: {plan:?} does not cover {m}×{k}×{n}"
        );
        let needed = plan.partials_len(m, n);
        assert!(
            op.partials.is_none_or(|p| p.len >= needed),
            "matmul `{label}`: partials smaller than {needed}"
        );
        let own_partials = match (needed, op.partials) {
            (0, _) | (_, Some(_)) => None,
            (len, None) => Some(ctx.storage_buffer(&format!("{label} partials"), (len * 4) as u64)?),
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
            epilogue: kind as u32,
            a_vec4: u32::from(contiguous(op.a_stored, op.m, op.k) % 4 == 0),
            b_vec4: u32::from(contiguous(op.b_stored, op.k, op.n) % 4 == 0),
            row_sums: u32::from(op.row_sums.is_some()),
            activation: activation.code(),
            layer: op.dropout.map_or(0, |(_, layer)| layer),
            k_slice: plan.k_slice as u32,
            slices: plan.slices as u32,
            _pad: [0; 3],
        };
        let sums = op.row_sums.unwrap_or(Region::all(&self.unused_sums));
        let uniform = ctx.uniform_buffer(label, &params);
        let group = self.kernels[plan.shape as usize].product.bind(
            ctx,
            label,
            &[
                ("p", uniform.as_entire_binding()),
                ("a", op.a.binding()),
                ("b", op.b.binding()),
                ("c", op.c.binding()),
                ("operand", operand.binding()),
                ("sums", sums.binding()),
                ("a4", op.a.binding_vec4()),
                ("b4", op.b.binding_vec4()),
                (
                    "step",
                    step_binding(op.dropout.map_or(&self.no_dropout, |(steps, _)| steps)),
                ),
                (
                    "partials",
                    op.partials
                        .or(own_partials.as_ref().map(Region::all))
                        .unwrap_or(Region::all(&self.unused_partials))
                        .binding(),
                ),
            ],
        );
        let (x, y) = plan.tiles(m, n);
        Ok(MatmulBinding {
            group,
            plan,
            workgroups: [x, y, plan.slices as u32],
            reduce_workgroups: reduce_grid(m * n, ctx.limits.max_compute_workgroups_per_dimension),
            steps: op.dropout.is_some(),
            _partials: own_partials,
        })
    }

    /// Records the product for the step at `step_offset` (ignored without dropout), and its
    /// reduction when k is split.
    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, binding: &MatmulBinding, step_offset: u32) {
        let offset = if binding.steps { step_offset } else { 0 };
        let kernels = &self.kernels[binding.plan.shape as usize];
        kernels
            .product
            .dispatch(pass, &binding.group, &[offset], binding.workgroups);
        if binding.plan.slices > 1 {
            kernels
                .reduce
                .dispatch(pass, &binding.group, &[offset], binding.reduce_workgroups);
        }
    }
}

/// Workgroups of `REDUCE_THREADS` invocations covering `elements`: rows of at most
/// `max_per_dimension` along x.
fn reduce_grid(elements: usize, max_per_dimension: u32) -> [u32; 3] {
    const REDUCE_THREADS: u32 = 256;
    let groups = (elements as u32).div_ceil(REDUCE_THREADS).max(1);
    let x = groups.min(max_per_dimension);
    [x, groups.div_ceil(x), 1]
}

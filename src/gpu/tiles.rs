//! How a product is cut into workgroups: the tile shapes `shaders/matmul.wgsl` is built with,
//! each product's plan (its shape and how k is split), and the policy that picks plans for an
//! adapter. Plain arithmetic, no GPU objects: the context holds a policy, the matmul kernel
//! launches plans.

/// A workgroup's shape. Each invocation computes an 8×8 block of C, so `wg_x × wg_y` invocations
/// cover an `8·wg_y × 8·wg_x` tile, staging `tile_k` of the shared dimension at a time. Set
/// through the WGSL's overrides: one pipeline per shape, one shader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileShape {
    /// 64×64 tiles of 8×8 invocations: every product with both m and n above 32.
    Square,
    /// 128×32 tiles for n ≤ 32, such as a 10-class output layer's forward product (batch × 10),
    /// where a square tile would leave 54 of its 64 columns idle (22 of 32 here).
    NarrowN,
    /// 32×128 tiles for m ≤ 32: the output layer's weight gradient (10 × hidden).
    NarrowM,
}

/// Workgroup memory per staged operand in `matmul.wgsl` (`TILE_VEC4S`), in vec4s.
const TILE_VEC4S: u32 = 512;

/// Invocations along n and m, and the staged depth of k.
#[derive(Debug, Clone, Copy)]
pub struct TileDims {
    pub wg_x: u32,
    pub wg_y: u32,
    pub tile_k: u32,
}

impl TileDims {
    pub fn tile_m(self) -> u32 {
        8 * self.wg_y
    }

    pub fn tile_n(self) -> u32 {
        8 * self.wg_x
    }

    /// Both staged operands fit the WGSL's workgroup arrays (its bounds argument relies on it).
    pub(crate) fn fits_workgroup_memory(self) -> bool {
        self.tile_k * self.tile_m().max(self.tile_n()) / 4 <= TILE_VEC4S && self.wg_x * self.tile_m() / 4 <= TILE_VEC4S
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
        // 64 invocations each.
        let (wg_x, wg_y, tile_k) = match self {
            TileShape::Square => (8, 8, 32),
            TileShape::NarrowN => (4, 16, 16),
            TileShape::NarrowM => (16, 4, 16),
        };
        TileDims { wg_x, wg_y, tile_k }
    }
}

/// How one product `[m×k]·[k×n]` is launched: its tile shape, and the ranges of k it is cut
/// into (split k: one workgroup layer per slice, then a deterministic reduction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductPlan {
    pub shape: TileShape,
    /// k per slice: a multiple of the tile's staged depth, or all of k when unsplit.
    pub k_slice: usize,
    pub slices: usize,
}

impl ProductPlan {
    /// The whole of k in each workgroup, on the shape `TileShape::for_product` picks.
    pub fn unsplit(m: usize, k: usize, n: usize) -> Self {
        ProductPlan {
            shape: TileShape::for_product(m, n),
            k_slice: k.max(1),
            slices: 1,
        }
    }

    /// `k` cut into `slices` (at most one per staged tile depth) of equal, tile-aligned length.
    pub fn split(m: usize, k: usize, n: usize, slices: usize) -> Self {
        let shape = TileShape::for_product(m, n);
        let tile_k = shape.dims().tile_k as usize;
        let k_slice = k.div_ceil(slices.max(1)).next_multiple_of(tile_k).max(tile_k);
        match k.div_ceil(k_slice) {
            0 | 1 => ProductPlan::unsplit(m, k, n),
            slices => ProductPlan { shape, k_slice, slices },
        }
    }

    /// Workgroups along n and m (one layer of them per slice).
    pub fn tiles(&self, m: usize, n: usize) -> (u32, u32) {
        let dims = self.shape.dims();
        ((n as u32).div_ceil(dims.tile_n()), (m as u32).div_ceil(dims.tile_m()))
    }

    /// f32s of partial results a split product keeps between its two dispatches: each slice's
    /// `m×n` block, then each slice's `m` row sums.
    pub fn partials_len(&self, m: usize, n: usize) -> usize {
        if self.slices > 1 {
            self.slices * (m * n + m)
        } else {
            0
        }
    }
}

/// How products are cut for one adapter. A product whose tiles are fewer than
/// `fill_workgroups` is split along k into the fewest slices that launch that many workgroups
/// (each slice at least one staged tile deep), so a long k on a small output no longer runs on
/// a handful of compute units while the rest idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePolicy {
    pub fill_workgroups: usize,
}

impl TilePolicy {
    /// Hardware GPUs: at least one workgroup per SM of an H100 (132), the largest GPU measured.
    /// On a smaller GPU the extra workgroups queue behind the first wave at the cost of one
    /// small reduction; there is no portable way to ask wgpu for the compute-unit count.
    pub const HARDWARE: TilePolicy = TilePolicy { fill_workgroups: 132 };

    /// Software rasterizers (lavapipe) run one workgroup per CPU thread at a time.
    pub fn software() -> TilePolicy {
        TilePolicy {
            fill_workgroups: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    pub fn for_device(device_type: wgpu::DeviceType) -> TilePolicy {
        match device_type {
            wgpu::DeviceType::Cpu => TilePolicy::software(),
            _ => TilePolicy::HARDWARE,
        }
    }

    /// The launch of the product `[m×k]·[k×n]`.
    pub fn plan(&self, m: usize, k: usize, n: usize) -> ProductPlan {
        let unsplit = ProductPlan::unsplit(m, k, n);
        let (x, y) = unsplit.tiles(m, n);
        let tiles = (x * y) as usize;
        if tiles >= self.fill_workgroups {
            return unsplit;
        }
        ProductPlan::split(m, k, n, self.fill_workgroups.div_ceil(tiles))
    }
}

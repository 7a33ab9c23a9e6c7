//! `C = A · B` for `B [k×n]` stored row by row and A stored either way: each row of a tile is
//! built up along k from one element of A (broadcast) times a row of B, so both are read in
//! place, B in whole vectors: the weight gradient `dzᵀ · x` and the input gradient `dz · w`.
//! Tiles: 6 rows × 4 vectors of 16 in 512-bit registers; 6 × 2 vectors of 8 with AVX2 (the
//! register file of each, full).
//!
//! Every output is one chain of fused multiply-adds along k, from zero, in both kernels: the
//! same sums as matrixmultiply's kernels for k up to its 256-deep blocks.

use std::arch::x86_64::*;
use std::ops::Range;

use super::{tile_table, Kernel, Output};

/// A [m×k] with element (i, kk) at `data[i·row_stride + kk·col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct Strided<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

/// Columns of C per block: the block's columns of B (k rows of them) stay in the core's L2
/// cache while every tile of rows passes over them.
const COLS_PER_BLOCK: usize = 256;

/// One tile's operands: rows of A from `a`, of C from `c` (`ldc` apart), columns of B and C
/// from `b` and `c`, the last of the tile's vectors `last` lanes wide.
struct Tile {
    a: *const f32,
    a_row: usize,
    a_col: usize,
    b: *const f32,
    ldb: usize,
    k: usize,
    c: *mut f32,
    ldc: usize,
    last: usize,
}

type TileFn = unsafe fn(&Tile);

impl Kernel {
    /// Columns `cols` of `C = A · B` for every row of `c`, B's rows `c.stride` floats apart.
    ///
    /// # Safety
    /// The CPU runs this kernel (it came from [`Kernel::available`]), and `c` is valid for
    /// writes at `r·c.stride + o` for every row r < c.rows and o in `cols`, which no other thread
    /// touches meanwhile.
    pub unsafe fn outer_columns(self, k: usize, a: Strided, b: &[f32], cols: Range<usize>, c: Output) {
        if c.rows == 0 || cols.is_empty() {
            return;
        }
        let last_index = |rows: usize, row_stride: usize, cols: usize, col_stride: usize| {
            (rows - 1) * row_stride + (cols - 1) * col_stride
        };
        assert!(
            cols.end <= c.stride
                && (k == 0
                    || (last_index(c.rows, a.row_stride, k, a.col_stride) < a.data.len()
                        && last_index(k, c.stride, cols.end, 1) < b.len())),
            "outer product operand too short"
        );
        match self {
            Kernel::Avx512 => sweep(&AVX512_TILES, 16, k, a, b, cols, c),
            Kernel::Avx2Fma => sweep(&AVX2_TILES, 8, k, a, b, cols, c),
        }
    }
}

/// Covers C's rows × `cols` with tiles of at most `ROWS` rows and `VECTORS` vectors of `lanes`
/// columns, the edge tiles from the smaller entries of `tiles` (`tiles[rows − 1][vectors − 1]`).
///
/// # Safety
/// As [`Kernel::outer_columns`], whose assertion bounds every read of `a` and `b`.
unsafe fn sweep<const ROWS: usize, const VECTORS: usize>(
    tiles: &[[TileFn; VECTORS]; ROWS],
    lanes: usize,
    k: usize,
    a: Strided,
    b: &[f32],
    cols: Range<usize>,
    c: Output,
) {
    let width = VECTORS * lanes;
    for block in cols.clone().step_by(COLS_PER_BLOCK) {
        let block_end = (block + COLS_PER_BLOCK).min(cols.end);
        for row in (0..c.rows).step_by(ROWS) {
            let rows = (c.rows - row).min(ROWS);
            for col in (block..block_end).step_by(width) {
                let tile_cols = (block_end - col).min(width);
                let vectors = tile_cols.div_ceil(lanes);
                let tile = Tile {
                    a: a.data.as_ptr().add(row * a.row_stride),
                    a_row: a.row_stride,
                    a_col: a.col_stride,
                    b: b.as_ptr().add(col),
                    ldb: c.stride,
                    k,
                    c: c.ptr.add(row * c.stride + col),
                    ldc: c.stride,
                    last: tile_cols - (vectors - 1) * lanes,
                };
                tiles[rows - 1][vectors - 1](&tile);
            }
        }
    }
}

const AVX512_TILES: [[TileFn; 4]; 6] = tile_table!(TileFn, avx512_tile:
    [1 1, 1 2, 1 3, 1 4], [2 1, 2 2, 2 3, 2 4], [3 1, 3 2, 3 3, 3 4],
    [4 1, 4 2, 4 3, 4 4], [5 1, 5 2, 5 3, 5 4], [6 1, 6 2, 6 3, 6 4]);

const AVX2_TILES: [[TileFn; 2]; 6] =
    tile_table!(TileFn, avx2_tile: [1 1, 1 2], [2 1, 2 2], [3 1, 3 2], [4 1, 4 2], [5 1, 5 2], [6 1, 6 2]);

#[target_feature(enable = "avx512f")]
unsafe fn avx512_tile<const R: usize, const V: usize>(t: &Tile) {
    tile::<__m512, R, V>(t)
}

#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_tile<const R: usize, const V: usize>(t: &Tile) {
    tile::<__m256, R, V>(t)
}

/// A `R × V` vectors tile; the last vector loads and stores only its `last` lanes (a masked
/// load only where the tile is cut: on AMD's cores an AVX2 one costs several plain ones).
/// Inlined into the `target_feature` function of its register type.
#[inline(always)]
unsafe fn tile<W: Vector, const R: usize, const V: usize>(t: &Tile) {
    let mask = W::mask(t.last);
    let mut acc = [[W::zero(); V]; R];
    // One row of B at a time, the last vector loaded from `$p` by `$load_last`.
    macro_rules! rows_of_b {
        ($p:ident => $load_last:expr) => {
            for kk in 0..t.k {
                let row = t.b.add(kk * t.ldb);
                let mut bv = [W::zero(); V];
                for v in 0..V - 1 {
                    bv[v] = W::load(row.add(W::LANES * v));
                }
                let $p = row.add(W::LANES * (V - 1));
                bv[V - 1] = $load_last;
                for i in 0..R {
                    let av = W::splat(*t.a.add(i * t.a_row + kk * t.a_col));
                    for v in 0..V {
                        acc[i][v] = W::mul_add(av, bv[v], acc[i][v]);
                    }
                }
            }
        };
    }
    if t.last == W::LANES {
        rows_of_b!(p => W::load(p));
    } else {
        rows_of_b!(p => W::load_masked(p, mask));
    }
    for (i, sums) in acc.iter().enumerate() {
        let out = t.c.add(i * t.ldc);
        for (v, &sum) in sums[..V - 1].iter().enumerate() {
            sum.store(out.add(W::LANES * v));
        }
        sums[V - 1].store_masked(out.add(W::LANES * (V - 1)), mask);
    }
}

/// What a tile needs of a register of floats. Every method is an intrinsic of the register's
/// instruction set: callable only where the CPU has it.
trait Vector: Copy {
    const LANES: usize;
    type Mask: Copy;
    /// The first `lanes` lanes.
    unsafe fn mask(lanes: usize) -> Self::Mask;
    unsafe fn zero() -> Self;
    unsafe fn splat(x: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    /// Zeros in the lanes outside `mask`, which are not read.
    unsafe fn load_masked(p: *const f32, mask: Self::Mask) -> Self;
    unsafe fn store(self, p: *mut f32);
    /// Writes only the lanes in `mask`.
    unsafe fn store_masked(self, p: *mut f32, mask: Self::Mask);
    /// `a · b + acc`, rounded once.
    unsafe fn mul_add(a: Self, b: Self, acc: Self) -> Self;
}

impl Vector for __m512 {
    const LANES: usize = 16;
    type Mask = __mmask16;
    #[inline(always)]
    unsafe fn mask(lanes: usize) -> __mmask16 {
        (u32::MAX >> (32 - lanes)) as u16
    }
    #[inline(always)]
    unsafe fn zero() -> Self {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        _mm512_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: __mmask16) -> Self {
        _mm512_maskz_loadu_ps(mask, p)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        _mm512_storeu_ps(p, self)
    }
    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, mask: __mmask16) {
        _mm512_mask_storeu_ps(p, mask, self)
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, acc: Self) -> Self {
        _mm512_fmadd_ps(a, b, acc)
    }
}

impl Vector for __m256 {
    const LANES: usize = 8;
    type Mask = __m256i;
    #[inline(always)]
    unsafe fn mask(lanes: usize) -> __m256i {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(lanes as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
    #[inline(always)]
    unsafe fn zero() -> Self {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        _mm256_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: __m256i) -> Self {
        _mm256_maskload_ps(p, mask)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        _mm256_storeu_ps(p, self)
    }
    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, mask: __m256i) {
        _mm256_maskstore_ps(p, mask, self)
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, acc: Self) -> Self {
        _mm256_fmadd_ps(a, b, acc)
    }
}

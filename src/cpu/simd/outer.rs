//! `C = A · B` for `B [k×n]` stored row by row and A stored either way: each row of a tile is
//! built up along k from one element of A (broadcast) times a row of B, so B is read in place in
//! whole vectors: the weight gradient `dzᵀ · x` and the input gradient `dz · w`. Tiles: 6 rows ×
//! 2 vectors (of 16 floats in 512-bit registers, of 8 with AVX2). The sweep takes one strip of
//! a tile's width at a time and passes every tile of rows over it, so the strip's rows of B stay
//! in L1 while A streams from L2; a tall A is first copied into [`Panels`] so that a tile reads
//! its six rows' elements for one k from 24 contiguous bytes.
//!
//! Every output is one chain of fused multiply-adds along k, from zero, per block of 256 along k,
//! the blocks added into C in turn, in both kernels: the same sums as matrixmultiply's.

use std::arch::x86_64::*;
use std::ops::Range;

use super::{tile_table, Kernel, Output, Vector};

/// A [m×k] with element (i, kk) at `data[i·row_stride + kk·col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct Strided<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

/// Rows of a tile and of a panel.
pub const PANEL_ROWS: usize = 6;

/// Depth of the blocks along k, matrixmultiply's: each block's chains start from zero and are
/// added into C, as its kernels do.
const K_PER_BLOCK: usize = 256;

/// A [m×k] copied into panels of [`PANEL_ROWS`] rows, one after another, each panel's elements
/// for one k together (row by row), the last panel's missing rows never read. Reading A = dzᵀ in
/// place steps a whole row of dz per k, and those lines share a few sets of the L1 cache; the
/// copy takes a fraction of a percent of the product (BENCHMARKS.md).
#[derive(Debug, Default)]
pub struct Panels {
    data: Vec<f32>,
    rows: usize,
    k: usize,
}

impl Panels {
    /// Copies `a` (m × k) in, reusing the allocation.
    pub fn pack(&mut self, a: Strided, m: usize, k: usize) {
        /// Panels filled per pass along k: a pass reads 48 consecutive floats of each column of
        /// a transposed A (a few cache lines, once) rather than 6.
        const PANELS_PER_PASS: usize = 8;
        let panels = m.div_ceil(PANEL_ROWS);
        self.rows = m;
        self.k = k;
        self.data.clear();
        self.data.resize(panels * PANEL_ROWS * k, 0.0);
        for first in (0..panels).step_by(PANELS_PER_PASS) {
            let rows = first * PANEL_ROWS..((first + PANELS_PER_PASS) * PANEL_ROWS).min(m);
            for kk in 0..k {
                // Where panel p's elements for this kk go.
                let panel_at = |p: usize| (p * k + kk) * PANEL_ROWS;
                if a.row_stride == 1 {
                    let column = &a.data[rows.start + kk * a.col_stride..][..rows.len()];
                    for (p, from) in (first..).zip(column.chunks(PANEL_ROWS)) {
                        let into = &mut self.data[panel_at(p)..][..from.len()];
                        if from.len() == PANEL_ROWS {
                            // A constant length: a few moves, not a call.
                            into[..PANEL_ROWS].copy_from_slice(&from[..PANEL_ROWS]);
                        } else {
                            into.copy_from_slice(from);
                        }
                    }
                } else {
                    for i in rows.clone() {
                        self.data[panel_at(i / PANEL_ROWS) + i % PANEL_ROWS] =
                            a.data[i * a.row_stride + kk * a.col_stride];
                    }
                }
            }
        }
    }
}

/// A as a sweep reads it.
#[derive(Clone, Copy, Debug)]
pub enum RowsOfA<'a> {
    /// In place.
    InPlace(Strided<'a>),
    /// Copied first.
    Panels(&'a Panels),
}

impl RowsOfA<'_> {
    /// Where row `row` (a multiple of [`PANEL_ROWS`]) starts, and the strides from it to the next
    /// row and the next k.
    fn rows_from(self, row: usize) -> (*const f32, usize, usize) {
        match self {
            RowsOfA::InPlace(a) => (a.data[row * a.row_stride..].as_ptr(), a.row_stride, a.col_stride),
            RowsOfA::Panels(p) => (p.data[row * p.k..].as_ptr(), 1, PANEL_ROWS),
        }
    }

    /// Whether every element of an m × k A is inside the data.
    fn holds(self, m: usize, k: usize) -> bool {
        match self {
            RowsOfA::InPlace(a) => m == 0 || k == 0 || (m - 1) * a.row_stride + (k - 1) * a.col_stride < a.data.len(),
            RowsOfA::Panels(p) => p.rows == m && p.k == k,
        }
    }
}

/// One tile's operands: rows of A from `a` (`a_row` apart, `a_col` between k), of C from `c`
/// (`ldc` apart), columns of B and C from `b` and `c`, the last of the tile's vectors `last`
/// lanes wide; the sums are added to C's values if `accumulate`, else stored.
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
    accumulate: bool,
}

type TileFn = unsafe fn(&Tile);

impl Kernel {
    /// Columns `cols` of `C = A · B` for every row of `c`, B's rows `c.stride` floats apart.
    ///
    /// # Safety
    /// The CPU runs this kernel (it came from [`Kernel::available`]), and `c` is valid for
    /// writes at `r·c.stride + o` for every row r < c.rows and o in `cols`, which no other thread
    /// touches meanwhile.
    pub unsafe fn outer_columns(self, k: usize, a: RowsOfA, b: &[f32], cols: Range<usize>, c: Output) {
        if c.rows == 0 || cols.is_empty() {
            return;
        }
        assert!(
            cols.end <= c.stride && a.holds(c.rows, k) && (k == 0 || (k - 1) * c.stride + cols.end <= b.len()),
            "outer product operand too short"
        );
        match self {
            Kernel::Avx512 => sweep(&AVX512_TILES, 16, k, a, b, cols, c),
            Kernel::Avx2Fma => sweep(&AVX2_TILES, 8, k, a, b, cols, c),
        }
    }
}

/// Covers C's rows × `cols` with tiles of at most `ROWS` rows and `VECTORS` vectors of `lanes`
/// columns, the edge tiles from the smaller entries of `tiles` (`tiles[rows − 1][vectors − 1]`):
/// a strip of columns at a time, each block of k of it under every tile of rows in turn.
///
/// # Safety
/// As [`Kernel::outer_columns`], whose assertion bounds every read of `a` and `b`.
unsafe fn sweep<const ROWS: usize, const VECTORS: usize>(
    tiles: &[[TileFn; VECTORS]; ROWS],
    lanes: usize,
    k: usize,
    a: RowsOfA,
    b: &[f32],
    cols: Range<usize>,
    c: Output,
) {
    let width = VECTORS * lanes;
    for col in cols.clone().step_by(width) {
        let strip_cols = (cols.end - col).min(width);
        let vectors = strip_cols.div_ceil(lanes);
        // k = 0 still writes its zeros.
        for depth in (0..k.max(1)).step_by(K_PER_BLOCK) {
            for row in (0..c.rows).step_by(ROWS) {
                let (a_rows, a_row, a_col) = a.rows_from(row);
                let tile = Tile {
                    a: a_rows.add(depth * a_col),
                    a_row,
                    a_col,
                    b: b.as_ptr().add(depth * c.stride + col),
                    ldb: c.stride,
                    k: (k - depth).min(K_PER_BLOCK),
                    c: c.ptr.add(row * c.stride + col),
                    ldc: c.stride,
                    last: strip_cols - (vectors - 1) * lanes,
                    accumulate: depth > 0,
                };
                tiles[(c.rows - row).min(ROWS) - 1][vectors - 1](&tile);
            }
        }
    }
}

const AVX512_TILES: [[TileFn; 2]; PANEL_ROWS] =
    tile_table!(TileFn, avx512_tile: [1 1, 1 2], [2 1, 2 2], [3 1, 3 2], [4 1, 4 2], [5 1, 5 2], [6 1, 6 2]);

const AVX2_TILES: [[TileFn; 2]; PANEL_ROWS] =
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
    // One row of B at a time, the last vector loaded from `$p` by `$load_last`, A's elements
    // `$a_row` apart between rows and `$a_col` between k.
    macro_rules! rows_of_b {
        ($p:ident => $load_last:expr, $a_row:expr, $a_col:expr) => {
            for kk in 0..t.k {
                let row = t.b.add(kk * t.ldb);
                let mut bv = [W::zero(); V];
                for v in 0..V - 1 {
                    bv[v] = W::load(row.add(W::LANES * v));
                }
                let $p = row.add(W::LANES * (V - 1));
                bv[V - 1] = $load_last;
                for i in 0..R {
                    let av = W::splat(*t.a.add(i * $a_row + kk * $a_col));
                    for v in 0..V {
                        acc[i][v] = W::mul_add(av, bv[v], acc[i][v]);
                    }
                }
            }
        };
    }
    // Panels' strides as constants: immediate offsets in the loop, not multiplies.
    let panels = (t.a_row, t.a_col) == (1, PANEL_ROWS);
    match (t.last == W::LANES, panels) {
        (true, true) => rows_of_b!(p => W::load(p), 1, PANEL_ROWS),
        (true, false) => rows_of_b!(p => W::load(p), t.a_row, t.a_col),
        (false, true) => rows_of_b!(p => W::load_masked(p, mask), 1, PANEL_ROWS),
        (false, false) => rows_of_b!(p => W::load_masked(p, mask), t.a_row, t.a_col),
    }
    for (i, sums) in acc.iter().enumerate() {
        let out = t.c.add(i * t.ldc);
        for (v, &sum) in sums[..V - 1].iter().enumerate() {
            let p = out.add(W::LANES * v);
            let sum = if t.accumulate { W::add(sum, W::load(p)) } else { sum };
            sum.store(p);
        }
        let p = out.add(W::LANES * (V - 1));
        let whole = t.last == W::LANES;
        let mut sum = sums[V - 1];
        if t.accumulate {
            sum = W::add(sum, if whole { W::load(p) } else { W::load_masked(p, mask) });
        }
        if whole {
            sum.store(p);
        } else {
            sum.store_masked(p, mask);
        }
    }
}

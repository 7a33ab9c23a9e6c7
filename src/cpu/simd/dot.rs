//! `C = A · Bᵀ` for `A [m×k]` and `B [n×k]` both stored row by row, so that every output is the
//! dot product of two contiguous rows: each layer's forward product `x · wᵀ`. matrixmultiply
//! runs this layout by first copying both operands into packed panels one element at a time
//! (its strided-gather case); here tiles of dot products read both rows straight from memory
//! in chunks of one register and copy nothing (BENCHMARKS.md has the timings). Tiles: 4×4
//! outputs in 512-bit registers, 4×3 in 256-bit ones.
//!
//! Each output's products are added in running lanes along k, one per float of the register
//! (16 with AVX-512, 8 with AVX2), each a chain of fused multiply-adds, then by one fixed
//! pairwise tree. The two instruction sets thus round differently: a CPU's forward products
//! depend on which of them it has (tests/unchanged.rs keys its goldens by it).

use std::arch::x86_64::*;
use std::ops::Range;

use super::{tile_table, Kernel, Output, Vector};

/// Columns of C (rows of B) swept per block: 64 rows of B stay in the core's L2 cache while
/// every tile of rows of A passes over them.
const B_ROWS_PER_BLOCK: usize = 64;

/// One tile: `c[i·ldc + j] = a[i·k..][..k] · b[j·k..][..k]` for the tile's rows i and columns j.
type TileFn = unsafe fn(a: *const f32, b: *const f32, k: usize, c: *mut f32, ldc: usize);

impl Kernel {
    /// Columns `cols` of C: `C[r][o] = A[r] · B[o]` for every row r of `c` and o in `cols`, A
    /// and B as in the module doc, each row `k` long.
    ///
    /// # Safety
    /// The CPU runs this kernel (it came from [`Kernel::available`]), and `c` is valid for
    /// writes at `r·c.stride + o` for every such r and o, which no other thread touches meanwhile.
    pub unsafe fn dot_columns(self, k: usize, a: &[f32], b: &[f32], cols: Range<usize>, c: Output) {
        let Output {
            ptr: c,
            rows: m,
            stride: ldc,
        } = c;
        assert!(
            a.len() >= m * k && b.len() >= cols.end * k && cols.end <= ldc,
            "dot product operand too short"
        );
        match self {
            Kernel::Avx512 => sweep(&AVX512_TILES, m, k, a.as_ptr(), b.as_ptr(), cols, c, ldc),
            Kernel::Avx2Fma => sweep(&AVX2_TILES, m, k, a.as_ptr(), b.as_ptr(), cols, c, ldc),
        }
    }
}

/// Covers rows `0..m` × columns `cols` of C with tiles of at most `ROWS × COLS`, the edge
/// tiles from the smaller entries of `tiles` (`tiles[rows − 1][cols − 1]`).
///
/// # Safety
/// As [`Kernel::dot_columns`], whose assertion bounds every read of `a` and `b`.
#[allow(clippy::too_many_arguments)]
unsafe fn sweep<const ROWS: usize, const COLS: usize>(
    tiles: &[[TileFn; COLS]; ROWS],
    m: usize,
    k: usize,
    a: *const f32,
    b: *const f32,
    cols: Range<usize>,
    c: *mut f32,
    ldc: usize,
) {
    for block in cols.clone().step_by(B_ROWS_PER_BLOCK) {
        let block_end = (block + B_ROWS_PER_BLOCK).min(cols.end);
        for row in (0..m).step_by(ROWS) {
            let rows = (m - row).min(ROWS);
            for col in (block..block_end).step_by(COLS) {
                let width = (block_end - col).min(COLS);
                tiles[rows - 1][width - 1](a.add(row * k), b.add(col * k), k, c.add(row * ldc + col), ldc);
            }
        }
    }
}

const AVX512_TILES: [[TileFn; 4]; 4] = tile_table!(TileFn, avx512_tile:
    [1 1, 1 2, 1 3, 1 4], [2 1, 2 2, 2 3, 2 4], [3 1, 3 2, 3 3, 3 4], [4 1, 4 2, 4 3, 4 4]);

const AVX2_TILES: [[TileFn; 3]; 4] =
    tile_table!(TileFn, avx2_tile: [1 1, 1 2, 1 3], [2 1, 2 2, 2 3], [3 1, 3 2, 3 3], [4 1, 4 2, 4 3]);

/// A `R × C` tile in 512-bit registers: 16 running lanes an output, then `(l + l+8)` and
/// [`sum8`].
#[target_feature(enable = "avx512f")]
unsafe fn avx512_tile<const R: usize, const C: usize>(a: *const f32, b: *const f32, k: usize, c: *mut f32, ldc: usize) {
    let sums = lane_sums::<__m512, R, C>(a, b, k);
    for (i, row) in sums.iter().enumerate() {
        for (j, &sum) in row.iter().enumerate() {
            let low = _mm512_castps512_ps256(sum);
            let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(sum)));
            *c.add(i * ldc + j) = sum8(_mm256_add_ps(low, high));
        }
    }
}

/// A `R × C` tile in 256-bit registers: 8 running lanes an output, then [`sum8`]. One register
/// an output leaves room for a 4×3 tile that reads each 64-byte line of its rows once, in two
/// consecutive chunks; AVX-512's order (16 lanes: two registers an output, each pass over k
/// touching every line) ran 12% slower (BENCHMARKS.md).
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_tile<const R: usize, const C: usize>(a: *const f32, b: *const f32, k: usize, c: *mut f32, ldc: usize) {
    let sums = lane_sums::<__m256, R, C>(a, b, k);
    for (i, row) in sums.iter().enumerate() {
        for (j, &sum) in row.iter().enumerate() {
            *c.add(i * ldc + j) = sum8(sum);
        }
    }
}

/// Every output of a `R × C` tile in one register: lane l sums the products at k ≡ l (mod
/// `W::LANES`), a chain of fused multiply-adds along k; a partial last chunk loads zeros past k.
/// Inlined into the `target_feature` function of its register type.
#[inline(always)]
unsafe fn lane_sums<W: Vector, const R: usize, const C: usize>(a: *const f32, b: *const f32, k: usize) -> [[W; C]; R] {
    let mut acc = [[W::zero(); C]; R];
    // One chunk along k at `$at`, each operand loaded from `$p` by `$load`.
    macro_rules! chunk {
        ($at:expr, $p:ident => $load:expr) => {{
            let at = $at;
            let mut bv = [W::zero(); C];
            for j in 0..C {
                let $p = b.add(j * k + at);
                bv[j] = $load;
            }
            for i in 0..R {
                let $p = a.add(i * k + at);
                let av = $load;
                for j in 0..C {
                    acc[i][j] = W::mul_add(av, bv[j], acc[i][j]);
                }
            }
        }};
    }
    let chunks = k / W::LANES;
    for chunk in 0..chunks {
        chunk!(chunk * W::LANES, p => W::load(p));
    }
    let whole = chunks * W::LANES;
    if whole < k {
        let mask = W::mask(k - whole);
        chunk!(whole, p => W::load_masked(p, mask));
    }
    acc
}

/// The sum of 8 lanes by one fixed tree: (l + l+4), then (+ l+2), then (+ l+1).
#[inline(always)]
unsafe fn sum8(v: __m256) -> f32 {
    let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps::<1>(pair, pair)))
}

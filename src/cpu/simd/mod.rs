//! The CPU backend's own SIMD kernels for the two layouts of a layer's products, chosen at run
//! time on x86-64: AVX-512F, else AVX2 with FMA. Neither packs B into panels first, as
//! matrixmultiply (what `gemm` keeps for f64 and on other CPUs) does for every call.
//!
//! - [`dot`]: `C = A · Bᵀ` with A and B both stored along k, every output the dot product of
//!   two rows: the forward product `x · wᵀ`.
//! - [`outer`]: `C = A · B` with B stored along n, C built from outer products of A's columns
//!   and B's rows: the weight gradient `dzᵀ · x` and the input gradient `dz · w` (a tall A
//!   copied into panels first).
//!
//! The outer kernels add each output's products in the same order with either instruction set
//! (matrixmultiply's); the dot kernels keep one running sum per float of their registers (16
//! with AVX-512, 8 with AVX2), so the forward product rounds differently on the two.

pub mod dot;
pub mod outer;

use std::arch::x86_64::*;

/// The instruction set a kernel runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// 512-bit registers, 16 floats each.
    Avx512,
    /// 256-bit registers, 8 floats each, with fused multiply-add.
    Avx2Fma,
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kernel::Avx512 => "AVX-512",
            Kernel::Avx2Fma => "AVX2+FMA",
        })
    }
}

impl Kernel {
    const WIDEST_FIRST: [Kernel; 2] = [Kernel::Avx512, Kernel::Avx2Fma];

    /// The widest kernel this CPU runs, if any.
    pub fn detect() -> Option<Kernel> {
        Kernel::WIDEST_FIRST.into_iter().find(|kernel| kernel.runs_here())
    }

    /// Every kernel this CPU runs, widest first.
    pub fn available() -> Vec<Kernel> {
        Kernel::WIDEST_FIRST
            .into_iter()
            .filter(|kernel| kernel.runs_here())
            .collect()
    }

    /// Whether this CPU has the instructions the kernel needs.
    fn runs_here(self) -> bool {
        match self {
            Kernel::Avx512 => is_x86_feature_detected!("avx512f"),
            Kernel::Avx2Fma => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
        }
    }
}

/// Where C's rows go: `rows` of them, each `stride` floats after the one before.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub ptr: *mut f32,
    pub rows: usize,
    pub stride: usize,
}

/// Every tile shape up to the table's size for one kernel function, as
/// `tiles[rows − 1][width − 1]`.
macro_rules! tile_table {
    ($tile:ty, $kernel:ident: $([$($r:literal $c:literal),*]),*) => {
        [$([$($kernel::<$r, $c> as $tile),*]),*]
    };
}
use tile_table;

/// What a tile needs of a register of floats. Every method is an intrinsic of the register's
/// instruction set: callable only where the CPU has it.
trait Vector: Copy {
    const LANES: usize;
    type Mask: Copy;
    /// The first `lanes` lanes (0 to all of them).
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
    unsafe fn add(a: Self, b: Self) -> Self;
}

impl Vector for __m512 {
    const LANES: usize = 16;
    type Mask = __mmask16;
    #[inline(always)]
    unsafe fn mask(lanes: usize) -> __mmask16 {
        ((1u32 << lanes) - 1) as u16
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
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        _mm512_add_ps(a, b)
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
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        _mm256_add_ps(a, b)
    }
}

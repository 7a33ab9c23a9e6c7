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
//! Both instruction sets add each output's products in the same order, so a CPU's results do
//! not depend on which of them it has.

pub mod dot;
pub mod outer;

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

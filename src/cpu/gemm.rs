//! The fast product behind the CPU backend: `C = A · B` through matrixmultiply's packed SIMD
//! kernels, or, in f32 on x86-64 with AVX2 or AVX-512, through [`super::simd`]'s kernels where
//! they are faster (the forward products; the last layer's weight gradient). Large products are
//! split by columns over the thread pool. The plain triple loop it must agree with is
//! [`super::reference::matmul`] (tested at edge shapes in tests/cpu_reference.rs); the math of
//! training in `ops` calls this one for speed.

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::simd::{outer::Strided, Kernel, Output};
use super::Real;
use crate::nn::model::{Product, Stored};

/// A float matrixmultiply has a kernel for.
pub trait Gemm: Sized {
    /// `c = a · b` for row/column strides as in `matrixmultiply`.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: &[Self],
        a_strides: (isize, isize),
        b: &[Self],
        b_strides: (isize, isize),
        c: &mut [Self],
    );

    /// `c = a · b` for `p` through [`super::simd`], where a kernel for the type, the storage
    /// and the CPU exists; false (and `c` untouched) where none does.
    fn gemm_simd(_p: Product, _a: &[Self], _b: &[Self], _c: &mut [Self]) -> bool {
        false
    }
}

macro_rules! impl_gemm {
    ($t:ty, $gemm:ident $(, $simd:item)?) => {
        impl Gemm for $t {
            $($simd)?

            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                a: &[Self],
                (rsa, csa): (isize, isize),
                b: &[Self],
                (rsb, csb): (isize, isize),
                c: &mut [Self],
            ) {
                let (parts, part_cols) = column_split(m, k, n);
                let c_base = SharedMut(c.as_mut_ptr());
                let part = |p: usize| {
                    let col0 = p * part_cols;
                    let cols = part_cols.min(n - col0);
                    // The callers build the strides from the slices' own shapes and check the
                    // lengths, so every index the kernel touches is inside `a`, `b` and `c`;
                    // the parts write disjoint column ranges of `c`.
                    unsafe {
                        matrixmultiply::$gemm(
                            m,
                            k,
                            cols,
                            1.0,
                            a.as_ptr(),
                            rsa,
                            csa,
                            b.as_ptr().offset(col0 as isize * csb),
                            rsb,
                            csb,
                            0.0,
                            c_base.at(col0),
                            n as isize,
                            1,
                        );
                    }
                };
                if parts == 1 {
                    part(0);
                } else {
                    (0..parts).into_par_iter().for_each(part);
                }
            }
        }
    };
}

/// Products smaller than this many multiply-adds run on one thread: splitting them costs more
/// than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 20;

/// How to split the columns of a product over the thread pool: the number of parts and the
/// columns in each (a multiple of 16, the GEMM kernels' width).
fn column_split(m: usize, k: usize, n: usize) -> (usize, usize) {
    let threads = rayon::current_num_threads();
    if threads == 1 || m * k * n < PARALLEL_MIN_WORK {
        return (1, n);
    }
    let part_cols = n.div_ceil(threads).next_multiple_of(16);
    (n.div_ceil(part_cols), part_cols)
}

/// The output pointer, shared by the threads that write disjoint parts of it.
#[derive(Clone, Copy)]
struct SharedMut<T>(*mut T);
// Sound because each thread writes its own column range (see `gemm`).
unsafe impl<T> Send for SharedMut<T> {}
unsafe impl<T> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// The pointer `offset` elements in. Taking `self` makes closures capture the whole
    /// (Sync) wrapper rather than its raw-pointer field.
    fn at(self, offset: usize) -> *mut T {
        // In bounds: offset < n ≤ c.len().
        unsafe { self.0.add(offset) }
    }
}

impl_gemm!(
    f32,
    sgemm,
    fn gemm_simd(p: Product, a: &[f32], b: &[f32], c: &mut [f32]) -> bool {
        simd_product(p, a, b, c)
    }
);
impl_gemm!(f64, dgemm);

/// Products with B stored along n go to [`Kernel::outer_columns`] only when A has fewer rows
/// than this (the last layer's weight gradient: one row per class). matrixmultiply's kernels
/// are 16 rows tall with AVX-512 (8 with AVX2) and pad a shorter A; on taller products its
/// packed kernels ran faster than the outer ones (BENCHMARKS.md), and for k up to 256 both add
/// in the same order.
#[cfg(target_arch = "x86_64")]
const OUTER_ROWS_BELOW: usize = 16;

/// [`Gemm::gemm_simd`] for f32 on x86-64: the widest [`Kernel`] for `p`'s storage (both
/// operands along k: [`Kernel::dot_columns`]; B along n and A short: [`Kernel::outer_columns`]),
/// split by columns like [`Gemm::gemm`].
#[cfg(target_arch = "x86_64")]
fn simd_product(p: Product, a: &[f32], b: &[f32], c: &mut [f32]) -> bool {
    let Product { m, k, n, .. } = p;
    let Some(kernel) = Kernel::detect() else {
        return false;
    };
    let a_strided = match p.a {
        Stored::AsIs => Strided {
            data: a,
            row_stride: k,
            col_stride: 1,
        },
        Stored::Transposed => Strided {
            data: a,
            row_stride: 1,
            col_stride: m,
        },
    };
    let dot = match (p.a, p.b) {
        (Stored::AsIs, Stored::Transposed) => true,
        (_, Stored::AsIs) if m < OUTER_ROWS_BELOW => false,
        _ => return false,
    };
    let (parts, part_cols) = column_split(m, k, n);
    let c_base = SharedMut(c.as_mut_ptr());
    let part = |p: usize| {
        let cols = p * part_cols..((p + 1) * part_cols).min(n);
        let c = Output {
            ptr: c_base.at(0),
            rows: m,
            stride: n,
        };
        // The kernel came from detect(); c holds m rows of n (checked by `matmul`), and the
        // parts write disjoint column ranges of it.
        unsafe {
            if dot {
                kernel.dot_columns(k, a, b, cols, c)
            } else {
                kernel.outer_columns(k, a_strided, b, cols, c)
            }
        }
    };
    if parts == 1 {
        part(0);
    } else {
        (0..parts).into_par_iter().for_each(part);
    }
    true
}

#[cfg(not(target_arch = "x86_64"))]
fn simd_product(_p: Product, _a: &[f32], _b: &[f32], _c: &mut [f32]) -> bool {
    false
}

/// `C[m×n] = A[m×k] · B[k×n]` for the shapes and storage of `p`, reading A or B through a
/// transpose without copying it. The GPU's `matmul.wgsl` computes exactly this.
pub fn matmul<T: Real>(p: Product, a: &[T], b: &[T], c: &mut [T]) {
    let Product { m, k, n, .. } = p;
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "matmul operand too short"
    );
    if m == 0 || n == 0 {
        return;
    }
    let strides = |stored, cols: usize, rows: usize| match stored {
        Stored::AsIs => (cols as isize, 1),
        Stored::Transposed => (1, rows as isize),
    };
    if T::gemm_simd(p, a, b, &mut c[..m * n]) {
        return;
    }
    T::gemm(m, k, n, a, strides(p.a, k, m), b, strides(p.b, n, k), &mut c[..m * n]);
}

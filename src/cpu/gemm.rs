//! The fast product behind the CPU backend: `C = A · B` through matrixmultiply's packed SIMD
//! kernels, with large products split by columns over the thread pool. The plain triple loop
//! it must agree with is [`super::reference::matmul`] (tested at edge shapes in
//! tests/cpu_reference.rs); the math of training in `ops` calls this one for speed.

use rayon::prelude::*;

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
}

macro_rules! impl_gemm {
    ($t:ty, $gemm:ident) => {
        impl Gemm for $t {
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

impl_gemm!(f32, sgemm);
impl_gemm!(f64, dgemm);

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
    T::gemm(m, k, n, a, strides(p.a, k, m), b, strides(p.b, n, k), &mut c[..m * n]);
}

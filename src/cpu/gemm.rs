//! The fast product behind the CPU backend: `C = A · B` through matrixmultiply's packed SIMD
//! kernels, or, in f32 on x86-64 with AVX2 or AVX-512, through [`super::simd`]'s kernels (the
//! forward products, and the gradients except those of a tall A with AVX-512). Large products are
//! split by columns over the thread pool. The plain triple loop it must agree with is
//! [`super::reference::matmul`] (tested at edge shapes in tests/cpu_reference.rs); the math of
//! training in `ops` calls this one for speed.

use std::ops::Range;

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::simd::{
    outer::{Panels, RowsOfA, Strided},
    Kernel, Output,
};
use super::Real;
use crate::nn::model::{Product, Stored};

/// What [`matmul_then`] does to each row's part of C once the thread that computed it is done:
/// the row's columns `cols`, in place (None: nothing).
pub type Finish<'a, T> = Option<&'a (dyn Fn(&mut [T], Range<usize>) + Sync)>;

/// A float matrixmultiply has a kernel for.
pub trait Gemm: Sized {
    /// `c = a · b` for row/column strides as in `matrixmultiply`, then `finish` on each part.
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
        finish: Finish<Self>,
    );

    /// `c = a · b` for `p` through [`super::simd`], then `finish` on each part, where a kernel
    /// for the type, the storage and the CPU exists; false (and `c` untouched) where none does.
    fn gemm_simd(_p: Product, _a: &[Self], _b: &[Self], _c: &mut [Self], _finish: Finish<Self>) -> bool {
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
                finish: Finish<Self>,
            ) {
                let c_base = SharedMut(c.as_mut_ptr());
                for_each_column_part(m, k, n, c_base, finish, |cols| {
                    // The callers build the strides from the slices' own shapes and check the
                    // lengths, so every index the kernel touches is inside `a`, `b` and `c`;
                    // the parts write disjoint column ranges of `c`.
                    unsafe {
                        matrixmultiply::$gemm(
                            m,
                            k,
                            cols.len(),
                            1.0,
                            a.as_ptr(),
                            rsa,
                            csa,
                            b.as_ptr().offset(cols.start as isize * csb),
                            rsb,
                            csb,
                            0.0,
                            c_base.at(cols.start),
                            n as isize,
                            1,
                        );
                    }
                });
            }
        }
    };
}

/// Products smaller than this many multiply-adds run on one thread: splitting them costs more
/// than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 20;

/// Runs `part` on the column ranges of an m×k·k×n product `c`, over the thread pool when it is
/// large: one range a thread, each a multiple of 16 columns wide (the kernels' width). Each
/// thread then runs `finish` on the rows of its range, while they are in its core's cache.
fn for_each_column_part<T>(
    m: usize,
    k: usize,
    n: usize,
    c: SharedMut<T>,
    finish: Finish<T>,
    part: impl Fn(Range<usize>) + Sync,
) {
    let part_then_finish = |cols: Range<usize>| {
        part(cols.clone());
        let Some(finish) = finish else { return };
        for row in 0..m {
            // The part's columns of each row: no other thread touches them.
            let row = unsafe { std::slice::from_raw_parts_mut(c.at(row * n + cols.start), cols.len()) };
            finish(row, cols.clone());
        }
    };
    let threads = rayon::current_num_threads();
    if threads == 1 || m * k * n < PARALLEL_MIN_WORK {
        return part_then_finish(0..n);
    }
    let part_cols = n.div_ceil(threads).next_multiple_of(16);
    (0..n.div_ceil(part_cols))
        .into_par_iter()
        .for_each(|i| part_then_finish(i * part_cols..((i + 1) * part_cols).min(n)));
}

/// The output pointer, shared by the threads that write disjoint parts of it.
struct SharedMut<T>(*mut T);
// A pointer is Copy whatever it points at (a derive would ask T: Copy).
impl<T> Clone for SharedMut<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SharedMut<T> {}
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
    fn gemm_simd(p: Product, a: &[f32], b: &[f32], c: &mut [f32], finish: Finish<f32>) -> bool {
        simd_product(p, a, b, c, finish)
    }
);
impl_gemm!(f64, dgemm);

/// Products with B stored along n read A in place when it has fewer rows than this (the last
/// layer's weight gradient: one row per class), and copy it into [`Panels`] first otherwise,
/// with AVX2. With AVX-512 matrixmultiply's own 16-row kernel ran such products 3–8% faster
/// on two threads than the panels (BENCHMARKS.md), and keeps them: the sums are the same.
#[cfg(target_arch = "x86_64")]
const PANELS_FROM_ROWS: usize = 16;

#[cfg(target_arch = "x86_64")]
thread_local! {
    /// The copy of a tall A, reused from product to product.
    static PANELS: std::cell::RefCell<Panels> = std::cell::RefCell::default();
}

/// [`Gemm::gemm_simd`] for f32 on x86-64: the widest [`Kernel`] for `p`'s storage (both
/// operands along k: [`Kernel::dot_columns`]; B along n: [`Kernel::outer_columns`]), split by
/// columns like [`Gemm::gemm`].
#[cfg(target_arch = "x86_64")]
fn simd_product(p: Product, a: &[f32], b: &[f32], c: &mut [f32], finish: Finish<f32>) -> bool {
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
    let c_base = SharedMut(c.as_mut_ptr());
    let split = |part: &(dyn Fn(Range<usize>, Output) + Sync)| {
        for_each_column_part(m, k, n, c_base, finish, |cols| {
            let c = Output {
                ptr: c_base.at(0),
                rows: m,
                stride: n,
            };
            part(cols, c)
        })
    };
    // The kernel came from detect(); c holds m rows of n (checked by `matmul`), and the parts
    // write disjoint column ranges of it.
    match p.b {
        Stored::Transposed if p.a == Stored::AsIs => split(&|cols, c| unsafe { kernel.dot_columns(k, a, b, cols, c) }),
        Stored::Transposed => return false,
        Stored::AsIs if m < PANELS_FROM_ROWS => {
            let a = RowsOfA::InPlace(a_strided);
            split(&|cols, c| unsafe { kernel.outer_columns(k, a, b, cols, c) })
        }
        Stored::AsIs if kernel == Kernel::Avx512 => return false,
        Stored::AsIs => PANELS.with_borrow_mut(|panels| {
            panels.pack(a_strided, m, k);
            let a = RowsOfA::Panels(panels);
            split(&|cols, c| unsafe { kernel.outer_columns(k, a, b, cols, c) })
        }),
    }
    true
}

#[cfg(not(target_arch = "x86_64"))]
fn simd_product(_p: Product, _a: &[f32], _b: &[f32], _c: &mut [f32], _finish: Finish<f32>) -> bool {
    false
}

/// What computes the f32 products on this CPU, for reports: "AVX-512 products", "AVX2+FMA
/// products" ([`Kernel`]) or "matrixmultiply products".
pub fn products_by() -> String {
    #[cfg(target_arch = "x86_64")]
    if let Some(kernel) = Kernel::detect() {
        return format!("{kernel} products");
    }
    "matrixmultiply products".into()
}

/// `C[m×n] = A[m×k] · B[k×n]` for the shapes and storage of `p`, reading A or B through a
/// transpose without copying it. The GPU's `matmul.wgsl` computes exactly this.
pub fn matmul<T: Real>(p: Product, a: &[T], b: &[T], c: &mut [T]) {
    matmul_then(p, a, b, c, None);
}

/// [`matmul`], then `finish` on each row's columns of C (as `matmul.wgsl`'s epilogue does its
/// bias and activation): on the thread that computed them, while they are in its core's cache,
/// rather than in a pass of its own over all of C.
pub fn matmul_then<T: Real>(p: Product, a: &[T], b: &[T], c: &mut [T], finish: Finish<T>) {
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
    if T::gemm_simd(p, a, b, &mut c[..m * n], finish) {
        return;
    }
    T::gemm(
        m,
        k,
        n,
        a,
        strides(p.a, k, m),
        b,
        strides(p.b, n, k),
        &mut c[..m * n],
        finish,
    );
}

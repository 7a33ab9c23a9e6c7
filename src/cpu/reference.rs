//! The products of a training step as a student writes them: a loop over the rows and columns
//! of the output and a sum over k, no packing, no SIMD, no unsafe. [`super::gemm::matmul`] is
//! the fast product the backend uses; tests/cpu_reference.rs holds it to this one.

use rayon::prelude::*;

use super::Real;
use crate::nn::model::{Product, Stored};

/// `C[m×n] = A[m×k] · B[k×n]`: `C[i][j] = Σ_p A[i][p] · B[p][j]`, where A is stored
/// `[m, k]` (or, transposed, `[k, m]`) and B `[k, n]` (or `[n, k]`) as `p` says. Rows of C are
/// independent, so they are computed in parallel.
pub fn matmul<T: Real>(p: Product, a: &[T], b: &[T], c: &mut [T]) {
    let Product { m, k, n, .. } = p;
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "matmul operand too short"
    );
    let a_at = |i: usize, q: usize| match p.a {
        Stored::AsIs => a[i * k + q],
        Stored::Transposed => a[q * m + i],
    };
    let b_at = |q: usize, j: usize| match p.b {
        Stored::AsIs => b[q * n + j],
        Stored::Transposed => b[j * k + q],
    };
    if n == 0 {
        return;
    }
    c[..m * n].par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for (j, cij) in row.iter_mut().enumerate() {
            *cij = (0..k).map(|q| a_at(i, q) * b_at(q, j)).sum();
        }
    });
}

//! The CPU reference checked against first principles: finite differences and the course's
//! worked softmax example.

use crate::common;

use gpu_mlp::cpu::net::{loss_and_gradients, Workspace};
use gpu_mlp::cpu::{gemm, ops, reference};
use gpu_mlp::nn::dropout::Dropout;
use gpu_mlp::nn::model::{Activation, Loss, MlpSpec, ParamLayout, Product, Stored};
use rand::Rng;

/// Analytic gradients of the batch-mean loss against central differences, all in f64, for each
/// activation.
#[test]
fn gradients_match_finite_differences() {
    for act in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
        let spec = MlpSpec::new(5, &[4, 3], 3)
            .and_then(|s| s.with_activations(&[act]))
            .expect("valid spec");
        check_gradients(&spec);
    }
    // Mixed activations, one per hidden layer.
    let spec = MlpSpec::new(5, &[4, 3], 3)
        .and_then(|s| s.with_activations(&[Activation::Sigmoid, Activation::Tanh]))
        .expect("valid spec");
    check_gradients(&spec);
    // Each loss (binary cross-entropy on a two-class problem: one output unit).
    for (loss, classes) in [(Loss::SoftmaxProbCrossEntropy, 3), (Loss::BinaryCrossEntropy, 2)] {
        let spec = MlpSpec::for_classes(5, &[4, 3], classes, loss)
            .and_then(|s| s.with_activations(&[Activation::Tanh]))
            .expect("valid spec");
        check_gradients(&spec);
    }
    // With dropout: the mask is a fixed function of (seed, step, layer, element), so the loss is
    // still a smooth function of the parameters and finite differences apply.
    let spec = MlpSpec::new(5, &[8, 6], 3)
        .and_then(|s| s.with_activations(&[Activation::Tanh]))
        .expect("valid spec");
    check_gradients_with(
        &spec,
        Some(Dropout {
            p: 0.3,
            seed: 9,
            step: 4,
        }),
    );
}

fn check_gradients(spec: &MlpSpec) {
    check_gradients_with(spec, None);
}

fn check_gradients_with(spec: &MlpSpec, dropout: Option<Dropout>) {
    let layout = ParamLayout::new(spec);
    let mut r = common::rng(21);
    let rows = 6;
    let mut params: Vec<f64> = (0..layout.len).map(|_| r.random_range(-1.0..1.0)).collect();
    let x: Vec<f64> = (0..rows * 5).map(|_| r.random_range(-2.0..2.0)).collect();
    let classes = if spec.loss == Loss::BinaryCrossEntropy {
        2
    } else {
        spec.outputs() as u32
    };
    let labels: Vec<u32> = (0..rows).map(|_| r.random_range(0..classes)).collect();
    let mut ws = Workspace::<f64>::new(&layout, rows);

    let mut loss_at = |params: &[f64], grads: &mut [f64]| -> f64 {
        ws.acts[0].copy_from_slice(&x);
        ws.labels.copy_from_slice(&labels);
        loss_and_gradients(&layout, spec.loss, params, &mut ws, rows, grads, dropout.as_ref()).loss_sum / rows as f64
    };
    let mut analytic = vec![0.0; layout.len];
    loss_at(&params, &mut analytic);
    let mut scratch = vec![0.0; layout.len];
    let eps = 1e-6;
    let mut checked = 0;
    for slots in &layout.layers {
        for i in slots.weight.clone().chain(slots.bias.clone()) {
            let saved = params[i];
            params[i] = saved + eps;
            let up = loss_at(&params, &mut scratch);
            params[i] = saved - eps;
            let down = loss_at(&params, &mut scratch);
            params[i] = saved;
            let numeric = (up - down) / (2.0 * eps);
            let err = (analytic[i] - numeric).abs() / numeric.abs().max(1e-3);
            assert!(
                err < 1e-5,
                "parameter {i}: analytic {} vs numeric {numeric} (rel {err:e})",
                analytic[i]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, layout.count());
}

/// logits [[2.0,0.5,0.1,−1.2],[0.2,1.5,−0.5,0.0],[−1.0,0.0,0.2,2.0]], labels [2,0,3]:
/// mean loss ≈ 1.445; gradient row 1 (times B) ≈ [0.7074, 0.1579, −0.8941, 0.0288].
#[test]
fn softmax_cross_entropy_worked_example() {
    let logits = [2.0f32, 0.5, 0.1, -1.2, 0.2, 1.5, -0.5, 0.0, -1.0, 0.0, 0.2, 2.0];
    let mut dz = [0.0f32; 12];
    let loss = ops::softmax_cross_entropy(&logits, &[2, 0, 3], 3, 4, &mut dz);
    assert!(
        (loss.loss_sum / 3.0 - 1.445).abs() < 1e-3,
        "mean loss {}",
        loss.loss_sum / 3.0
    );
    assert_eq!(loss.correct, 1);
    let row0: Vec<f32> = dz[..4].iter().map(|g| g * 3.0).collect();
    common::assert_close("row 1 of p − y", &row0, &[0.7074, 0.1579, -0.8941, 0.0288], 2e-4);
    for row in dz.chunks(4) {
        assert!(
            row.iter().sum::<f32>().abs() < 1e-6,
            "each gradient row sums to 0: {row:?}"
        );
    }
}

/// Huge logits must not overflow: the row max is subtracted before exp.
#[test]
fn softmax_cross_entropy_is_stable_for_large_logits() {
    let logits = [1000.0f32, 0.0, -1000.0, 500.0];
    let mut dz = [0.0f32; 4];
    let loss = ops::softmax_cross_entropy(&logits, &[3], 1, 4, &mut dz);
    assert!((loss.loss_sum - 500.0).abs() < 1e-3, "loss {}", loss.loss_sum);
    assert!(dz.iter().all(|g| g.is_finite()));
}

/// The fast product against the plain reference, at one shape, for every storage combination.
/// The larger shapes are split by columns over threads, into parts that do not divide n evenly.
fn fast_product_matches_the_reference(m: usize, k: usize, n: usize) {
    let mut r = common::rng(22);
    let a: Vec<f64> = (0..m * k).map(|_| r.random_range(-1.0..1.0)).collect();
    let b: Vec<f64> = (0..k * n).map(|_| r.random_range(-1.0..1.0)).collect();
    for a_stored in [Stored::AsIs, Stored::Transposed] {
        for b_stored in [Stored::AsIs, Stored::Transposed] {
            let p = Product {
                m,
                k,
                n,
                a: a_stored,
                b: b_stored,
            };
            let (mut fast, mut plain) = (vec![f64::NAN; m * n], vec![f64::NAN; m * n]);
            gemm::matmul(p, &a, &b, &mut fast);
            reference::matmul(p, &a, &b, &mut plain);
            for (i, (got, want)) in fast.iter().zip(&plain).enumerate() {
                assert!(
                    (got - want).abs() < 1e-10,
                    "{m}×{k}×{n} {a_stored:?}/{b_stored:?} at ({}, {}): {got} vs {want}",
                    i / n,
                    i % n
                );
            }
        }
    }
}

/// One named test per shape, so one failure does not hide another: `$check(m, k, n)`.
macro_rules! product_shapes {
    ($check:ident { $($name:ident: ($m:expr, $k:expr, $n:expr);)* }) => {$(
        #[test]
        fn $name() {
            $check($m, $k, $n);
        }
    )*};
}

product_shapes! { fast_product_matches_the_reference {
    product_1x1x1: (1, 1, 1);
    product_1x7x129: (1, 7, 129);
    product_7x1x7: (7, 1, 7);
    product_5x7x3: (5, 7, 3);
    product_129x130x785: (129, 130, 785);
    product_128x784x17: (128, 784, 17);
    product_785x129x7: (785, 129, 7);
}}

/// Each SIMD kernel this CPU runs (`cpu::simd`) against the plain reference, in f32 with
/// NaN-poisoned outputs, for the three storages a layer's products use (the forward product
/// through `dot`, the weight and input gradients through `outer`, A read in place and copied into
/// panels), over the whole of C and over column ranges that start and end inside a tile; the
/// outer kernels bit-identical between instruction sets.
/// Tolerance: 1e-5 of the largest output (sums of up to 785 products of values in [−1, 1)). Where
/// the CPU runs none (no AVX2 with FMA), `gemm` keeps matrixmultiply and this says so.
#[cfg(target_arch = "x86_64")]
fn simd_kernels_match_the_reference(m: usize, k: usize, n: usize) {
    use gpu_mlp::cpu::simd::{
        outer::{Panels, RowsOfA, Strided},
        Kernel, Output,
    };
    let case = format!("simd_{m}x{k}x{n}");
    let kernels = Kernel::available();
    if kernels.is_empty() {
        common::skip_unless_ci(&case, "this CPU has neither AVX-512F nor AVX2 with FMA");
        return;
    }
    let mut r = common::case_rng(&case);
    let a = common::random_vec(&mut r, m * k);
    let b = common::random_vec(&mut r, n * k);
    let splits = [vec![0, n], [0, n / 3, n / 3 + 5, n].map(|col| col.min(n)).to_vec()];
    let storages = [
        (Stored::AsIs, Stored::Transposed),
        (Stored::Transposed, Stored::AsIs),
        (Stored::AsIs, Stored::AsIs),
    ];
    for (a_stored, b_stored) in storages {
        let p = Product {
            m,
            k,
            n,
            a: a_stored,
            b: b_stored,
        };
        let what = format!("{case} {a_stored:?}/{b_stored:?}");
        let mut want = vec![f32::NAN; m * n];
        reference::matmul(p, &a, &b, &mut want);
        let (row_stride, col_stride) = match a_stored {
            Stored::AsIs => (k, 1),
            Stored::Transposed => (1, m),
        };
        let a_strided = Strided {
            data: &a,
            row_stride,
            col_stride,
        };
        let mut panels = Panels::default();
        panels.pack(a_strided, m, k);
        // The outer kernel reads A in place or copied into panels.
        let a_reads: &[Option<RowsOfA>] = match b_stored {
            Stored::Transposed => &[None],
            Stored::AsIs => &[Some(RowsOfA::InPlace(a_strided)), Some(RowsOfA::Panels(&panels))],
        };
        let mut results = Vec::new();
        for kernel in &kernels {
            for (split, a_read) in splits.iter().flat_map(|s| a_reads.iter().map(move |a| (s, a))) {
                let mut got = vec![f32::NAN; m * n];
                for cols in split.windows(2).map(|w| w[0]..w[1]) {
                    let c = Output {
                        ptr: got.as_mut_ptr(),
                        rows: m,
                        stride: n,
                    };
                    // The kernel is one this CPU runs; `got` holds m rows of n.
                    unsafe {
                        match a_read {
                            None => kernel.dot_columns(k, &a, &b, cols, c),
                            Some(a_read) => kernel.outer_columns(k, *a_read, &b, cols, c),
                        }
                    }
                }
                let how = match a_read {
                    None => "",
                    Some(RowsOfA::InPlace(_)) => " A in place",
                    Some(RowsOfA::Panels(_)) => " A in panels",
                };
                common::assert_close(&format!("{what} {kernel:?}{how} columns {split:?}"), &got, &want, 1e-5);
                results.push((kernel, got));
            }
        }
        // The outer kernels add in the same order whichever instruction set runs them (the dot
        // kernels' running lanes are as wide as their registers: they differ).
        let same_order = b_stored == Stored::AsIs;
        for (kernel, got) in results[1..].iter().filter(|_| same_order) {
            assert!(
                got.iter().zip(&results[0].1).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{what}: {kernel:?} differs in some bit from {:?}",
                results[0].0
            );
        }
        // And the product as the CPU backend takes it in f32 (these kernels or matrixmultiply's,
        // split over the thread pool when large).
        let mut fast = vec![f32::NAN; m * n];
        gemm::matmul(p, &a, &b, &mut fast);
        common::assert_close(&format!("{what} gemm::matmul"), &fast, &want, 1e-5);
    }
}

/// Single rows and columns, k below, at and past one 16-float chunk and one 256-deep block,
/// tiles cut at every edge, the 784-wide first layer, the 10-wide last and a 512-unit layer's
/// weight gradient (A copied into panels).
#[cfg(target_arch = "x86_64")]
mod simd_shapes {
    use super::simd_kernels_match_the_reference;

    product_shapes! { simd_kernels_match_the_reference {
    simd_1x1x1: (1, 1, 1);
    simd_1x7x129: (1, 7, 129);
    simd_7x16x7: (7, 16, 7);
    simd_5x17x3: (5, 17, 3);
    simd_4x0x4: (4, 0, 4);
    simd_13x33x67: (13, 33, 67);
    simd_129x130x785: (129, 130, 785);
    simd_128x784x17: (128, 784, 17);
    simd_128x512x10: (128, 512, 10);
    simd_10x128x512: (10, 128, 512);
    simd_128x10x512: (128, 10, 512);
    simd_37x257x50: (37, 257, 50);
    simd_512x128x100: (512, 128, 100);
    }}
}

/// `linear_forward`'s bias and activation, run on each thread's part of `z` as it finishes,
/// against the product followed by a pass of `z += b` and one of `activate`: bit-identical, in
/// f32 (the SIMD kernels) and f64, for a layer small enough for one thread and one whose product
/// is split over threads into parts that do not divide the outputs evenly.
#[test]
fn linear_forward_fuses_the_bias_and_activation() {
    use gpu_mlp::cpu::Real;
    fn check<T: Real>(from: impl Fn(f32) -> T) {
        for (rows, fan_in, fan_out) in [(7, 33, 129), (128, 784, 100)] {
            let mut r = common::rng(23);
            let mut values = |len: usize| -> Vec<T> { (0..len).map(|_| from(r.random_range(-1.0..1.0))).collect() };
            let (x, w, b) = (values(rows * fan_in), values(fan_out * fan_in), values(fan_out));
            let mut plain = vec![T::nan(); rows * fan_out];
            gemm::matmul(Product::forward(rows, fan_in, fan_out), &x, &w, &mut plain);
            for row in plain.chunks_exact_mut(fan_out) {
                for (z, &bias) in row.iter_mut().zip(&b) {
                    *z = *z + bias;
                }
            }
            for act in [
                None,
                Some(Activation::Relu),
                Some(Activation::Tanh),
                Some(Activation::Sigmoid),
            ] {
                let mut want = plain.clone();
                if let Some(act) = act {
                    ops::activate(&mut want, act);
                }
                let mut got = vec![T::nan(); rows * fan_out];
                ops::linear_forward(&x, &w, &b, act, rows, &mut got);
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(&g, &w)| g.is_finite() && Real::to_f64(g).to_bits() == Real::to_f64(w).to_bits()),
                    "{rows}×{fan_in}→{fan_out} {act:?} in {}",
                    std::any::type_name::<T>()
                );
            }
        }
    }
    check(|v| v);
    check(f64::from);
}

/// The batch and parameter buffers start on a 64-byte boundary (so that 16-float rows never
/// straddle a cache line), at every length, and hold what they were given.
#[test]
fn aligned_buffers_start_on_a_cache_line() {
    use gpu_mlp::cpu::aligned::Aligned;
    for len in [0, 1, 7, 129, 785, 401_920] {
        let values: Vec<f32> = (0..len).map(|i| i as f32).collect();
        let copy = Aligned::from_slice(&values);
        let zeros = Aligned::<f64>::zeroed(len);
        assert_eq!(&copy[..], &values[..], "length {len}");
        assert!(zeros.iter().all(|&v| v == 0.0) && zeros.len() == len, "length {len}");
        assert_eq!(copy.as_ptr() as usize % 64, 0, "f32 × {len}");
        assert_eq!(zeros.as_ptr() as usize % 64, 0, "f64 × {len}");
    }
}

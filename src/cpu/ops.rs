//! The math of one training step, one plain function per operation. Generic over the float type
//! so the same code runs in f32 (training) and f64 (finite-difference gradient checks).
//!
//! Shapes are row-major: a batch `x` is `[rows, in]`, a weight `w` is `[out, in]`, a bias `[out]`.
//! A layer's products (`model::Product`) run on the fast [`super::gemm`]; the loops a student
//! writes for them are [`super::reference`], which the fast one is tested against.

use std::ops::Range;

use rayon::prelude::*;

use super::gemm::{matmul, matmul_then};
use super::Real;
use crate::nn::dropout::Dropout;
use crate::nn::model::{Activation, Loss, Product};
use crate::nn::optim::UpdateStep;
use crate::nn::optim::{Optimizer, OptimizerKind};

/// Dense layer forward: `z = x · wᵀ + b` for `x [rows, in]`, `w [out, in]`, then `act(z)` in
/// place when given. The bias and activation run on each part of `z` as the thread that
/// computed it finishes (`matmul.wgsl`'s epilogue), the same arithmetic as a pass of
/// `z[r][o] += b[o]` and then [`activate`].
pub fn linear_forward<T: Real>(x: &[T], w: &[T], b: &[T], act: Option<Activation>, rows: usize, z: &mut [T]) {
    let (fan_out, fan_in) = (b.len(), w.len() / b.len());
    let bias_then_activate = |row: &mut [T], outputs: Range<usize>| {
        for (zi, &bi) in row.iter_mut().zip(&b[outputs]) {
            *zi = *zi + bi;
        }
        if let Some(act) = act {
            activate(row, act);
        }
    };
    matmul_then(
        Product::forward(rows, fan_in, fan_out),
        x,
        w,
        z,
        Some(&bias_then_activate),
    );
}

/// `a = act(z)` in place.
pub fn activate<T: Real>(z: &mut [T], act: Activation) {
    for v in z {
        *v = match act {
            Activation::Relu => v.max(T::zero()),
            Activation::Tanh => v.tanh(),
            Activation::Sigmoid => sigmoid(*v),
        };
    }
}

/// Back through an activation: `dz = da ⊙ act'(z)`, in place on `da`, with the derivative
/// written in terms of the activation's output `a`: ReLU \[a > 0\], tanh 1 − a², sigmoid a(1 − a).
pub fn activation_backward<T: Real>(da: &mut [T], a: &[T], act: Activation) {
    for (g, &y) in da.iter_mut().zip(a) {
        let slope = match act {
            Activation::Relu if y > T::zero() => T::one(),
            Activation::Relu => T::zero(),
            Activation::Tanh => T::one() - y * y,
            Activation::Sigmoid => y * (T::one() - y),
        };
        *g = *g * slope;
    }
}

/// Inverted dropout in place on hidden layer `layer`'s output: each unit is kept when
/// [`Dropout::keep`] says so and scaled by 1/(1 − p), else zeroed.
pub fn dropout_forward<T: Real>(a: &mut [T], dropout: &Dropout, layer: u32) {
    let scale = T::from_f32(dropout.scale());
    for (i, v) in a.iter_mut().enumerate() {
        *v = if dropout.keep(layer, i as u32) {
            *v * scale
        } else {
            T::zero()
        };
    }
}

/// Back through dropout and the activation before it, given the dropped output `a`:
/// `dz = da · [kept] / (1 − p) · act'(a · (1 − p))` (a kept unit's pre-dropout output is a·(1 − p)).
pub fn dropout_activation_backward<T: Real>(da: &mut [T], a: &[T], act: Activation, dropout: &Dropout, layer: u32) {
    let (scale, keep_prob) = (T::from_f32(dropout.scale()), T::from_f32(1.0 - dropout.p));
    for (i, (g, &y)) in da.iter_mut().zip(a).enumerate() {
        if dropout.keep(layer, i as u32) {
            let mut slope = [T::one()];
            activation_backward(&mut slope, &[y * keep_prob], act);
            *g = *g * scale * slope[0];
        } else {
            *g = T::zero();
        }
    }
}

/// Dense layer backward, given `dz [rows, out]` and the layer input `x [rows, in]`:
/// `dw = dzᵀ · x`, `db = Σ_rows dz`, and, when asked, `dx = dz · w`.
pub fn linear_backward<T: Real>(
    dz: &[T],
    x: &[T],
    w: &[T],
    rows: usize,
    dw: &mut [T],
    db: &mut [T],
    dx: Option<&mut [T]>,
) {
    let (fan_out, fan_in) = (db.len(), dw.len() / db.len());
    matmul(Product::weight_grad(rows, fan_in, fan_out), dz, x, dw);
    bias_grad(dz, rows, db);
    if let Some(dx) = dx {
        matmul(Product::input_grad(rows, fan_in, fan_out), dz, w, dx);
    }
}

/// `db[j] = Σ_r dz[r, j]`.
pub fn bias_grad<T: Real>(dz: &[T], rows: usize, db: &mut [T]) {
    db.fill(T::zero());
    for row in dz[..rows * db.len()].chunks_exact(db.len()) {
        for (g, &d) in db.iter_mut().zip(row) {
            *g = *g + d;
        }
    }
}

/// Loss and accuracy of one batch, summed (not averaged) so batches can be combined.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BatchLoss {
    pub loss_sum: f64,
    pub correct: u32,
}

/// The smallest probability `−log(p + ε)` sees (the Keras-from-scratch formulation's ε).
pub const PROB_EPS: f64 = 1e-12;

/// The loss of `rows` output rows against `labels`, and its gradient with respect to the output
/// layer's pre-activations, `dz`, for the batch-mean loss; with `weights`, each row's loss and
/// gradient times its weight (Σ wᵣ·lossᵣ / rows). Rows `≥ rows` of `dz` are zeroed.
/// `shaders/loss.wgsl` computes the same.
pub fn loss_and_grad<T: Real>(
    loss: Loss,
    outputs: &[T],
    labels: &[u32],
    weights: Option<&[f32]>,
    rows: usize,
    units: usize,
    dz: &mut [T],
) -> BatchLoss {
    let mut out = BatchLoss::default();
    let inv_rows = T::one() / T::from_f32(rows as f32);
    for r in 0..rows {
        let z = &outputs[r * units..(r + 1) * units];
        let g = &mut dz[r * units..(r + 1) * units];
        let label = labels[r] as usize;
        // A sample's weight scales its loss and its gradient (Keras' sample_weight).
        let weight = weights.map_or(1.0, |w| w[r]);
        let scaled = T::from_f32(weight) * inv_rows;
        let (loss_r, hit) = match loss {
            Loss::SoftmaxCrossEntropy | Loss::SoftmaxProbCrossEntropy => {
                let (arg, max) = z
                    .iter()
                    .enumerate()
                    .skip(1)
                    .fold((0, z[0]), |(a, m), (j, &v)| if v > m { (j, v) } else { (a, m) });
                let sum: T = z.iter().map(|&v| (v - max).exp()).sum();
                let p_true = (z[label] - max).exp() / sum;
                // Cross-entropy from logits: log-sum-exp − z[label], its gradient p − y.
                // From probabilities: −log(p[label] + ε), whose gradient through the softmax
                // is (p − y) · p[label] / (p[label] + ε).
                let (loss_r, scale) = match loss {
                    Loss::SoftmaxCrossEntropy => ((max + sum.ln() - z[label]).to_f64(), T::one()),
                    _ => (
                        -(p_true.to_f64() + PROB_EPS).ln(),
                        p_true / (p_true + T::from_f32(PROB_EPS as f32)),
                    ),
                };
                for (j, gj) in g.iter_mut().enumerate() {
                    let p = (z[j] - max).exp() / sum;
                    let y = if j == label { T::one() } else { T::zero() };
                    *gj = (p - y) * scale * scaled;
                }
                (loss_r, arg == label)
            }
            Loss::BinaryCrossEntropy => {
                // Stable form: max(z, 0) − z·y + log(1 + e^−|z|); gradient σ(z) − y.
                let (z0, y) = (z[0], T::from_f32(label as f32));
                let loss_r = (z0.max(T::zero()) - z0 * y + (-z0.abs()).exp().ln_1p()).to_f64();
                g[0] = (sigmoid(z0) - y) * scaled;
                (loss_r, (z0 > T::zero()) == (label == 1))
            }
        };
        out.loss_sum += f64::from(weight) * loss_r;
        out.correct += u32::from(hit);
    }
    dz[rows * units..].fill(T::zero());
    out
}

/// σ(z) = 1 / (1 + e^−z).
pub fn sigmoid<T: Real>(z: T) -> T {
    T::one() / (T::one() + (-z).exp())
}

/// Softmax cross-entropy from logits (log-sum-exp stable) and its gradient (p − y)/rows:
/// [`loss_and_grad`] with [`Loss::SoftmaxCrossEntropy`].
pub fn softmax_cross_entropy<T: Real>(
    logits: &[T],
    labels: &[u32],
    rows: usize,
    classes: usize,
    dz: &mut [T],
) -> BatchLoss {
    loss_and_grad(Loss::SoftmaxCrossEntropy, logits, labels, None, rows, classes, dz)
}

/// One optimizer update of every parameter, the same arithmetic as `shaders/optim.wgsl`.
///
/// `g = grad + wd·p` (not for AdamW), then
/// - SGD: `p ← p − lr·g`
/// - momentum: `v ← μv + g`, `p ← p − lr·v` (Nesterov: `p ← p − lr·(g + μv)`)
/// - Adam/AdamW: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
///   `p ← p − lr·(m/bc1 / (√(v/bc2) + ε) + [AdamW] wd·p)`
///
/// `state` holds `kind.state_per_param()` arrays of `params.len()` values, one after the other
/// (velocity; or m then v).
pub fn optimizer_step<T: Real>(opt: &Optimizer, step: &UpdateStep, params: &mut [T], grads: &[T], state: &mut [T]) {
    let f = T::from_f32;
    let (lr, wd, mu) = (f(step.lr), f(opt.weight_decay), f(opt.momentum));
    // Every parameter updates independently: one element-wise loop per optimizer, in chunks
    // over the thread pool (the update streams the whole model through memory once).
    let pairs = params.par_iter_mut().zip(grads).with_min_len(UPDATE_CHUNK);
    match opt.kind {
        OptimizerKind::Sgd => pairs.for_each(|(p, &grad)| {
            let g = grad + wd * *p;
            *p = *p - lr * g;
        }),
        OptimizerKind::Momentum => pairs.zip(state).for_each(|((p, &grad), v)| {
            let g = grad + wd * *p;
            *v = mu * *v + g;
            *p = *p - lr * if opt.nesterov { g + mu * *v } else { *v };
        }),
        OptimizerKind::Adam | OptimizerKind::Adamw => {
            let (beta1, beta2) = (f(opt.beta1), f(opt.beta2));
            let decoupled = opt.kind == OptimizerKind::Adamw;
            let (ms, vs) = state.split_at_mut(grads.len());
            pairs.zip(ms).zip(vs).for_each(|(((p, &grad), m), v)| {
                let g = if decoupled { grad } else { grad + wd * *p };
                *m = beta1 * *m + (T::one() - beta1) * g;
                *v = beta2 * *v + (T::one() - beta2) * g * g;
                let m_hat = *m / f(step.bias_correction1);
                let v_hat = *v / f(step.bias_correction2);
                let decay = if decoupled { wd * *p } else { T::zero() };
                *p = *p - lr * (m_hat / (v_hat.sqrt() + f(opt.eps)) + decay);
            });
        }
    }
}

/// Parameters per task of the parallel optimizer update.
const UPDATE_CHUNK: usize = 1 << 14;

/// Adds `rows` rows of a hidden layer's activations `a [rows, width]` to the epoch's per-unit
/// statistics: `stats` holds the sums, then the sums of squares, then whether each unit fired
/// (1 once any of its outputs was non-zero), `width` values each. Each unit's batch is summed
/// first, in f32 and in row order, then added: the order `unit_stats.wgsl` sums in. The loop
/// walks the rows as stored, 16 units (one cache line) at a time with their running sums in
/// registers, rather than a unit's column at a time, which would stride through memory. The
/// blocks of units are split over the thread pool as the forward product splits its columns,
/// so each thread mostly reads outputs its own core just wrote.
pub fn accumulate_unit_stats<T: Real>(a: &[T], rows: usize, width: usize, stats: &mut [f32]) {
    const BLOCK: usize = 16;
    let (sums, rest) = stats.split_at_mut(width);
    let (squares, fired) = rest.split_at_mut(width);
    let blocks = sums
        .par_chunks_mut(BLOCK)
        .zip(squares.par_chunks_mut(BLOCK))
        .zip(fired.par_chunks_mut(BLOCK));
    blocks.enumerate().for_each(|(b, ((sums, squares), fired))| {
        let first = b * BLOCK;
        let units = first..first + sums.len();
        let block = BatchSums::<BLOCK>::of(a[..rows * width].chunks_exact(width).map(|row| &row[units.clone()]));
        for (u, ((total, total_square), fired)) in sums.iter_mut().zip(squares).zip(fired).enumerate() {
            *total += block.sum[u];
            *total_square += block.square[u];
            if block.nonzero[u] > 0.0 {
                *fired = 1.0;
            }
        }
    });
}

/// Up to `N` units' sums over a batch's rows, in f32 and in row order.
struct BatchSums<const N: usize> {
    sum: [f32; N],
    square: [f32; N],
    /// How many of each unit's outputs were non-zero (a count, so that the loop stays
    /// arithmetic and vectorizes).
    nonzero: [f32; N],
}

impl<const N: usize> BatchSums<N> {
    fn of<'a, T: Real>(rows: impl Iterator<Item = &'a [T]>) -> Self {
        let mut sums = BatchSums {
            sum: [0.0; N],
            square: [0.0; N],
            nonzero: [0.0; N],
        };
        for values in rows {
            let lanes = sums.sum.iter_mut().zip(&mut sums.square).zip(&mut sums.nonzero);
            for (((sum, square), nonzero), &value) in lanes.zip(values) {
                let v = value.to_f64() as f32;
                *sum += v;
                *square += v * v;
                *nonzero += if v != 0.0 { 1.0 } else { 0.0 };
            }
        }
        sums
    }
}

/// One parameter tensor's sums of squares: of its gradient, of its values, and of its change
/// since `before` (its values before the latest step): `[‖g‖², ‖p‖², ‖p − before‖²]`.
pub fn param_sums<T: Real>(grads: &[T], params: &[T], before: &[T]) -> [f64; 3] {
    let square = |x: T| x.to_f64() * x.to_f64();
    [
        grads.iter().map(|&g| square(g)).sum(),
        params.iter().map(|&p| square(p)).sum(),
        params.iter().zip(before).map(|(&p, &b)| square(p - b)).sum(),
    ]
}

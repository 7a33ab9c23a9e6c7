// The loss, its gradient with respect to the output layer, and the step's summed loss and
// correct count, in one kernel (cpu::ops::loss_and_grad computes the same). Per row r < step.rows:
//   softmax cross-entropy from logits: loss = logsumexp(z) − z[label], dz = (p − y) / rows
//   from probabilities (softmax output): loss = −log(p[label] + 1e-12),
//                                        dz = (p − y) · p[label] / (p[label] + 1e-12) / rows
//   binary cross-entropy with logits (1 unit): loss = max(z, 0) − z·y + log(1 + e^−|z|),
//                                        dz = (σ(z) − y) / rows
// Softmax predictions are the first index of the largest logit; binary ones z > 0.
// With step.weighted, row r's loss and gradient are times its sample's weight,
// weights[order[step.first + r]] (Keras' sample_weight; cpu::ops::loss_and_grad's `weights`).
// Rows past step.rows get dz = 0. One workgroup reduces the batch into metrics[step.slot].
//
// Bounds (compiled without wgpu's runtime checks; tests/canary.rs checks them): the host binds
// logits and dlogits with ≥ batch·units elements, labels with ≥ batch, and metrics with more
// entries than any step's slot (one per step of a submit). Rows r < step.rows ≤ batch read
// logits[r·units + j] for j < units and labels[r]; a label indexes its row only below units
// (labels are checked against the class count when a dataset is read, and clamped here too);
// dlogits[e] is written for e < min(r0 + THREADS, batch)·units; the workgroup arrays are indexed
// by li or row − r0, both < THREADS. Loops are bounded by batch, units and THREADS. Only a
// weighted step reads order[step.first + r] for r < step.rows (the host's order buffer holds the
// epoch's order, with step.first + step.rows ≤ its length) and weights at those indices (each <
// the training samples, the weights' length).

struct LossParams {
    units: u32, // output units per row: classes, or 1 for binary cross-entropy
    batch: u32,
    loss: u32,  // Loss::code: 0 logits CE, 1 probability CE, 2 binary CE
}

const PROB_CE: u32 = 1u;
const BINARY_CE: u32 = 2u;
const PROB_EPS: f32 = 1e-12;

struct StepMetric {
    loss_sum: f32,
    correct: u32,
}

const THREADS: u32 = 256u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: LossParams;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> metrics: array<StepMetric>;
@group(0) @binding(6) var<storage, read> order: array<u32>;
@group(0) @binding(7) var<storage, read> weights: array<f32>;

var<workgroup> loss_part: array<f32, THREADS>;
var<workgroup> hit_part: array<u32, THREADS>;
// What the gradient of each row of the current chunk needs: its largest logit, Σ exp(z − top)
// (softmax losses), and the factor (its weight, times p[label] / (p[label] + ε) from
// probabilities).
var<workgroup> row_top: array<f32, THREADS>;
var<workgroup> row_sum: array<f32, THREADS>;
var<workgroup> row_scale: array<f32, THREADS>;

// Row r's weight in the loss: its sample's on a weighted step, else 1.
fn row_weight(r: u32) -> f32 {
    if step.weighted == 1u {
        return weights[order[step.first + r]];
    }
    return 1.0;
}

// Softmax losses for row r: returns (loss, hit) and keeps what its gradient needs at `slot`.
fn softmax_row(r: u32, label: u32, slot: u32) -> vec2<f32> {
    let base = r * params.units;
    var arg = 0u;
    var top = logits[base];
    for (var j = 1u; j < params.units; j++) {
        let v = logits[base + j];
        if v > top {
            top = v;
            arg = j;
        }
    }
    var sum = 0.0;
    for (var j = 0u; j < params.units; j++) {
        sum += exp(logits[base + j] - top);
    }
    let p_true = exp(logits[base + label] - top) / sum;
    var loss = top + log(sum) - logits[base + label];
    var scale = 1.0;
    if params.loss == PROB_CE {
        loss = -log(p_true + PROB_EPS);
        scale = p_true / (p_true + PROB_EPS);
    }
    row_top[slot] = top;
    row_sum[slot] = sum;
    row_scale[slot] = scale;
    return vec2<f32>(loss, select(0.0, 1.0, arg == label));
}

fn binary_row(r: u32, label: u32) -> vec2<f32> {
    let z = logits[r];
    let loss = max(z, 0.0) - z * f32(label) + log(1.0 + exp(-abs(z)));
    return vec2<f32>(loss, select(0.0, 1.0, (z > 0.0) == (label == 1u)));
}

// dz for logit e, unit j of row r (< step.rows), whose softmax statistics are at `slot`.
fn gradient(e: u32, r: u32, j: u32, slot: u32, inv_rows: f32) -> f32 {
    let label = labels[r];
    if params.loss == BINARY_CE {
        return (1.0 / (1.0 + exp(-logits[e])) - f32(label)) * row_scale[slot] * inv_rows;
    }
    let prob = exp(logits[e] - row_top[slot]) / row_sum[slot];
    return (prob - select(0.0, 1.0, j == label)) * row_scale[slot] * inv_rows;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
    let inv_rows = 1.0 / f32(max(step.rows, 1u));
    var loss = 0.0;
    var hits = 0u;
    // Rows in chunks of THREADS: each invocation first takes one row (its loss, and its softmax
    // statistics into workgroup memory), then the chunk's gradient is written one logit per
    // invocation, so neighbouring invocations store neighbouring values. (One invocation writing
    // its whole row measured 13–16 ms per step on lavapipe against 9–10 ms for this.)
    for (var r0 = 0u; r0 < params.batch; r0 += THREADS) {
        let r = r0 + li;
        if r < step.rows {
            var row: vec2<f32>;
            if params.loss == BINARY_CE {
                row = binary_row(r, labels[r]);
                row_scale[li] = 1.0;
            } else {
                row = softmax_row(r, min(labels[r], params.units - 1u), li);
            }
            let weight = row_weight(r);
            row_scale[li] *= weight;
            loss += weight * row.x;
            hits += u32(row.y);
        }
        workgroupBarrier();
        let end = min(r0 + THREADS, params.batch) * params.units;
        for (var e = r0 * params.units + li; e < end; e += THREADS) {
            let row = e / params.units;
            var g = 0.0; // rows past step.rows (a short last batch's padding) get no gradient
            if row < step.rows {
                g = gradient(e, row, e % params.units, row - r0, inv_rows);
            }
            dlogits[e] = g;
        }
        workgroupBarrier();
    }
    loss_part[li] = loss;
    hit_part[li] = hits;
    workgroupBarrier();
    for (var width = THREADS / 2u; width > 0u; width /= 2u) {
        if li < width {
            loss_part[li] += loss_part[li + width];
            hit_part[li] += hit_part[li + width];
        }
        workgroupBarrier();
    }
    if li == 0u {
        metrics[step.slot] = StepMetric(loss_part[0], hit_part[0]);
    }
}

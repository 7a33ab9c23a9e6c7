// The loss, its gradient with respect to the output layer, and the step's summed loss and
// correct count, in one kernel (cpu::ops::loss_and_grad computes the same). Per row r < step.rows:
//   softmax cross-entropy from logits: loss = logsumexp(z) − z[label], dz = (p − y) / rows
//   from probabilities (softmax output): loss = −log(p[label] + 1e-12),
//                                        dz = (p − y) · p[label] / (p[label] + 1e-12) / rows
//   binary cross-entropy with logits (1 unit): loss = max(z, 0) − z·y + log(1 + e^−|z|),
//                                        dz = (σ(z) − y) / rows
// Softmax predictions are the first index of the largest logit; binary ones z > 0.
// Rows past step.rows get dz = 0. One workgroup reduces the batch into metrics[step.slot].

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

var<workgroup> loss_part: array<f32, THREADS>;
var<workgroup> hit_part: array<u32, THREADS>;

// Softmax losses for row r: returns (loss, hit) and writes the row's gradient.
fn softmax_row(r: u32, label: u32, inv_rows: f32) -> vec2<f32> {
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
    for (var j = 0u; j < params.units; j++) {
        let prob = exp(logits[base + j] - top) / sum;
        dlogits[base + j] = (prob - select(0.0, 1.0, j == label)) * scale * inv_rows;
    }
    return vec2<f32>(loss, select(0.0, 1.0, arg == label));
}

fn binary_row(r: u32, label: u32, inv_rows: f32) -> vec2<f32> {
    let z = logits[r];
    let y = f32(label);
    let loss = max(z, 0.0) - z * y + log(1.0 + exp(-abs(z)));
    dlogits[r] = (1.0 / (1.0 + exp(-z)) - y) * inv_rows;
    return vec2<f32>(loss, select(0.0, 1.0, (z > 0.0) == (label == 1u)));
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
    let inv_rows = 1.0 / f32(max(step.rows, 1u));
    var loss = 0.0;
    var hits = 0u;
    for (var r = li; r < params.batch; r += THREADS) {
        if r >= step.rows {
            for (var j = 0u; j < params.units; j++) {
                dlogits[r * params.units + j] = 0.0;
            }
            continue;
        }
        var row: vec2<f32>;
        if params.loss == BINARY_CE {
            row = binary_row(r, labels[r], inv_rows);
        } else {
            row = softmax_row(r, labels[r], inv_rows);
        }
        loss += row.x;
        hits += u32(row.y);
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

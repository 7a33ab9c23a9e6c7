// Softmax cross-entropy from logits, its gradient, and the step's loss/accuracy, in one kernel.
//
// Per row r < step.rows: loss = logsumexp(z) - z[label] (shifted by the row max), prediction =
// first index of the largest logit, dz = (softmax(z) - onehot(label)) / rows. Rows past
// step.rows get dz = 0. One workgroup reduces the batch and writes metrics[step.slot].

struct Step {
    first: u32, // offset of this step's first index in `order`
    rows: u32,  // samples in this step (≤ batch)
    slot: u32,  // where this step's metrics go
    lr: f32,
    bias_correction1: f32,
    bias_correction2: f32,
    seed: u32,
    index: u32,
}

struct XentParams {
    classes: u32,
    batch: u32,
}

struct StepMetric {
    loss_sum: f32,
    correct: u32,
}

const THREADS: u32 = 256u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: XentParams;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> metrics: array<StepMetric>;

var<workgroup> loss_part: array<f32, THREADS>;
var<workgroup> hit_part: array<u32, THREADS>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
    let classes = params.classes;
    let inv_rows = 1.0 / f32(max(step.rows, 1u));
    var loss = 0.0;
    var hits = 0u;
    for (var r = li; r < params.batch; r += THREADS) {
        let base = r * classes;
        if r >= step.rows {
            for (var j = 0u; j < classes; j++) {
                dlogits[base + j] = 0.0;
            }
            continue;
        }
        var arg = 0u;
        var top = logits[base];
        for (var j = 1u; j < classes; j++) {
            let v = logits[base + j];
            if v > top {
                top = v;
                arg = j;
            }
        }
        var sum = 0.0;
        for (var j = 0u; j < classes; j++) {
            sum += exp(logits[base + j] - top);
        }
        let label = labels[r];
        loss += top + log(sum) - logits[base + label];
        hits += select(0u, 1u, arg == label);
        for (var j = 0u; j < classes; j++) {
            let prob = exp(logits[base + j] - top) / sum;
            dlogits[base + j] = (prob - select(0.0, 1.0, j == label)) * inv_rows;
        }
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

// One optimizer update over every parameter of the model at once (one flat buffer), the same
// arithmetic as cpu::ops::optimizer_step:
//   g = grad + wd·p (not for AdamW)
//   SGD:        p -= lr·g
//   momentum:   v = μv + g; p -= lr·v   (Nesterov: p -= lr·(g + μv))
//   Adam/AdamW: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
//               p -= lr·(m/bc1 / (sqrt(v/bc2) + ε) + [AdamW] wd·p)
// `state` holds velocity, or m then v, each `len` long.
//
// Bounds (compiled without wgpu's runtime checks; tests/canary.rs checks them): every access is
// at i < params.len (weights, grads, state) or len + i (Adam's v); the host binds weights and
// grads with ≥ len elements and state with ≥ len per state slot. The loop is bounded by len.

struct OptimParams {
    len: u32,
    kind: u32, // 0 SGD, 1 momentum, 2 Adam, 3 AdamW (OptimizerKind::code)
    nesterov: u32,
    momentum: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
}

const SGD: u32 = 0u;
const MOMENTUM: u32 = 1u;
const ADAMW: u32 = 3u;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: OptimParams;
@group(0) @binding(2) var<storage, read_write> weights: array<f32>;
@group(0) @binding(3) var<storage, read> grads: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;

fn update(i: u32) {
    let n = params.len;
    let p = weights[i];
    var g = grads[i];
    if params.kind != ADAMW {
        g += params.weight_decay * p;
    }
    switch params.kind {
        case SGD: {
            weights[i] = p - step.lr * g;
        }
        case MOMENTUM: {
            let v = params.momentum * state[i] + g;
            state[i] = v;
            weights[i] = p - step.lr * select(v, g + params.momentum * v, params.nesterov != 0u);
        }
        default: {
            let m = params.beta1 * state[i] + (1.0 - params.beta1) * g;
            let v = params.beta2 * state[n + i] + (1.0 - params.beta2) * g * g;
            state[i] = m;
            state[n + i] = v;
            let m_hat = m / step.bias_correction1;
            let v_hat = v / step.bias_correction2;
            let decay = select(0.0, params.weight_decay * p, params.kind == ADAMW);
            weights[i] = p - step.lr * (m_hat / (sqrt(v_hat) + params.eps) + decay);
        }
    }
}

// A grid-stride loop, so a model larger than 65535 workgroups × 256 still updates fully.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let stride = groups.x * 256u;
    for (var i = gid.x; i < params.len; i += stride) {
        update(i);
    }
}

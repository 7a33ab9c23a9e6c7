// One optimizer update over every parameter of the model at once (one flat buffer), the same
// arithmetic as cpu::ops::optimizer_step:
//   g = grad + wd·p (not for AdamW)
//   SGD:        p -= lr·g
//   momentum:   v = μv + g; p -= lr·v   (Nesterov: p -= lr·(g + μv))
//   Adam/AdamW: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
//               p -= lr·(m/bc1 / (sqrt(v/bc2) + ε) + [AdamW] wd·p)
// Each invocation updates four consecutive parameters as one vec4: a quarter of the memory
// instructions of one float each, for a kernel that only moves memory. `state` holds velocity,
// or m then v, each in a slot of `slot4` vec4s (len rounded up to whole vec4s).
//
// Bounds (compiled without wgpu's runtime checks; tests/canary.rs checks them): vec4 i is read
// for i < ceil(len / 4) from weights and grads (the host binds both rounded up to whole vec4s,
// inside their buffers) and from state at i and slot4 + i (bound with ≥ slot4 per slot);
// weights are written only at elements < len, so the last vec4's padding is left as it was. The
// loop is bounded by ceil(len / 4).

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
@group(0) @binding(2) var<storage, read_write> weights: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> state: array<vec4<f32>>;

// The updated parameters of vec4 i (and its state, written here).
fn update(i: u32) -> vec4<f32> {
    let slot4 = (params.len + 3u) / 4u;
    let p = weights[i];
    var g = grads[i];
    if params.kind != ADAMW {
        g += params.weight_decay * p;
    }
    switch params.kind {
        case SGD: {
            return p - step.lr * g;
        }
        case MOMENTUM: {
            let v = params.momentum * state[i] + g;
            state[i] = v;
            return p - step.lr * select(v, g + params.momentum * v, params.nesterov != 0u);
        }
        default: {
            let m = params.beta1 * state[i] + (1.0 - params.beta1) * g;
            let v = params.beta2 * state[slot4 + i] + (1.0 - params.beta2) * g * g;
            state[i] = m;
            state[slot4 + i] = v;
            let m_hat = m / step.bias_correction1;
            let v_hat = v / step.bias_correction2;
            let decay = select(vec4(0.0), params.weight_decay * p, params.kind == ADAMW);
            return p - step.lr * (m_hat / (sqrt(v_hat) + params.eps) + decay);
        }
    }
}

// A grid-stride loop, so a model larger than 65535 workgroups × 256 vec4s still updates fully.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let stride = groups.x * 256u;
    let vec4s = (params.len + 3u) / 4u;
    for (var i = gid.x; i < vec4s; i += stride) {
        let updated = update(i);
        if 4u * i + 4u <= params.len {
            weights[i] = updated;
        } else {
            // The last, partial vec4: its elements past len belong to no parameter.
            for (var j = 0u; j < 4u; j++) {
                if 4u * i + j < params.len {
                    weights[i][j] = updated[j];
                }
            }
        }
    }
}

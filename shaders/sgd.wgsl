// Plain SGD over every parameter of the model at once (one flat buffer): p -= lr * g.

struct Step {
    first: u32,
    rows: u32,
    slot: u32,
    lr: f32,
}

struct SgdParams {
    len: u32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: SgdParams;
@group(0) @binding(2) var<storage, read_write> weights: array<f32>;
@group(0) @binding(3) var<storage, read> grads: array<f32>;

// A grid-stride loop, so a model larger than 65535 workgroups × 256 still updates fully.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let stride = groups.x * 256u;
    for (var i = gid.x; i < params.len; i += stride) {
        weights[i] -= step.lr * grads[i];
    }
}

// Batch gather: copies the samples a step names (through the shuffled order) from the resident
// dataset into the input batch, converting to f32 and applying `x * scale + shift`.
// Rows past `step.rows` (the tail of a short last batch) are zeroed, so they add nothing.

struct GatherParams {
    dim: u32,
    batch: u32,
    scale: f32,
    shift: f32,
}

// true: features are u8 packed four to a u32; false: features are f32 (stored as their bits).
override BYTE_FEATURES: bool = true;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: GatherParams;
@group(0) @binding(2) var<storage, read> features: array<u32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read> order: array<u32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> batch_labels: array<u32>;

fn feature(e: u32) -> f32 {
    if BYTE_FEATURES {
        return f32((features[e / 4u] >> ((e % 4u) * 8u)) & 0xffu);
    }
    return bitcast<f32>(features[e]);
}

// One invocation per (feature, row): x over features, y over batch rows.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let r = gid.y;
    if c >= params.dim || r >= params.batch {
        return;
    }
    var v = 0.0;
    var label = 0u;
    if r < step.rows {
        let sample = order[step.first + r];
        v = feature(sample * params.dim + c) * params.scale + params.shift;
        label = labels[sample];
    }
    x[r * params.dim + c] = v;
    if c == 0u {
        batch_labels[r] = label;
    }
}

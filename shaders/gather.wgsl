// Batch gather: copies the samples a step names (through the shuffled order) from the resident
// dataset into the input batch, converting to f32 and applying `x * scale + shift`.
// Rows past `step.rows` (the tail of a short last batch) are zeroed, so they add nothing.
// Each invocation writes four consecutive features of a row: when the row length is a multiple
// of 4, every row starts on a whole word of bytes and a whole vec4 of `x`, so that is one load
// (four for f32 features) and one vec4 store; otherwise element by element.
// A dataset larger than one storage binding is split into up to four chunks of
// `samples_per_chunk` samples, each bound on its own.

struct GatherParams {
    dim: u32,
    batch: u32,
    scale: f32,
    shift: f32,
    samples_per_chunk: u32,
}

// true: features are u8 packed four to a u32; false: features are f32 (stored as their bits).
override BYTE_FEATURES: bool = true;

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: GatherParams;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read_write> x: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> batch_labels: array<u32>;
@group(0) @binding(6) var<storage, read> chunk0: array<u32>;
@group(0) @binding(7) var<storage, read> chunk1: array<u32>;
@group(0) @binding(8) var<storage, read> chunk2: array<u32>;
@group(0) @binding(9) var<storage, read> chunk3: array<u32>;

fn word(chunk: u32, i: u32) -> u32 {
    switch chunk {
        case 0u: {
            return chunk0[i];
        }
        case 1u: {
            return chunk1[i];
        }
        case 2u: {
            return chunk2[i];
        }
        default: {
            return chunk3[i];
        }
    }
}

// Feature c of `sample`.
fn feature(sample: u32, c: u32) -> f32 {
    let chunk = sample / params.samples_per_chunk;
    let e = (sample % params.samples_per_chunk) * params.dim + c;
    if BYTE_FEATURES {
        return f32((word(chunk, e / 4u) >> ((e % 4u) * 8u)) & 0xffu);
    }
    return bitcast<f32>(word(chunk, e));
}

// Features c..c+3 of `sample`, for a row length that is a multiple of 4 (c is one too).
fn four_features(sample: u32, c: u32) -> vec4<f32> {
    let chunk = sample / params.samples_per_chunk;
    let e = (sample % params.samples_per_chunk) * params.dim + c;
    if BYTE_FEATURES {
        let w = word(chunk, e / 4u);
        return vec4<f32>(vec4<u32>(w, w >> 8u, w >> 16u, w >> 24u) & vec4(0xffu));
    }
    return bitcast<vec4<f32>>(vec4(word(chunk, e), word(chunk, e + 1u), word(chunk, e + 2u), word(chunk, e + 3u)));
}

// One invocation per four features of a row: x over features, y over batch rows.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = 4u * gid.x;
    let r = gid.y;
    if c >= params.dim || r >= params.batch {
        return;
    }
    let live = r < step.rows;
    var sample = 0u;
    if live {
        sample = order[step.first + r];
    }
    let e = r * params.dim + c;
    if params.dim % 4u == 0u {
        var v = vec4<f32>();
        if live {
            v = four_features(sample, c) * params.scale + params.shift;
        }
        x[e / 4u] = v;
    } else {
        for (var j = 0u; j < 4u && c + j < params.dim; j++) {
            var v = 0.0;
            if live {
                v = feature(sample, c + j) * params.scale + params.shift;
            }
            x[(e + j) / 4u][(e + j) % 4u] = v;
        }
    }
    if c == 0u {
        batch_labels[r] = select(0u, labels[sample], live);
    }
}

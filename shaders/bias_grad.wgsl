// Bias gradient: db[j] = sum over the batch rows of dz[r, j]. One invocation per column.

struct BiasGradParams {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<uniform> params: BiasGradParams;
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    if j >= params.cols {
        return;
    }
    var sum = 0.0;
    for (var r = 0u; r < params.rows; r++) {
        sum += dz[r * params.cols + j];
    }
    db[j] = sum;
}

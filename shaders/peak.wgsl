// The device's own limits, measured for `gpu-mlp bench`'s roofline (src/bench/roofline.rs):
// `fma_chains` runs eight independent vec4 FMA chains per invocation, enough in flight to hide
// the FMA latency on any GPU, and writes their sum so that none is optimized away; `copy` streams
// one buffer into another with vec4 loads and stores, the bandwidth a kernel can reach.
// Neither reads or writes past `params.len` elements (`src` and `dst` hold at least that many).

struct PeakParams {
    iters: u32,
    len: u32,
}

@group(0) @binding(0) var<uniform> params: PeakParams;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn fma_chains(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if i >= params.len {
        return;
    }
    // Multiplying by just under 1 and adding a little keeps every value finite and normal.
    let b = vec4<f32>(0.9999999);
    let c = vec4<f32>(0.0000001);
    var a0 = src[i];
    var a1 = a0 + 1.0;
    var a2 = a0 + 2.0;
    var a3 = a0 + 3.0;
    var a4 = a0 + 4.0;
    var a5 = a0 + 5.0;
    var a6 = a0 + 6.0;
    var a7 = a0 + 7.0;
    for (var t = 0u; t < params.iters; t++) {
        a0 = fma(a0, b, c);
        a1 = fma(a1, b, c);
        a2 = fma(a2, b, c);
        a3 = fma(a3, b, c);
        a4 = fma(a4, b, c);
        a5 = fma(a5, b, c);
        a6 = fma(a6, b, c);
        a7 = fma(a7, b, c);
    }
    dst[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

@compute @workgroup_size(WORKGROUP)
fn copy(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if i < params.len {
        dst[i] = src[i];
    }
}

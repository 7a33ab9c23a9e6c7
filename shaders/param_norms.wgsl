// For each segment of the flat parameter buffer (a layer's weight or its bias): the sums of
// squares of the gradient, of the parameters, and of their change since `before` (a copy taken
// just before the latest step), i.e. ‖g‖², ‖p‖², ‖Δp‖². One workgroup per segment: a strided
// partial sum per thread, then a tree reduction in workgroup memory. cpu::ops::param_sums is
// its twin (summed in another order, in f64).

const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<storage, read> segments: array<vec2<u32>>; // (first element, length)
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> before: array<f32>;
@group(0) @binding(4) var<storage, read_write> sums: array<f32>; // 3 per segment

var<workgroup> partial: array<vec3<f32>, WORKGROUP>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let segment = segments[wid.x];
    var acc = vec3<f32>(0.0);
    for (var i = lid.x; i < segment.y; i += WORKGROUP) {
        let at = segment.x + i;
        let p = weights[at];
        let g = grads[at];
        let d = p - before[at];
        acc += vec3<f32>(g * g, p * p, d * d);
    }
    partial[lid.x] = acc;
    workgroupBarrier();
    for (var half = WORKGROUP / 2u; half > 0u; half >>= 1u) {
        if lid.x < half {
            partial[lid.x] += partial[lid.x + half];
        }
        workgroupBarrier();
    }
    if lid.x == 0u {
        let total = partial[0];
        sums[3u * wid.x] = total.x;
        sums[3u * wid.x + 1u] = total.y;
        sums[3u * wid.x + 2u] = total.z;
    }
}

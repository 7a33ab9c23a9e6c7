// Tiled, register-blocked matrix product C[m×n] = A[m×k] · B[k×n] with a fused epilogue.
//
// A and B may each be stored transposed, so the forward product (X · Wᵀ) and both backward
// products (dZᵀ · X and dZ · W) use this one kernel without materializing a transpose.
// Each 16×16 workgroup computes a TILE_M×TILE_N block of C, each invocation a 4×4 sub-block
// (rows ly + 16i, columns lx + 16j, so neighbouring invocations write neighbouring addresses).
// A and B tiles of depth TILE_K are staged in workgroup memory. Out-of-range elements load as 0
// and are never stored, so any shape works.

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const WG_X: u32 = 16u; // invocations along n
const WG_Y: u32 = 16u; // invocations along m
const PER_M: u32 = 4u; // TILE_M / WG_Y
const PER_N: u32 = 4u; // TILE_N / WG_X
const THREADS: u32 = 256u; // WG_X * WG_Y

// Epilogues.
const EPILOGUE_NONE: u32 = 0u;
const EPILOGUE_BIAS: u32 = 1u;      // c = acc + bias[col]
const EPILOGUE_BIAS_RELU: u32 = 2u; // c = max(acc + bias[col], 0)
const EPILOGUE_RELU_MASK: u32 = 3u; // c = acc where aux[row, col] > 0, else 0 (ReLU backward)

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    a_transposed: u32, // A stored as [k, m]
    b_transposed: u32, // B stored as [n, k]
    epilogue: u32,
}

@group(0) @binding(0) var<uniform> p: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> aux: array<f32>;

var<workgroup> a_tile: array<f32, 1024>; // [TILE_K][TILE_M]
var<workgroup> b_tile: array<f32, 1024>; // [TILE_K][TILE_N]

// Logical A[row, col], 0 outside the matrix.
fn load_a(row: u32, col: u32) -> f32 {
    if row >= p.m || col >= p.k {
        return 0.0;
    }
    if p.a_transposed != 0u {
        return a[col * p.m + row];
    }
    return a[row * p.k + col];
}

// Logical B[row, col], 0 outside the matrix.
fn load_b(row: u32, col: u32) -> f32 {
    if row >= p.k || col >= p.n {
        return 0.0;
    }
    if p.b_transposed != 0u {
        return b[col * p.k + row];
    }
    return b[row * p.n + col];
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wg.y * TILE_M;
    let col0 = wg.x * TILE_N;
    var acc: array<f32, 16>; // [PER_M][PER_N], zero-initialized

    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        // Each invocation stages TILE_M*TILE_K/THREADS = 4 elements of each tile. The element
        // order follows the contiguous direction of each operand's storage.
        for (var i = 0u; i < TILE_M * TILE_K / THREADS; i++) {
            let e = li + i * THREADS;
            var kk: u32;
            var mm: u32;
            if p.a_transposed != 0u {
                mm = e % TILE_M;
                kk = e / TILE_M;
            } else {
                kk = e % TILE_K;
                mm = e / TILE_K;
            }
            a_tile[kk * TILE_M + mm] = load_a(row0 + mm, k0 + kk);
        }
        for (var i = 0u; i < TILE_N * TILE_K / THREADS; i++) {
            let e = li + i * THREADS;
            var kk: u32;
            var nn: u32;
            if p.b_transposed != 0u {
                kk = e % TILE_K;
                nn = e / TILE_K;
            } else {
                nn = e % TILE_N;
                kk = e / TILE_N;
            }
            b_tile[kk * TILE_N + nn] = load_b(k0 + kk, col0 + nn);
        }
        workgroupBarrier();

        for (var kk = 0u; kk < TILE_K; kk++) {
            var a_reg: array<f32, 4>;
            var b_reg: array<f32, 4>;
            for (var i = 0u; i < PER_M; i++) {
                a_reg[i] = a_tile[kk * TILE_M + lid.y + i * WG_Y];
            }
            for (var j = 0u; j < PER_N; j++) {
                b_reg[j] = b_tile[kk * TILE_N + lid.x + j * WG_X];
            }
            for (var i = 0u; i < PER_M; i++) {
                for (var j = 0u; j < PER_N; j++) {
                    acc[i * PER_N + j] = fma(a_reg[i], b_reg[j], acc[i * PER_N + j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < PER_M; i++) {
        let row = row0 + lid.y + i * WG_Y;
        for (var j = 0u; j < PER_N; j++) {
            let col = col0 + lid.x + j * WG_X;
            if row < p.m && col < p.n {
                var v = acc[i * PER_N + j];
                switch p.epilogue {
                    case EPILOGUE_BIAS: {
                        v += bias[col];
                    }
                    case EPILOGUE_BIAS_RELU: {
                        v = max(v + bias[col], 0.0);
                    }
                    case EPILOGUE_RELU_MASK: {
                        if aux[row * p.n + col] <= 0.0 {
                            v = 0.0;
                        }
                    }
                    default: {}
                }
                c[row * p.n + col] = v;
            }
        }
    }
}

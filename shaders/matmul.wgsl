// Tiled, register-blocked matrix product C[m×n] = A[m×k] · B[k×n] with a fused epilogue.
//
// A and B may each be stored transposed, so the forward product (X · Wᵀ) and both backward
// products (dZᵀ · X and dZ · W) use this one kernel without materializing a transpose.
// Each WG_X×WG_Y workgroup computes a TILE_M×TILE_N block of C, each invocation a 4×4 block
// held as four vec4 rows: per step of k it reads one vec4 of A and one of B from workgroup memory
// and does four vec4 FMAs, all with fixed register indices (no loop to unroll, no indexed array).
// A and B tiles of depth TILE_K are staged in workgroup memory, as vec4 loads along the operand's
// contiguous dimension when its length is a multiple of 4 (the host decides), else as scalars.
// Out-of-range elements load as 0 and are never stored, so any shape works.
//
// With `row_sums` set, the workgroups of the first column tile also write Σ_k A[row, k] to
// `sums[row]`: for the weight gradient dW = dZᵀ · X this is the bias gradient Σ_batch dZ, so
// the backward pass needs no separate reduction.

// The tile shape is set per pipeline (the host's `TileShape`): a square tile for most products,
// and narrow ones for the skinny products of a 10-class output layer (n or m ≤ 32), which would
// leave most of a square tile idle.
override WG_X: u32 = 16u; // invocations along n
override WG_Y: u32 = 16u; // invocations along m
override TILE_K: u32 = 32u;
override TILE_M: u32 = WG_Y * 4u;
override TILE_N: u32 = WG_X * 4u;
override THREADS: u32 = WG_X * WG_Y;
// Workgroup memory per staged operand, in vec4s: TILE_K · TILE_M / 4 and TILE_K · TILE_N / 4
// must fit (16 KiB for both, WebGPU's default limit).
const TILE_VEC4S: u32 = 512u;

// Epilogues.
const EPILOGUE_NONE: u32 = 0u;
const EPILOGUE_BIAS: u32 = 1u;     // c = acc + bias[col]
const EPILOGUE_BIAS_ACT: u32 = 2u; // c = act(acc + bias[col])
const EPILOGUE_ACT_GRAD: u32 = 3u; // c = acc * act'(z), from the activation's output aux[row, col]

// Activations (the host's `Activation::code`).
const ACT_RELU: u32 = 0u;
const ACT_TANH: u32 = 1u;
const ACT_SIGMOID: u32 = 2u;

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    a_transposed: u32, // A stored as [k, m]
    b_transposed: u32, // B stored as [n, k]
    epilogue: u32,
    a_vec4: u32,       // A's contiguous dimension is a multiple of 4: stage it with vec4 loads
    b_vec4: u32,
    row_sums: u32,     // also write Σ_k A[row, k] to sums[row]
    activation: u32,   // for EPILOGUE_BIAS_ACT and EPILOGUE_ACT_GRAD
    layer: u32,        // hidden layer whose output the epilogue's dropout mask covers
}

@group(0) @binding(0) var<uniform> p: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> aux: array<f32>;
@group(0) @binding(6) var<storage, read_write> sums: array<f32>;
// The same regions as `a` and `b`, viewed as vec4 for the vectorized staging.
@group(0) @binding(7) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> b4: array<vec4<f32>>;
// The step's entry of the step table (dropout probability and the mask's counters).
@group(0) @binding(9) var<uniform> step: Step;

// [TILE_K][TILE_M], as vec4s of four consecutive rows (columns for b_tile).
var<workgroup> a_tile: array<vec4<f32>, TILE_VEC4S>;
var<workgroup> b_tile: array<vec4<f32>, TILE_VEC4S>;

fn activate(z: f32) -> f32 {
    switch p.activation {
        case ACT_TANH: {
            return tanh(z);
        }
        case ACT_SIGMOID: {
            return 1.0 / (1.0 + exp(-z));
        }
        default: {
            return max(z, 0.0);
        }
    }
}

// The activation's derivative, written in terms of its output a.
fn activation_slope(a: f32) -> f32 {
    switch p.activation {
        case ACT_TANH: {
            return 1.0 - a * a;
        }
        case ACT_SIGMOID: {
            return a * (1.0 - a);
        }
        default: {
            return select(0.0, 1.0, a > 0.0);
        }
    }
}

// "lowbias32" integer hash, exactly crate::dropout's `mix`.
fn mix(v: u32) -> u32 {
    var x = v;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

// Whether element `index` of hidden layer p.layer's output survives dropout this step:
// crate::dropout::Dropout::keep.
fn keep(index: u32) -> bool {
    let h = mix(mix(mix(step.seed ^ (p.layer * 0x9e3779b9u)) ^ step.index) ^ index);
    return f32(h >> 8u) * (1.0 / 16777216.0) >= step.dropout;
}

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

// Stages A[row0.., k0..] into a_tile ([TILE_K][TILE_M]); li is the invocation index.
fn stage_a(row0: u32, k0: u32, li: u32) {
    if p.a_vec4 != 0u {
        for (var e = li; e < TILE_M * TILE_K / 4u; e += THREADS) {
            var kk: u32;
            var mm: u32;
            var v = vec4<f32>();
            if p.a_transposed != 0u {
                // Stored [k, m]: four consecutive rows m of one k.
                kk = e / (TILE_M / 4u);
                mm = (e % (TILE_M / 4u)) * 4u;
                if row0 + mm < p.m && k0 + kk < p.k {
                    v = a4[((k0 + kk) * p.m + row0 + mm) / 4u];
                }
                a_tile[(kk * TILE_M + mm) / 4u] = v;
            } else {
                // Stored [m, k]: four consecutive k of one row.
                mm = e / (TILE_K / 4u);
                kk = (e % (TILE_K / 4u)) * 4u;
                if row0 + mm < p.m && k0 + kk < p.k {
                    v = a4[((row0 + mm) * p.k + k0 + kk) / 4u];
                }
                for (var j = 0u; j < 4u; j++) {
                    a_tile[((kk + j) * TILE_M + mm) / 4u][mm % 4u] = v[j];
                }
            }
        }
        return;
    }
    // Scalars, in the order that follows the storage's contiguous direction.
    for (var e = li; e < TILE_M * TILE_K; e += THREADS) {
        var kk: u32;
        var mm: u32;
        if p.a_transposed != 0u {
            mm = e % TILE_M;
            kk = e / TILE_M;
        } else {
            kk = e % TILE_K;
            mm = e / TILE_K;
        }
        a_tile[(kk * TILE_M + mm) / 4u][mm % 4u] = load_a(row0 + mm, k0 + kk);
    }
}

// Stages B[k0.., col0..] into b_tile ([TILE_K][TILE_N]).
fn stage_b(col0: u32, k0: u32, li: u32) {
    if p.b_vec4 != 0u {
        for (var e = li; e < TILE_N * TILE_K / 4u; e += THREADS) {
            var kk: u32;
            var nn: u32;
            var v = vec4<f32>();
            if p.b_transposed != 0u {
                // Stored [n, k]: four consecutive k of one column.
                nn = e / (TILE_K / 4u);
                kk = (e % (TILE_K / 4u)) * 4u;
                if col0 + nn < p.n && k0 + kk < p.k {
                    v = b4[((col0 + nn) * p.k + k0 + kk) / 4u];
                }
                for (var j = 0u; j < 4u; j++) {
                    b_tile[((kk + j) * TILE_N + nn) / 4u][nn % 4u] = v[j];
                }
            } else {
                // Stored [k, n]: four consecutive columns of one k.
                kk = e / (TILE_N / 4u);
                nn = (e % (TILE_N / 4u)) * 4u;
                if col0 + nn < p.n && k0 + kk < p.k {
                    v = b4[((k0 + kk) * p.n + col0 + nn) / 4u];
                }
                b_tile[(kk * TILE_N + nn) / 4u] = v;
            }
        }
        return;
    }
    for (var e = li; e < TILE_N * TILE_K; e += THREADS) {
        var kk: u32;
        var nn: u32;
        if p.b_transposed != 0u {
            kk = e % TILE_K;
            nn = e / TILE_K;
        } else {
            nn = e % TILE_N;
            kk = e / TILE_N;
        }
        b_tile[(kk * TILE_N + nn) / 4u][nn % 4u] = load_b(k0 + kk, col0 + nn);
    }
}

// The epilogue for C[row, col0 + j], j < 4: stores what is in range.
fn store_row(row: u32, col0: u32, acc: vec4<f32>) {
    if row >= p.m {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if col < p.n {
            var v = acc[j];
            switch p.epilogue {
                case EPILOGUE_BIAS: {
                    v += bias[col];
                }
                case EPILOGUE_BIAS_ACT: {
                    v = activate(v + bias[col]);
                    if step.dropout > 0.0 {
                        // Inverted dropout: kept units scaled by 1 / (1 − p).
                        v = select(0.0, v * (1.0 / (1.0 - step.dropout)), keep(row * p.n + col));
                    }
                }
                case EPILOGUE_ACT_GRAD: {
                    let a = aux[row * p.n + col];
                    if step.dropout > 0.0 {
                        // a is the dropped output: a kept unit's activation was a · (1 − p).
                        let kept = keep(row * p.n + col);
                        let slope = activation_slope(a * (1.0 - step.dropout));
                        v = select(0.0, v * (1.0 / (1.0 - step.dropout)) * slope, kept);
                    } else {
                        v *= activation_slope(a);
                    }
                }
                default: {}
            }
            c[row * p.n + col] = v;
        }
    }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wg.y * TILE_M;
    let col0 = wg.x * TILE_N;
    // Uniform across the workgroup, so the barriers below stay in uniform control flow.
    let do_sums = p.row_sums != 0u && wg.x == 0u;
    // This invocation's block: rows row0 + 4·ly + i (acc_i), columns col0 + 4·lx + j (component j).
    var acc0 = vec4<f32>();
    var acc1 = vec4<f32>();
    var acc2 = vec4<f32>();
    var acc3 = vec4<f32>();
    var row_part = vec4<f32>(); // this invocation's share of its rows' sums (k ≡ lx mod WG_X)

    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        stage_a(row0, k0, li);
        stage_b(col0, k0, li);
        workgroupBarrier();

        if do_sums {
            for (var kk = lid.x; kk < TILE_K; kk += WG_X) {
                row_part += a_tile[kk * (TILE_M / 4u) + lid.y];
            }
        }
        for (var kk = 0u; kk < TILE_K; kk++) {
            let a_rows = a_tile[kk * (TILE_M / 4u) + lid.y];
            let b_cols = b_tile[kk * (TILE_N / 4u) + lid.x];
            acc0 = fma(vec4(a_rows.x), b_cols, acc0);
            acc1 = fma(vec4(a_rows.y), b_cols, acc1);
            acc2 = fma(vec4(a_rows.z), b_cols, acc2);
            acc3 = fma(vec4(a_rows.w), b_cols, acc3);
        }
        workgroupBarrier();
    }

    if do_sums {
        // Reduce the WG_X partial sums of each row through a_tile, which is free now.
        a_tile[lid.x * (TILE_M / 4u) + lid.y] = row_part;
        workgroupBarrier();
        if lid.x == 0u {
            var total = vec4<f32>();
            for (var x = 0u; x < WG_X; x++) {
                total += a_tile[x * (TILE_M / 4u) + lid.y];
            }
            for (var i = 0u; i < 4u; i++) {
                let row = row0 + 4u * lid.y + i;
                if row < p.m {
                    sums[row] = total[i];
                }
            }
        }
    }

    let row = row0 + 4u * lid.y;
    let col = col0 + 4u * lid.x;
    store_row(row, col, acc0);
    store_row(row + 1u, col, acc1);
    store_row(row + 2u, col, acc2);
    store_row(row + 3u, col, acc3);
}

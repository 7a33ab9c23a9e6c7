// Tiled, register-blocked matrix product C[m×n] = A[m×k] · B[k×n] with a fused epilogue.
//
// A and B may each be stored transposed, so the forward product (X · Wᵀ) and both backward
// products (dZᵀ · X and dZ · W) use this one kernel without materializing a transpose.
// Each WG_X×WG_Y workgroup computes a TILE_M×TILE_N block of C, each invocation an 8×8 block
// held as sixteen vec4s (four 4×4 quarters, one in each half of the tile's rows and columns):
// per step of k it reads two vec4s of A and two of B from workgroup memory and does sixteen vec4
// FMAs, all with fixed register indices (no loop to unroll, no indexed array). Eight outputs a
// side halve the workgroup-memory reads per FMA against 4×4 blocks, the common register tile of
// fp32 GEMMs on GPUs; the halves (rather than 8 adjacent rows and columns) keep neighbouring
// invocations on neighbouring vec4s, so their loads do not collide in memory banks.
// A and B tiles of depth TILE_K are staged in workgroup memory, as vec4 loads along the operand's
// contiguous dimension when its length is a multiple of 4 (the host decides), else as scalars.
// Out-of-range elements load as 0 and are never stored, so any shape works.
//
// With `row_sums` set, the workgroups of the first column tile also write Σ_k A[row, k] to
// `sums[row]`: for the weight gradient dW = dZᵀ · X this is the bias gradient Σ_batch dZ, so
// the backward pass needs no separate reduction.
//
// Split k: a product whose m×n has too few tiles to fill the GPU (the host's `ProductPlan`)
// is cut into `slices` ranges of k, one per workgroup layer (workgroup_id.z). Each writes its
// raw partial block to `partials` ([slices][m×n], then the partial row sums [slices][m]); the
// `reduce` entry point, dispatched next with the same bind group, adds the slices in order
// (deterministic) and applies the epilogue. Unsplit (slices = 1), `main` applies it directly.
//
// Bounds (this module is compiled without wgpu's runtime checks; tests/canary.rs proves these
// with guard values around every output):
// - a/a4, b/b4: read only for x < x_len (m or n) and k < k_end ≤ p.k, at [x, k] or [k, x]; the
//   host binds ≥ m·k and ≥ k·n elements (vec4 views rounded up inside the buffer), and stages
//   vec4s only where the contiguous length is a multiple of 4, so a vec4 never straddles it.
// - a_tile/b_tile: index (kk·tile_x + xx) / 4 < TILE_K·tile_x / 4 ≤ TILE_VEC4S (asserted by the
//   host for every shape); the row-sum reduction uses WG_X·TILE_M/4 ≤ TILE_VEC4S entries.
// - c: [row·n + col] only for row < m, col < n; bound with ≥ m·n elements.
// - operand: [col] (bias, bound with ≥ n) or [row·n + col] (activation output, ≥ m·n), by the
//   epilogue that binds it; sums: [row], row < m, bound with ≥ m.
// - partials: [s·m·n + row·n + col] and [slices·m·n + s·m + row] for s < slices, row < m,
//   col < n: bound with ≥ slices·(m·n + m) when slices > 1.
// Every loop's trip count is bounded by p.k, TILE_K, tile sizes or p.slices.

// The tile shape is set per pipeline (the host's `TileShape`): a square tile for most products,
// and narrow ones for the skinny products of a 10-class output layer (n or m ≤ 32), which would
// leave most of a square tile idle.
override WG_X: u32 = 8u; // invocations along n
override WG_Y: u32 = 8u; // invocations along m
override TILE_K: u32 = 32u;
override TILE_M: u32 = WG_Y * 8u;
override TILE_N: u32 = WG_X * 8u;
override THREADS: u32 = WG_X * WG_Y;
// Workgroup memory per staged operand, in vec4s: TILE_K · TILE_M / 4 and TILE_K · TILE_N / 4
// must fit (16 KiB for both, WebGPU's default limit).
const TILE_VEC4S: u32 = 512u;

// Epilogues.
const EPILOGUE_NONE: u32 = 0u;
const EPILOGUE_BIAS: u32 = 1u;     // c = acc + bias[col]
const EPILOGUE_BIAS_ACT: u32 = 2u; // c = act(acc + bias[col])
const EPILOGUE_ACT_GRAD: u32 = 3u; // c = acc * act'(z), from the activation's output operand[row, col]

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
    k_slice: u32,      // k per slice (a multiple of TILE_K; p.k when unsplit)
    slices: u32,       // workgroup layers along z; > 1: partials, then `reduce`
}

@group(0) @binding(0) var<uniform> p: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
// The epilogue's operand: the bias [n] (EPILOGUE_BIAS, EPILOGUE_BIAS_ACT) or the activation's
// output [m, n] (EPILOGUE_ACT_GRAD); one binding, as no epilogue reads both.
@group(0) @binding(4) var<storage, read> operand: array<f32>;
@group(0) @binding(5) var<storage, read_write> sums: array<f32>;
// The same regions as `a` and `b`, viewed as vec4 for the vectorized staging.
@group(0) @binding(6) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> b4: array<vec4<f32>>;
// The step's entry of the step table (dropout probability and the mask's counters).
@group(0) @binding(8) var<uniform> step: Step;
// Split k: each slice's raw block, then its partial row sums (see the top of this file).
@group(0) @binding(9) var<storage, read_write> partials: array<f32>;

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

// Staging. Seen as an [x, k] matrix (A with x = its rows, B through Bᵀ with x = its columns),
// each operand is stored either k-contiguous ([x, k]: A as is, B transposed) or x-contiguous
// ([k, x]: A transposed, B as is), and is staged into its tile ([TILE_K][tile x], as vec4s of
// four consecutive x) the same way. Elements outside the matrix are staged as 0.
const OPERAND_A: u32 = 0u;
const OPERAND_B: u32 = 1u;

fn source(operand: u32, i: u32) -> f32 {
    if operand == OPERAND_A {
        return a[i];
    }
    return b[i];
}

fn source4(operand: u32, i: u32) -> vec4<f32> {
    if operand == OPERAND_A {
        return a4[i];
    }
    return b4[i];
}

fn set_tile(operand: u32, i: u32, v: vec4<f32>) {
    if operand == OPERAND_A {
        a_tile[i] = v;
    } else {
        b_tile[i] = v;
    }
}

fn set_tile_lane(operand: u32, i: u32, lane: u32, v: f32) {
    if operand == OPERAND_A {
        a_tile[i][lane] = v;
    } else {
        b_tile[i][lane] = v;
    }
}

// Stages the operand's block [x0, x0 + tile_x) × [k0, k0 + TILE_K), k < k_end; x_len is its
// extent along x (m or n). With `vec4_loads` (x_len or k a multiple of 4, as the contiguous
// direction needs; k_end is then one too), each invocation loads whole vec4s; li is the
// invocation index.
fn stage(operand: u32, x0: u32, x_len: u32, tile_x: u32, x_contiguous: bool, vec4_loads: bool, k0: u32, k_end: u32, li: u32) {
    if vec4_loads && x_contiguous {
        // Four consecutive x of one k: one vec4 of the tile.
        for (var e = li; e < tile_x * TILE_K / 4u; e += THREADS) {
            let kk = e / (tile_x / 4u);
            let xx = (e % (tile_x / 4u)) * 4u;
            var v = vec4<f32>();
            if x0 + xx < x_len && k0 + kk < k_end {
                v = source4(operand, ((k0 + kk) * x_len + x0 + xx) / 4u);
            }
            set_tile(operand, (kk * tile_x + xx) / 4u, v);
        }
        return;
    }
    if vec4_loads {
        // A 4×4 block: four consecutive k of four consecutive x, read as a vec4 along k from
        // each of the four x, transposed in registers and written as four whole vec4s of the
        // tile (one per k), instead of sixteen single lanes.
        for (var e = li; e < tile_x * TILE_K / 16u; e += THREADS) {
            let xx = (e / (TILE_K / 4u)) * 4u;
            let kk = (e % (TILE_K / 4u)) * 4u;
            var r0 = vec4<f32>();
            var r1 = vec4<f32>();
            var r2 = vec4<f32>();
            var r3 = vec4<f32>();
            if k0 + kk < k_end {
                let at = (x0 + xx) * p.k + k0 + kk;
                if x0 + xx < x_len {
                    r0 = source4(operand, at / 4u);
                }
                if x0 + xx + 1u < x_len {
                    r1 = source4(operand, (at + p.k) / 4u);
                }
                if x0 + xx + 2u < x_len {
                    r2 = source4(operand, (at + 2u * p.k) / 4u);
                }
                if x0 + xx + 3u < x_len {
                    r3 = source4(operand, (at + 3u * p.k) / 4u);
                }
            }
            let base = (kk * tile_x + xx) / 4u;
            set_tile(operand, base, vec4(r0.x, r1.x, r2.x, r3.x));
            set_tile(operand, base + tile_x / 4u, vec4(r0.y, r1.y, r2.y, r3.y));
            set_tile(operand, base + tile_x / 2u, vec4(r0.z, r1.z, r2.z, r3.z));
            set_tile(operand, base + 3u * tile_x / 4u, vec4(r0.w, r1.w, r2.w, r3.w));
        }
        return;
    }
    // Scalars, in the order that follows the storage's contiguous direction.
    for (var e = li; e < tile_x * TILE_K; e += THREADS) {
        var kk: u32;
        var xx: u32;
        if x_contiguous {
            xx = e % tile_x;
            kk = e / tile_x;
        } else {
            kk = e % TILE_K;
            xx = e / TILE_K;
        }
        var v = 0.0;
        if x0 + xx < x_len && k0 + kk < k_end {
            v = source(operand, select((x0 + xx) * p.k + k0 + kk, (k0 + kk) * x_len + x0 + xx, x_contiguous));
        }
        set_tile_lane(operand, (kk * tile_x + xx) / 4u, xx % 4u, v);
    }
}

// The epilogue of C[row, col] for its accumulated value v.
fn epilogue(row: u32, col: u32, acc: f32) -> f32 {
    var v = acc;
    switch p.epilogue {
        case EPILOGUE_BIAS: {
            v += operand[col];
        }
        case EPILOGUE_BIAS_ACT: {
            v = activate(v + operand[col]);
            if step.dropout > 0.0 {
                // Inverted dropout: kept units scaled by 1 / (1 − p).
                v = select(0.0, v * (1.0 / (1.0 - step.dropout)), keep(row * p.n + col));
            }
        }
        case EPILOGUE_ACT_GRAD: {
            let a = operand[row * p.n + col];
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
    return v;
}

// Stores C[row, col0 + j], j < 4, where in range: through the epilogue, or (split k) the raw
// values into this slice's partial block.
fn store_row(row: u32, col0: u32, acc: vec4<f32>, slice: u32) {
    if row >= p.m {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if col < p.n {
            if p.slices > 1u {
                partials[slice * p.m * p.n + row * p.n + col] = acc[j];
            } else {
                c[row * p.n + col] = epilogue(row, col, acc[j]);
            }
        }
    }
}

// acc_i += a[i] · b for i < 4: a 4×4 quarter of the invocation's block, one outer product.
fn outer_product(a: vec4<f32>, b: vec4<f32>, acc0: ptr<function, vec4<f32>>, acc1: ptr<function, vec4<f32>>, acc2: ptr<function, vec4<f32>>, acc3: ptr<function, vec4<f32>>) {
    *acc0 = fma(vec4(a.x), b, *acc0);
    *acc1 = fma(vec4(a.y), b, *acc1);
    *acc2 = fma(vec4(a.z), b, *acc2);
    *acc3 = fma(vec4(a.w), b, *acc3);
}

// Stores a 4×4 quarter: rows row..row+3, columns col..col+3.
fn store_quarter(row: u32, col: u32, acc0: vec4<f32>, acc1: vec4<f32>, acc2: vec4<f32>, acc3: vec4<f32>, slice: u32) {
    store_row(row, col, acc0, slice);
    store_row(row + 1u, col, acc1, slice);
    store_row(row + 2u, col, acc2, slice);
    store_row(row + 3u, col, acc3, slice);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wg.y * TILE_M;
    let col0 = wg.x * TILE_N;
    let slice = wg.z;
    let k_begin = slice * p.k_slice;
    let k_end = min(p.k, k_begin + p.k_slice);
    // Uniform across the workgroup, so the barriers below stay in uniform control flow.
    let do_sums = p.row_sums != 0u && wg.x == 0u;
    // This invocation's block: rows row0 + 4·ly + i (upper half) and row0 + TILE_M/2 + 4·ly + i
    // (lower), columns col0 + 4·lx + j (left) and col0 + TILE_N/2 + 4·lx + j (right).
    // acc_<half of rows><half of columns><i>, component j.
    var acc_ul0 = vec4<f32>();
    var acc_ul1 = vec4<f32>();
    var acc_ul2 = vec4<f32>();
    var acc_ul3 = vec4<f32>();
    var acc_ur0 = vec4<f32>();
    var acc_ur1 = vec4<f32>();
    var acc_ur2 = vec4<f32>();
    var acc_ur3 = vec4<f32>();
    var acc_ll0 = vec4<f32>();
    var acc_ll1 = vec4<f32>();
    var acc_ll2 = vec4<f32>();
    var acc_ll3 = vec4<f32>();
    var acc_lr0 = vec4<f32>();
    var acc_lr1 = vec4<f32>();
    var acc_lr2 = vec4<f32>();
    var acc_lr3 = vec4<f32>();
    // This invocation's share of its rows' sums (k ≡ lx mod WG_X), upper and lower half.
    var upper_part = vec4<f32>();
    var lower_part = vec4<f32>();

    for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
        stage(OPERAND_A, row0, p.m, TILE_M, p.a_transposed != 0u, p.a_vec4 != 0u, k0, k_end, li);
        stage(OPERAND_B, col0, p.n, TILE_N, p.b_transposed == 0u, p.b_vec4 != 0u, k0, k_end, li);
        workgroupBarrier();
        // The staged depth: a last, partial tile (k not a multiple of TILE_K, or a short k such
        // as a 10-class layer's) skips its zero padding. Uniform, as the barriers need.
        let depth = min(TILE_K, k_end - k0);

        if do_sums {
            for (var kk = lid.x; kk < depth; kk += WG_X) {
                upper_part += a_tile[kk * (TILE_M / 4u) + lid.y];
                lower_part += a_tile[kk * (TILE_M / 4u) + WG_Y + lid.y];
            }
        }
        for (var kk = 0u; kk < depth; kk++) {
            let a_upper = a_tile[kk * (TILE_M / 4u) + lid.y];
            let a_lower = a_tile[kk * (TILE_M / 4u) + WG_Y + lid.y];
            let b_left = b_tile[kk * (TILE_N / 4u) + lid.x];
            let b_right = b_tile[kk * (TILE_N / 4u) + WG_X + lid.x];
            outer_product(a_upper, b_left, &acc_ul0, &acc_ul1, &acc_ul2, &acc_ul3);
            outer_product(a_upper, b_right, &acc_ur0, &acc_ur1, &acc_ur2, &acc_ur3);
            outer_product(a_lower, b_left, &acc_ll0, &acc_ll1, &acc_ll2, &acc_ll3);
            outer_product(a_lower, b_right, &acc_lr0, &acc_lr1, &acc_lr2, &acc_lr3);
        }
        workgroupBarrier();
    }

    if do_sums {
        // Reduce the WG_X partial sums of each row through a_tile, which is free now.
        a_tile[lid.x * (TILE_M / 4u) + lid.y] = upper_part;
        a_tile[lid.x * (TILE_M / 4u) + WG_Y + lid.y] = lower_part;
        workgroupBarrier();
        if lid.x == 0u {
            for (var half = 0u; half < 2u; half++) {
                var total = vec4<f32>();
                for (var x = 0u; x < WG_X; x++) {
                    total += a_tile[x * (TILE_M / 4u) + half * WG_Y + lid.y];
                }
                for (var i = 0u; i < 4u; i++) {
                    let row = row0 + half * (TILE_M / 2u) + 4u * lid.y + i;
                    if row < p.m {
                        if p.slices > 1u {
                            partials[p.slices * p.m * p.n + slice * p.m + row] = total[i];
                        } else {
                            sums[row] = total[i];
                        }
                    }
                }
            }
        }
    }

    let upper = row0 + 4u * lid.y;
    let lower = upper + TILE_M / 2u;
    let left = col0 + 4u * lid.x;
    let right = left + TILE_N / 2u;
    store_quarter(upper, left, acc_ul0, acc_ul1, acc_ul2, acc_ul3, slice);
    store_quarter(upper, right, acc_ur0, acc_ur1, acc_ur2, acc_ur3, slice);
    store_quarter(lower, left, acc_ll0, acc_ll1, acc_ll2, acc_ll3, slice);
    store_quarter(lower, right, acc_lr0, acc_lr1, acc_lr2, acc_lr3, slice);
}

// Split k's second dispatch: one invocation per element of C (REDUCE_THREADS per workgroup,
// rows of workgroups along y past 65535 along x): the slices' partial values added in slice
// order, then the epilogue; column 0 also adds the row's partial sums.
const REDUCE_THREADS: u32 = 256u;

@compute @workgroup_size(REDUCE_THREADS)
fn reduce(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let e = (wg.y * groups.x + wg.x) * REDUCE_THREADS + li;
    let size = p.m * p.n;
    if e >= size {
        return;
    }
    var v = 0.0;
    for (var s = 0u; s < p.slices; s++) {
        v += partials[s * size + e];
    }
    let row = e / p.n;
    let col = e % p.n;
    c[e] = epilogue(row, col, v);
    if p.row_sums != 0u && col == 0u {
        var total = 0.0;
        for (var s = 0u; s < p.slices; s++) {
            total += partials[p.slices * size + s * p.m + row];
        }
        sums[row] = total;
    }
}

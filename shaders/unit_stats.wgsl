// Per unit of a hidden layer, over the step's rows of its activations A [batch, width]: adds the
// sum and the sum of squares to the epoch's running totals and records whether the unit fired
// (gave a non-zero output). The same arithmetic, in the same order, as
// cpu::ops::accumulate_unit_stats. `stats` holds sums [0, width), squares [width, 2·width) and
// fired flags [2·width, 3·width). One thread per unit: consecutive threads read consecutive
// columns of a row, so each row is read in one sweep.

override WORKGROUP: u32 = 64u;

struct UnitStatsParams {
    width: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: UnitStatsParams;
@group(0) @binding(2) var<storage, read> acts: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let unit = gid.x;
    let width = params.width;
    if unit >= width {
        return;
    }
    var sum = 0.0;
    var squares = 0.0;
    var fired = 0.0;
    for (var row = 0u; row < step.rows; row++) {
        let a = acts[row * width + unit];
        sum += a;
        squares += a * a;
        fired = select(fired, 1.0, a != 0.0);
    }
    stats[unit] += sum;
    stats[width + unit] += squares;
    stats[2u * width + unit] = max(stats[2u * width + unit], fired);
}

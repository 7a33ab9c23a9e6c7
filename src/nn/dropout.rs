//! Dropout masks from a counter-based hash, so the CPU and the GPU (`matmul.wgsl`) draw the same
//! mask for the same run seed, training step, layer and element, with no random state to carry.

/// The dropout of one training step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    /// Probability of dropping a unit, in [0, 1).
    pub p: f32,
    /// The run's seed, folded to 32 bits (see [`fold_seed`]).
    pub seed: u32,
    /// The global training step (1-based).
    pub step: u32,
}

/// A 64-bit seed folded to the 32 bits the hash takes.
pub fn fold_seed(seed: u64) -> u32 {
    (seed ^ (seed >> 32)) as u32
}

/// "lowbias32" (C. Wellons): a cheap integer hash with good avalanche; exactly the WGSL `mix`.
fn mix(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

impl Dropout {
    /// Whether element `index` (row · width + column) of hidden layer `layer`'s output is kept:
    /// a uniform draw u ∈ [0, 1) from the hash of (seed, step, layer, index), kept when u ≥ p.
    pub fn keep(&self, layer: u32, index: u32) -> bool {
        let h = mix(mix(mix(self.seed ^ layer.wrapping_mul(0x9e37_79b9)) ^ self.step) ^ index);
        let u = (h >> 8) as f32 * (1.0 / 16_777_216.0);
        u >= self.p
    }

    /// The inverted-dropout scale applied to kept units, 1 / (1 − p).
    pub fn scale(&self) -> f32 {
        1.0 / (1.0 - self.p)
    }
}

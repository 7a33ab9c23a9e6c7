//! Small seeded 2-D datasets that need no files.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Affine, Dataset, Features};

/// Two unit-variance Gaussian clouds centred at (−2, 0) (class 0) and (+2, 0) (class 1),
/// alternating classes so any prefix is balanced.
pub fn blobs(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut features = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = (i % 2) as u32;
        let centre_x = if class == 0 { -2.0 } else { 2.0 };
        let dx: f32 = StandardNormal.sample(&mut rng);
        let dy: f32 = StandardNormal.sample(&mut rng);
        features.extend_from_slice(&[centre_x + dx, dy]);
        labels.push(class);
    }
    Dataset {
        features: Features::F32(features),
        labels,
        dim: 2,
        transform: Affine::IDENTITY,
    }
}

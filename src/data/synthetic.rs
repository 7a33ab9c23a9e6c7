//! Small seeded 2-D datasets that need no files.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Affine, Dataset, Features};

/// Two unit-variance Gaussian clouds centred at (−2, 0) (class 0) and (+2, 0) (class 1),
/// alternating classes so any prefix is balanced.
pub fn blobs(n: usize, seed: u64) -> Dataset {
    points(n, seed, |i, rng| {
        let class = (i % 2) as u32;
        let centre_x = if class == 0 { -2.0 } else { 2.0 };
        let (dx, dy) = (normal(rng), normal(rng));
        ([centre_x + dx, dy], class)
    })
}

/// Standard-normal 2-D points labelled 1 outside the unit circle (x² + y² > 1), else 0.
pub fn circle(n: usize, seed: u64) -> Dataset {
    points(n, seed, |_, rng| {
        let (x, y) = (normal(rng), normal(rng));
        ([x, y], u32::from(x * x + y * y > 1.0))
    })
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    StandardNormal.sample(rng)
}

/// `n` labelled 2-D points drawn by `point(index, rng)`.
fn points(n: usize, seed: u64, mut point: impl FnMut(usize, &mut ChaCha8Rng) -> ([f32; 2], u32)) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut features = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let (xy, class) = point(i, &mut rng);
        features.extend_from_slice(&xy);
        labels.push(class);
    }
    Dataset {
        features: Features::F32(features),
        labels,
        dim: 2,
        transform: Affine::IDENTITY,
        weights: None,
    }
}

/// `n` random u8 "images" of `dim` pixels whose label is a function of their first pixels
/// (sum of the first `dim / 10` pixels modulo `classes`), for tests and benchmarks that need
/// image-shaped data without files.
pub fn synthetic_images(n: usize, dim: usize, classes: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pixels: Vec<u8> = (0..n * dim).map(|_| rng.random()).collect();
    let window = (dim / 10).max(1);
    let labels = pixels
        .chunks_exact(dim)
        .map(|img| img[..window].iter().map(|&p| u32::from(p)).sum::<u32>() % classes as u32)
        .collect();
    Dataset {
        features: Features::U8(pixels),
        labels,
        dim,
        transform: Affine::UNIT_PIXELS,
        weights: None,
    }
}

//! Small seeded 2-D datasets that need no files. Each draws its points from the seed, then, with
//! `noise` > 0, jitters every point by Gaussian noise of that standard deviation after it is
//! labelled (so points near the boundary land on the wrong side, as in TensorFlow Playground),
//! from a random stream of its own: the same seed gives the same points, noisy or not, and
//! without noise the points of earlier versions.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Affine, Dataset, Features};

/// Two unit-variance Gaussian clouds centred at (−2, 0) (class 0) and (+2, 0) (class 1),
/// alternating classes so any prefix is balanced.
pub fn blobs(n: usize, seed: u64, noise: f32) -> Dataset {
    points(n, seed, noise, |i, rng| {
        let class = (i % 2) as u32;
        let centre_x = if class == 0 { -2.0 } else { 2.0 };
        let (dx, dy) = (normal(rng), normal(rng));
        ([centre_x + dx, dy], class)
    })
}

/// Standard-normal 2-D points labelled 1 outside the unit circle (x² + y² > 1), else 0.
pub fn circle(n: usize, seed: u64, noise: f32) -> Dataset {
    points(n, seed, noise, |_, rng| {
        let (x, y) = (normal(rng), normal(rng));
        ([x, y], u32::from(x * x + y * y > 1.0))
    })
}

/// Two interleaved spiral arms (class 0 and its half-turn rotation, class 1), 1.75 turns each
/// from radius 0.3 to 3, points spread uniformly along the arms; alternating classes.
pub fn spiral(n: usize, seed: u64, noise: f32) -> Dataset {
    points(n, seed, noise, |i, rng| {
        let class = (i % 2) as u32;
        let t: f32 = rng.random();
        let radius = 0.3 + 2.7 * t;
        let angle = 1.75 * std::f32::consts::TAU * t + class as f32 * std::f32::consts::PI;
        ([radius * angle.cos(), radius * angle.sin()], class)
    })
}

/// Points uniform in [−3, 3]² outside a band of 0.3 around both axes, class 1 where the signs of
/// x and y differ (the XOR of their signs).
pub fn xor(n: usize, seed: u64, noise: f32) -> Dataset {
    points(n, seed, noise, |_, rng| {
        let mut coordinate = || {
            let magnitude = 0.3 + 2.7 * rng.random::<f32>();
            match rng.random::<bool>() {
                true => magnitude,
                false => -magnitude,
            }
        };
        let (x, y) = (coordinate(), coordinate());
        ([x, y], u32::from((x < 0.0) != (y < 0.0)))
    })
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    StandardNormal.sample(rng)
}

/// `n` labelled 2-D points drawn by `point(index, rng)`, each then jittered by `noise`.
fn points(
    n: usize,
    seed: u64,
    noise: f32,
    mut point: impl FnMut(usize, &mut ChaCha8Rng) -> ([f32; 2], u32),
) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // The jitter has a stream of its own: the same seed gives the same points, noisy or not.
    let mut jitter = ChaCha8Rng::seed_from_u64(seed);
    jitter.set_stream(1);
    let mut features = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let ([x, y], class) = point(i, &mut rng);
        let jittered = match noise > 0.0 {
            true => [x + noise * normal(&mut jitter), y + noise * normal(&mut jitter)],
            false => [x, y],
        };
        features.extend_from_slice(&jittered);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn xy(d: &Dataset) -> Vec<[f32; 2]> {
        match &d.features {
            Features::F32(v) => v.chunks_exact(2).map(|p| [p[0], p[1]]).collect(),
            Features::U8(_) => unreachable!("generated points are f32"),
        }
    }

    #[test]
    fn without_noise_xor_labels_are_the_xor_of_the_signs_and_no_point_is_near_an_axis() {
        let d = xor(500, 3, 0.0);
        for (p, &label) in xy(&d).iter().zip(&d.labels) {
            assert_eq!(label, u32::from((p[0] < 0.0) != (p[1] < 0.0)), "{p:?}");
            assert!(p.iter().all(|c| (0.3..=3.0).contains(&c.abs())), "{p:?}");
        }
    }

    #[test]
    fn spiral_arms_alternate_and_stay_within_radius_3() {
        let d = spiral(500, 3, 0.0);
        for (i, (p, &label)) in xy(&d).iter().zip(&d.labels).enumerate() {
            assert_eq!(label, (i % 2) as u32);
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!((0.3 - 1e-5..=3.0 + 1e-5).contains(&r), "{p:?}");
        }
    }

    #[test]
    fn noise_moves_the_points_and_keeps_their_labels() {
        let (clean, noisy) = (circle(300, 5, 0.0), circle(300, 5, 0.5));
        assert_eq!(clean.labels, noisy.labels);
        let moved = xy(&clean).iter().zip(xy(&noisy)).filter(|(a, b)| *a != b).count();
        assert_eq!(moved, 300);
    }
}

//! Datasets: where they come from (IDX files, synthetic generators) and how a sample becomes the
//! f32 row a network sees.

pub mod idx;
pub mod locate;
pub mod synthetic;

mod catalog;

pub use catalog::{load, DatasetName, LoadOptions};
pub use synthetic::{blobs, synthetic_images};

/// Sample features, stored as compactly as their source allows. Images stay u8 so that the
/// 60k×784 Fashion-MNIST training set is 47 MB on the GPU instead of 188 MB as f32.
#[derive(Debug, Clone)]
pub enum Features {
    U8(Vec<u8>),
    F32(Vec<f32>),
}

/// How a stored value `v` becomes the network's input: `v * scale + shift`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub scale: f32,
    pub shift: f32,
}

impl Affine {
    pub const IDENTITY: Affine = Affine { scale: 1.0, shift: 0.0 };
    /// u8 pixels to [0, 1].
    pub const UNIT_PIXELS: Affine = Affine {
        scale: 1.0 / 255.0,
        shift: 0.0,
    };
}

/// One labelled split: `len` samples of `dim` features each, row-major.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub features: Features,
    pub labels: Vec<u32>,
    pub dim: usize,
    pub transform: Affine,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Writes sample `index`, transformed, into `out` (length `dim`).
    pub fn write_row(&self, index: usize, out: &mut [f32]) {
        let Affine { scale, shift } = self.transform;
        let range = index * self.dim..(index + 1) * self.dim;
        match &self.features {
            Features::U8(v) => {
                for (o, &x) in out.iter_mut().zip(&v[range]) {
                    *o = f32::from(x) * scale + shift;
                }
            }
            Features::F32(v) => {
                for (o, &x) in out.iter_mut().zip(&v[range]) {
                    *o = x * scale + shift;
                }
            }
        }
    }

    /// The first `n` samples (for quick runs and tests on a subset).
    pub fn truncated(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        let features = match &self.features {
            Features::U8(v) => Features::U8(v[..n * self.dim].to_vec()),
            Features::F32(v) => Features::F32(v[..n * self.dim].to_vec()),
        };
        Dataset {
            features,
            labels: self.labels[..n].to_vec(),
            dim: self.dim,
            transform: self.transform,
        }
    }
}

/// A dataset's train and test splits plus what its classes are called.
#[derive(Debug, Clone)]
pub struct Splits {
    pub name: String,
    pub train: Dataset,
    pub test: Dataset,
    pub class_names: Vec<String>,
}

impl Splits {
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }
}

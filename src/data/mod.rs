//! Datasets: where they come from (IDX files, synthetic generators) and how a sample becomes the
//! f32 row a network sees.

pub mod arrays;
#[cfg(feature = "download")]
pub mod download;
pub mod idx;
pub mod locate;
pub mod synthetic;
pub mod table;

mod catalog;

use crate::error::{Error, Result};
pub use catalog::{
    decode_idx_dataset, decode_unpacked, idx_files, load, DatasetName, LoadOptions, Unpacked, Unpacking,
};
pub use synthetic::{blobs, circle, spiral, synthetic_images, xor};

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
    /// Each sample's weight in the training loss (None: all 1), as Keras' `sample_weight`:
    /// a step's loss is Σ wᵢ·lossᵢ / rows.
    pub weights: Option<Vec<f32>>,
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
        self.subset(&(0..n).collect::<Vec<_>>())
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let features = match &self.features {
            Features::U8(v) => Features::U8(gather_rows(v, self.dim, indices)),
            Features::F32(v) => Features::F32(gather_rows(v, self.dim, indices)),
        };
        Dataset {
            features,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            dim: self.dim,
            transform: self.transform,
            weights: self.weights.as_ref().map(|w| indices.iter().map(|&i| w[i]).collect()),
        }
    }

    /// Why the sample weights cannot weight a loss (one per sample, finite, ≥ 0, not all 0),
    /// or None.
    pub fn refuse_weights(&self) -> Option<String> {
        let weights = self.weights.as_ref()?;
        if weights.len() != self.len() {
            return Some(format!("{} weights for {} samples", weights.len(), self.len()));
        }
        if let Some(i) = weights.iter().position(|w| !w.is_finite() || *w < 0.0) {
            return Some(format!(
                "sample {i} has weight {}: weights must be finite and ≥ 0",
                weights[i]
            ));
        }
        weights
            .iter()
            .all(|&w| w == 0.0)
            .then(|| "every weight is 0: nothing would be learned".into())
    }

    /// What the samples are stored as, and their range.
    pub fn stored_range(&self) -> StoredRange {
        let (min, max) = self.features.range();
        StoredRange {
            bytes: matches!(self.features, Features::U8(_)),
            min,
            max,
        }
    }

    /// Mean and standard deviation of all stored feature values (as stored, before the transform).
    fn moments(&self) -> (f64, f64) {
        let (mut sum, mut sum_sq, mut n) = (0f64, 0f64, 0f64);
        let mut add = |x: f64| {
            sum += x;
            sum_sq += x * x;
            n += 1.0;
        };
        match &self.features {
            Features::U8(v) => v.iter().for_each(|&x| add(f64::from(x))),
            Features::F32(v) => v.iter().for_each(|&x| add(f64::from(x))),
        }
        let mean = sum / n.max(1.0);
        (mean, (sum_sq / n.max(1.0) - mean * mean).max(0.0).sqrt())
    }
}

/// What a model's training samples were stored as, and their range: a model refuses inputs
/// that its transform would map to the wrong values, such as floats `x / 255` given to a model
/// trained on 0–255 bytes (which it scales itself), instead of answering silently wrong.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredRange {
    /// The samples were bytes (uint8 images).
    pub bytes: bool,
    pub min: f32,
    pub max: f32,
}

/// A float input more than this many times the largest magnitude a model trained on values in
/// [−1, 1] saw is on another scale (pixels 0–255 against 0–1), not an outlier.
const SCALE_MISMATCH: f32 = 10.0;

impl StoredRange {
    /// Bytes spanning 0–255, as images are.
    pub const PIXELS: StoredRange = StoredRange {
        bytes: true,
        min: 0.0,
        max: 255.0,
    };

    /// `features` as this model takes them: bytes, or floats that are whole numbers in 0–255
    /// (the same values) for a model trained on bytes; floats for one trained on floats. Why
    /// not, when the values are on another scale than training's.
    pub fn accept(&self, features: Features) -> std::result::Result<Features, String> {
        let (lo, hi) = features.range();
        let given = match &features {
            Features::U8(_) => "uint8",
            Features::F32(_) => "float",
        };
        match (self.bytes, features) {
            (true, Features::U8(v)) => Ok(Features::U8(v)),
            (true, Features::F32(v)) if v.iter().all(|x| x.fract() == 0.0 && (0.0..=255.0).contains(x)) => {
                Ok(Features::U8(v.iter().map(|&x| x as u8).collect()))
            }
            (true, Features::F32(_)) => Err(format!(
                "this model was trained on uint8 values 0–255, which it scales itself (normalize); got float                  values in [{lo}, {hi}]: pass them as fit got them (uint8 pixels, not x / 255)"
            )),
            (false, features) => {
                let trained = self.min.abs().max(self.max.abs());
                if trained <= 1.0 && lo.abs().max(hi.abs()) > SCALE_MISMATCH {
                    return Err(format!(
                        "this model was trained on values in [{}, {}]; got {given} values in [{lo}, {hi}]: scale                          them as the training samples were (e.g. x / 255 for pixels)",
                        self.min, self.max
                    ));
                }
                Ok(match features {
                    Features::U8(v) => Features::F32(v.iter().map(|&x| f32::from(x)).collect()),
                    f32s => f32s,
                })
            }
        }
    }
}

impl Features {
    /// The smallest and largest stored value ((0, 0) when empty).
    fn range(&self) -> (f32, f32) {
        let (lo, hi) = match self {
            // In whole bytes: several times faster than through f32 (48 ms in wasm for 10,000
            // images that way, the page's longest task).
            Features::U8(v) => {
                let (lo, hi) = v.iter().fold((u8::MAX, u8::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
                match lo > hi {
                    true => (f32::MAX, f32::MIN),
                    false => (f32::from(lo), f32::from(hi)),
                }
            }
            Features::F32(v) => v
                .iter()
                .fold((f32::MAX, f32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x))),
        };
        if lo > hi {
            (0.0, 0.0)
        } else {
            (lo, hi)
        }
    }

    /// The first value that is not a finite number: (sample, feature, value), for `dim`
    /// features per sample.
    pub fn first_non_finite(&self, dim: usize) -> Option<(usize, usize, f32)> {
        match self {
            Features::U8(_) => None,
            Features::F32(v) => v
                .iter()
                .position(|x| !x.is_finite())
                .map(|i| (i / dim.max(1), i % dim.max(1), v[i])),
        }
    }
}

/// Which of `n` training samples stay (first) and which a seeded random `fraction` holds out
/// for validation (second), each in their original order so a prefix of either is
/// reproducible; None for a fraction of 0. A fraction that rounds to no validation sample, or
/// to all of them, is an error.
pub(crate) fn validation_positions(n: usize, fraction: f32, seed: u64) -> Result<Option<(Vec<usize>, Vec<usize>)>> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    if fraction <= 0.0 {
        return Ok(None);
    }
    let n_val = ((n as f64) * f64::from(fraction)).round() as usize;
    if n_val == 0 || n_val >= n {
        return Err(Error::InvalidConfig {
            field: "val-split",
            detail: format!(
                "{fraction} of {n} training samples is {n_val} validation samples: expected at least 1 and fewer than {n}"
            ),
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_F7A1));
    let (val, train) = order.split_at(n_val);
    let (mut val, mut train) = (val.to_vec(), train.to_vec());
    val.sort_unstable();
    train.sort_unstable();
    Ok(Some((train, val)))
}

/// Rows `indices` of a row-major `[_, dim]` array.
fn gather_rows<T: Copy>(values: &[T], dim: usize, indices: &[usize]) -> Vec<T> {
    indices
        .iter()
        .flat_map(|&i| values[i * dim..(i + 1) * dim].iter().copied())
        .collect()
}

/// How stored features become network inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// Pixels to [0, 1] (x / 255); real-valued features as they are.
    #[default]
    Unit,
    /// Pixels to [−1, 1] ((x/255 − 0.5) / 0.5); real-valued features as they are.
    Pm1,
    /// (x − mean) / std with the training split's mean and std over all features; for a
    /// table, each numeric column by its own (the default for tables).
    Standard,
    /// Features as they are (a table's numeric columns unscaled).
    None,
}

/// A dataset's splits plus what its classes are called.
#[derive(Debug, Clone)]
pub struct Splits {
    pub name: String,
    pub train: Dataset,
    /// Held out from the training data (`--val-split`), for model selection and early stopping.
    pub val: Option<Dataset>,
    /// Scored after every epoch; none when the data came without test samples (a Python
    /// `fit(x, y)`, which `evaluate` scores later).
    pub test: Option<Dataset>,
    pub class_names: Vec<String>,
    /// Problems found that did not stop loading (e.g. a checksum that is not the official one).
    pub warnings: Vec<String>,
    /// For a CSV table: how its rows became features (fitted on the training split).
    pub table: Option<table::TableCodec>,
}

impl Splits {
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    /// Moves a seeded random `fraction` of the training samples into a validation split.
    /// A fraction that rounds to no validation sample, or to all of them, is an error.
    pub fn split_validation(&mut self, fraction: f32, seed: u64) -> Result<()> {
        if let Some((train, val)) = validation_positions(self.train.len(), fraction, seed)? {
            self.val = Some(self.train.subset(&val));
            self.train = self.train.subset(&train);
        }
        Ok(())
    }

    /// Every split has at least one sample: training and evaluating on none means nothing.
    pub fn check_not_empty(&self) -> Result<()> {
        let splits = [
            ("training", Some(&self.train)),
            ("validation", self.val.as_ref()),
            ("test", self.test.as_ref()),
        ];
        match splits.iter().find(|(_, d)| d.is_some_and(|d| d.is_empty())) {
            Some((which, _)) => Err(Error::DatasetMismatch {
                name: self.name.clone(),
                detail: format!(
                    "the {which} split is empty ({} training, {} test samples); a larger --samples or dataset is needed",
                    self.train.len(),
                    self.test.as_ref().map_or(0, Dataset::len)
                ),
            }),
            None => Ok(()),
        }
    }

    /// Sets how every split's features are transformed, from the training split's statistics.
    pub fn normalize(&mut self, mode: Normalize) {
        let pixels = matches!(self.train.features, Features::U8(_));
        let transform = match (mode, pixels) {
            (Normalize::Unit, true) => Affine::UNIT_PIXELS,
            (Normalize::Pm1, true) => Affine {
                scale: 2.0 / 255.0,
                shift: -1.0,
            },
            (Normalize::Unit | Normalize::Pm1, false) | (Normalize::None, _) => Affine::IDENTITY,
            (Normalize::Standard, _) => {
                let (mean, std) = self.train.moments();
                let std = if std > 0.0 { std } else { 1.0 };
                Affine {
                    scale: (1.0 / std) as f32,
                    shift: (-mean / std) as f32,
                }
            }
        };
        self.set_transform(transform);
    }

    /// Transforms every split's features by `transform`.
    pub fn set_transform(&mut self, transform: Affine) {
        for split in [Some(&mut self.train), self.val.as_mut(), self.test.as_mut()]
            .into_iter()
            .flatten()
        {
            split.transform = transform;
        }
    }
}

//! The named datasets a user can ask for.

use std::path::{Path, PathBuf};

use super::{download, idx, locate, synthetic, Affine, Dataset, Features, Splits};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetName {
    /// Fashion-MNIST: 28×28 grayscale clothing images, 10 classes (60k train / 10k test).
    Fashion,
    /// MNIST: 28×28 grayscale handwritten digits, 10 classes (60k train / 10k test).
    Mnist,
    /// Two 2-D Gaussian clouds centred at (±2, 0), 2 classes; `samples` points (80% train, 20% test) from the seed.
    Blobs,
    /// 2-D standard-normal points, class 1 outside the unit circle; `samples` points (80/20) from the seed.
    Circle,
}

impl DatasetName {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Fashion => "fashion",
            DatasetName::Mnist => "mnist",
            DatasetName::Blobs => "blobs",
            DatasetName::Circle => "circle",
        }
    }
}

pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Where Debian's `dataset-fashion-mnist` package puts the files.
pub const DEBIAN_FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Searched first (`--data-dir`).
    pub data_dir: Option<PathBuf>,
    /// Seeds the synthetic generators.
    pub seed: u64,
    /// Points generated for a synthetic dataset (train and test together).
    pub samples: usize,
    /// A file whose checksum is not the official one is an error (else a warning).
    pub strict_data: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            data_dir: None,
            seed: 0,
            samples: 1000,
            strict_data: false,
        }
    }
}

pub fn load(name: DatasetName, opts: &LoadOptions) -> Result<Splits> {
    match name {
        DatasetName::Fashion => load_idx_dataset(
            DatasetName::Fashion,
            opts,
            Some(Path::new(DEBIAN_FASHION_DIR)),
            "Install them with `apt-get install dataset-fashion-mnist`, or put the four \
             *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist in ./data/fashion/ \
             or pass --data-dir.",
            FASHION_CLASSES.iter().map(|s| s.to_string()).collect(),
        ),
        DatasetName::Mnist => load_idx_dataset(
            DatasetName::Mnist,
            opts,
            None,
            "Put the four *-ubyte.gz files (e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/) \
             in ./data/mnist/ or pass --data-dir.",
            (0..10).map(|d| d.to_string()).collect(),
        ),
        DatasetName::Blobs => Ok(synthetic_splits(
            "blobs",
            synthetic::blobs(opts.samples, opts.seed),
            &["left", "right"],
        )),
        DatasetName::Circle => Ok(synthetic_splits(
            "circle",
            synthetic::circle(opts.samples, opts.seed),
            &["inside", "outside"],
        )),
    }
}

/// The first 80% of the points for training, the rest for testing.
fn synthetic_splits(name: &str, points: Dataset, class_names: &[&str]) -> Splits {
    let n_train = points.len() * 4 / 5;
    let (train, test): (Vec<usize>, Vec<usize>) = ((0..n_train).collect(), (n_train..points.len()).collect());
    Splits {
        name: name.into(),
        train: points.subset(&train),
        val: None,
        test: points.subset(&test),
        class_names: class_names.iter().map(|c| c.to_string()).collect(),
        warnings: Vec::new(),
    }
}

fn load_idx_dataset(
    dataset: DatasetName,
    opts: &LoadOptions,
    system_dir: Option<&Path>,
    hint: &str,
    class_names: Vec<String>,
) -> Result<Splits> {
    let name = dataset.as_str();
    let dirs = locate::candidate_dirs(name, opts.data_dir.as_deref(), system_dir);
    let paths = locate::locate(name, &dirs, hint)?;
    let warnings = check_integrity(dataset, &paths, opts.strict_data)?;
    let [train_images, train_labels, test_images, test_labels] = paths;
    let classes = class_names.len();
    let train = idx_split(name, &train_images, &train_labels, classes)?;
    let test = idx_split(name, &test_images, &test_labels, classes)?;
    if train.dim != test.dim {
        return Err(Error::DatasetMismatch {
            name: name.into(),
            detail: format!("train images have {} pixels, test images {}", train.dim, test.dim),
        });
    }
    Ok(Splits {
        name: name.into(),
        train,
        val: None,
        test,
        class_names,
        warnings,
    })
}

/// Compares each file with the official checksums (see `download::sources`): a mismatch is an
/// error when `strict`, else a warning returned for the caller to show.
fn check_integrity(dataset: DatasetName, paths: &[PathBuf; 4], strict: bool) -> Result<Vec<String>> {
    let Some((_, checks)) = download::sources(dataset) else {
        return Ok(Vec::new());
    };
    let mut warnings = Vec::new();
    for (path, check) in paths.iter().zip(checks) {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        if let Err(detail) = download::verify(&bytes, check) {
            let message = format!(
                "{}: {detail}: not the official file (damaged download?)",
                path.display()
            );
            if strict {
                return Err(Error::DatasetMismatch {
                    name: dataset.as_str().into(),
                    detail: format!("{message}; rejected by --strict-data"),
                });
            }
            warnings.push(message);
        }
    }
    Ok(warnings)
}

/// Reads one images/labels pair and checks they agree with each other and the class count.
pub fn idx_split(name: &str, images_path: &Path, labels_path: &Path, classes: usize) -> Result<Dataset> {
    let images = idx::read_images(images_path)?;
    let labels = idx::read_labels(labels_path)?;
    if images.count != labels.len() {
        return Err(Error::DatasetMismatch {
            name: name.into(),
            detail: format!(
                "{} holds {} images but {} holds {} labels",
                images_path.display(),
                images.count,
                labels_path.display(),
                labels.len()
            ),
        });
    }
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| usize::from(l) >= classes) {
        return Err(Error::Idx {
            path: labels_path.into(),
            field: "label",
            detail: format!("label {l} at index {i} is out of range: expected 0..{classes}"),
        });
    }
    Ok(Dataset {
        features: Features::U8(images.pixels),
        labels: labels.into_iter().map(u32::from).collect(),
        dim: images.rows * images.cols,
        transform: Affine::UNIT_PIXELS,
    })
}

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
             or pass --data-dir, or fetch them with `train --download` or `gpu-mlp download fashion`.",
            FASHION_CLASSES.iter().map(|s| s.to_string()).collect(),
        ),
        DatasetName::Mnist => load_idx_dataset(
            DatasetName::Mnist,
            opts,
            None,
            "Put the four *-ubyte.gz files (e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/) \
             in ./data/mnist/ or pass --data-dir, or fetch them with `train --download` or \
             `gpu-mlp download mnist`.",
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
        table: None,
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
    let checks = download::sources(dataset).map(|(_, checks)| checks);
    let mut warnings = Vec::new();
    let mut contents = Vec::with_capacity(4);
    for (i, path) in paths.iter().enumerate() {
        let check = checks.map(|c| c[i]);
        contents.push(read_checked(dataset, path, check, opts.strict_data, &mut warnings)?);
    }
    let [train_images, train_labels, test_images, test_labels] =
        <[Vec<u8>; 4]>::try_from(contents).map_err(|_| Error::DatasetMismatch {
            name: name.into(),
            detail: "expected four files".into(),
        })?;
    let classes = class_names.len();
    let train = idx_split(name, (&paths[0], train_images), (&paths[1], train_labels), classes)?;
    let test = idx_split(name, (&paths[2], test_images), (&paths[3], test_labels), classes)?;
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
        table: None,
    })
}

/// Reads a dataset file, decompressed, comparing it with its official checksum (see
/// `download::sources`) on the way: a mismatch is an error when `strict`, else a warning.
fn read_checked(
    dataset: DatasetName,
    path: &Path,
    check: Option<download::Check>,
    strict: bool,
    warnings: &mut Vec<String>,
) -> Result<Vec<u8>> {
    let file = crate::files::read_bounded(path, crate::files::MAX_DATA_FILE_BYTES, |detail| Error::Idx {
        path: path.into(),
        field: "file",
        detail,
    })?;
    let unpacked = match idx::is_gzip(&file) {
        true => Some(idx::gunzip_file(path, &file)?),
        false => None,
    };
    let contents = unpacked.as_deref().unwrap_or(&file);
    if let Some(detail) = check.and_then(|c| download::verify_contents(&file, contents, c).err()) {
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
    // Parsing takes the decompressed bytes (or the file itself when it was not compressed).
    Ok(unpacked.unwrap_or(file))
}

/// Reads one images/labels pair and checks they agree with each other and the class count.
fn idx_split(
    name: &str,
    (images_path, images): (&Path, Vec<u8>),
    (labels_path, labels): (&Path, Vec<u8>),
    classes: usize,
) -> Result<Dataset> {
    let images = idx::decode_images(images_path, images)?;
    let labels = idx::decode_labels(labels_path, labels)?;
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

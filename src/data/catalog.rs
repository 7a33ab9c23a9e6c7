//! The named datasets a user can ask for, and for those that are downloaded, where the official
//! files are and how a copy is verified.

use std::path::{Path, PathBuf};

use md5::Md5;
use sha2::{Digest, Sha256};

use super::idx::is_gzip;
use super::{idx, locate, synthetic, Affine, Dataset, Features, Splits};
use crate::error::{Error, Result};
use crate::files::hex;

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
    /// Two interleaved 2-D spiral arms, one class each; `samples` points (80/20) from the seed.
    Spiral,
    /// 2-D points in four quadrants, class 1 where x and y have opposite signs; `samples` points (80/20).
    Xor,
}

impl DatasetName {
    /// Its samples are 28×28 uint8 images.
    pub fn is_images(self) -> bool {
        matches!(self, DatasetName::Fashion | DatasetName::Mnist)
    }

    /// What an image dataset's ten classes are called (empty for the generated sets).
    pub fn image_class_names(self) -> Vec<String> {
        match self {
            DatasetName::Fashion => FASHION_CLASSES.iter().map(|s| s.to_string()).collect(),
            DatasetName::Mnist => (0..10).map(|d| d.to_string()).collect(),
            DatasetName::Blobs | DatasetName::Circle | DatasetName::Spiral | DatasetName::Xor => Vec::new(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Fashion => "fashion",
            DatasetName::Mnist => "mnist",
            DatasetName::Blobs => "blobs",
            DatasetName::Circle => "circle",
            DatasetName::Spiral => "spiral",
            DatasetName::Xor => "xor",
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
    /// Standard deviation of the Gaussian jitter added to each generated point (0: none).
    pub noise: f32,
    /// A file whose checksum is not the official one is an error (else a warning).
    pub strict_data: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            data_dir: None,
            seed: 0,
            samples: 1000,
            noise: 0.0,
            strict_data: false,
        }
    }
}

pub fn load(name: DatasetName, opts: &LoadOptions) -> Result<Splits> {
    match name {
        DatasetName::Fashion | DatasetName::Mnist => load_idx_dataset(name, opts),
        DatasetName::Blobs => Ok(synthetic_splits(
            "blobs",
            synthetic::blobs(opts.samples, opts.seed, opts.noise),
            &["left", "right"],
        )),
        DatasetName::Circle => Ok(synthetic_splits(
            "circle",
            synthetic::circle(opts.samples, opts.seed, opts.noise),
            &["inside", "outside"],
        )),
        DatasetName::Spiral => Ok(synthetic_splits(
            "spiral",
            synthetic::spiral(opts.samples, opts.seed, opts.noise),
            &["arm A", "arm B"],
        )),
        DatasetName::Xor => Ok(synthetic_splits(
            "xor",
            synthetic::xor(opts.samples, opts.seed, opts.noise),
            &["same signs", "opposite signs"],
        )),
    }
}

/// Where an image dataset's four files are, in [`locate::FILES`]' order: in `data_dir` alone
/// when given, else where [`locate::candidate_dirs`] looks (and, for Fashion-MNIST, Debian's
/// folder); none found is an error saying how to get them.
pub fn idx_files(dataset: DatasetName, data_dir: Option<&Path>) -> Result<[PathBuf; 4]> {
    let (system_dir, hint) = match dataset {
        DatasetName::Fashion => (
            Some(Path::new(DEBIAN_FASHION_DIR)),
            "Install them with `apt-get install dataset-fashion-mnist`, or put the four \
             *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist in ./data/fashion/ \
             or pass --data-dir, or fetch them with `train --download` or `gpu-mlp download fashion`.",
        ),
        _ => (
            None,
            "Put the four *-ubyte.gz files (e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/) \
             in ./data/mnist/ or pass --data-dir, or fetch them with `train --download` or \
             `gpu-mlp download mnist`.",
        ),
    };
    let name = dataset.as_str();
    locate::locate(name, &locate::candidate_dirs(name, data_dir, system_dir), hint)
}

/// The first 80% of the points for training, the rest for testing.
fn synthetic_splits(name: &str, points: Dataset, class_names: &[&str]) -> Splits {
    let n_train = points.len() * 4 / 5;
    let (train, test): (Vec<usize>, Vec<usize>) = ((0..n_train).collect(), (n_train..points.len()).collect());
    Splits {
        name: name.into(),
        train: points.subset(&train),
        val: None,
        test: Some(points.subset(&test)),
        class_names: class_names.iter().map(|c| c.to_string()).collect(),
        warnings: Vec::new(),
        table: None,
    }
}

fn load_idx_dataset(dataset: DatasetName, opts: &LoadOptions) -> Result<Splits> {
    let paths = idx_files(dataset, opts.data_dir.as_deref())?;
    let read = |path: PathBuf| -> Result<(PathBuf, Vec<u8>)> {
        let bytes = crate::files::read_bounded(&path, crate::files::MAX_DATA_FILE_BYTES, |detail| Error::Idx {
            path: path.clone(),
            field: "file",
            detail,
        })?;
        Ok((path, bytes))
    };
    let [train_images, train_labels, test_images, test_labels] = paths;
    let files = [
        read(train_images)?,
        read(train_labels)?,
        read(test_images)?,
        read(test_labels)?,
    ];
    decode_idx_dataset(dataset, files, opts.strict_data)
}

/// An image dataset from its four files as stored (gzipped or not; each named by where it came
/// from: a path, or a URL in a browser), in [`locate::FILES`]' order, each compared with its
/// official checksum on the way: a mismatch is an error when `strict`, else a warning.
pub fn decode_idx_dataset(dataset: DatasetName, files: [(PathBuf, Vec<u8>); 4], strict: bool) -> Result<Splits> {
    let mut unpacked = Vec::with_capacity(4);
    for (i, (path, file)) in files.into_iter().enumerate() {
        let mut unpacking = Unpacking::new(dataset, i, &path);
        unpacking.feed(&file)?;
        unpacked.push(unpacking.finish()?);
    }
    let unpacked: [Unpacked; 4] = unpacked.try_into().map_err(|_| Error::DatasetMismatch {
        name: dataset.as_str().into(),
        detail: "expected four files".into(),
    })?;
    decode_unpacked(dataset, unpacked, strict)
}

/// One dataset file unpacked and checked piece by piece: what [`decode_idx_dataset`] does to
/// each file at once, for a host that must yield between pieces (a web page).
pub struct Unpacking {
    path: PathBuf,
    body: Body,
    checksum: Checksum,
}

/// A file's bytes as they come in.
enum Body {
    /// Fewer than the two bytes that tell whether it is gzip.
    Undecided(Vec<u8>),
    /// Gzip, inflated as it comes (boxed: the inflater's state is large).
    Gzip(Box<idx::Inflater>),
    /// Kept as it is.
    Plain(Vec<u8>),
}

/// A file's official checksum, computed as its bytes come in.
enum Checksum {
    None,
    Md5OfGz {
        expected: &'static str,
        file: Md5,
    },
    /// `hashed`: how many of the contents the hash took so far.
    Sha256OfRaw {
        expected: &'static str,
        contents: Sha256,
        hashed: usize,
    },
}

/// A dataset file's contents (decompressed) with what its checksum said.
pub struct Unpacked {
    path: PathBuf,
    contents: Vec<u8>,
    /// `Err(what was found)` when it is not the official file.
    official: std::result::Result<(), String>,
}

impl Unpacking {
    /// The dataset's file number `index` (in [`locate::FILES`]' order), named `path` in messages.
    pub fn new(dataset: DatasetName, index: usize, path: &Path) -> Unpacking {
        Unpacking::checked(path, sources(dataset).map(|(_, checks)| checks[index]))
    }

    fn checked(path: &Path, check: Option<Check>) -> Unpacking {
        Unpacking {
            path: path.into(),
            body: Body::Undecided(Vec::new()),
            checksum: match check {
                None => Checksum::None,
                Some(Check::Md5OfGz(expected)) => Checksum::Md5OfGz {
                    expected,
                    file: Md5::new(),
                },
                Some(Check::Sha256OfRaw(expected)) => Checksum::Sha256OfRaw {
                    expected,
                    contents: Sha256::new(),
                    hashed: 0,
                },
            },
        }
    }

    /// The next piece of the file as stored.
    pub fn feed(&mut self, piece: &[u8]) -> Result<()> {
        if let Checksum::Md5OfGz { file, .. } = &mut self.checksum {
            file.update(piece);
        }
        if let Body::Undecided(start) = &mut self.body {
            start.extend_from_slice(piece);
            if start.len() < 2 {
                return Ok(());
            }
            let start = std::mem::take(start);
            self.body = match is_gzip(&start) {
                true => Body::Gzip(Box::new(idx::Inflater::new(&self.path))),
                false => Body::Plain(Vec::new()),
            };
            return self.feed_decided(&start);
        }
        self.feed_decided(piece)
    }

    /// [`Unpacking::feed`] once the file's kind is known.
    fn feed_decided(&mut self, piece: &[u8]) -> Result<()> {
        let contents = match &mut self.body {
            Body::Gzip(inflater) => {
                inflater.feed(piece)?;
                inflater.inflated()
            }
            Body::Plain(kept) | Body::Undecided(kept) => {
                kept.extend_from_slice(piece);
                kept
            }
        };
        if let Checksum::Sha256OfRaw {
            contents: sha, hashed, ..
        } = &mut self.checksum
        {
            sha.update(&contents[*hashed..]);
            *hashed = contents.len();
        }
        Ok(())
    }

    /// The file's contents once every piece was fed.
    pub fn finish(self) -> Result<Unpacked> {
        let (gzipped, contents) = match self.body {
            Body::Gzip(inflater) => (true, inflater.finish()?),
            Body::Plain(kept) | Body::Undecided(kept) => (false, kept),
        };
        let found = match self.checksum {
            Checksum::Md5OfGz { expected, file } if gzipped => Some((expected, hex(&file.finalize()))),
            Checksum::Sha256OfRaw {
                expected,
                contents: mut sha,
                hashed,
            } => {
                // Finishing the stream may have inflated its last bytes (and a file of one byte
                // was never hashed).
                sha.update(&contents[hashed..]);
                Some((expected, hex(&sha.finalize())))
            }
            // An uncompressed file cannot be held to the MD5 of its `.gz` and passes that check.
            Checksum::Md5OfGz { .. } | Checksum::None => None,
        };
        let official = match found {
            Some((expected, found)) if found != expected => Err(format!("checksum {found}, expected {expected}")),
            _ => Ok(()),
        };
        Ok(Unpacked {
            path: self.path,
            contents,
            official,
        })
    }
}

/// [`decode_idx_dataset`] from its four files already unpacked.
pub fn decode_unpacked(dataset: DatasetName, files: [Unpacked; 4], strict: bool) -> Result<Splits> {
    let name = dataset.as_str();
    let mut warnings = Vec::new();
    let mut contents = Vec::with_capacity(4);
    for file in files {
        if let Err(detail) = file.official {
            let message = format!(
                "{}: {detail}: not the official file (damaged download?)",
                file.path.display()
            );
            if strict {
                return Err(Error::DatasetMismatch {
                    name: name.into(),
                    detail: format!("{message}; rejected by --strict-data"),
                });
            }
            warnings.push(message);
        }
        contents.push((file.path, file.contents));
    }
    let [train_images, train_labels, test_images, test_labels] = <[(PathBuf, Vec<u8>); 4]>::try_from(contents)
        .map_err(|_| Error::DatasetMismatch {
            name: name.into(),
            detail: "expected four files".into(),
        })?;
    let class_names = dataset.image_class_names();
    let classes = class_names.len();
    let train = idx_split(name, train_images, train_labels, classes)?;
    let test = idx_split(name, test_images, test_labels, classes)?;
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
        test: Some(test),
        class_names,
        warnings,
        table: None,
    })
}

/// Reads one images/labels pair and checks they agree with each other and the class count.
fn idx_split(
    name: &str,
    (images_path, images): (PathBuf, Vec<u8>),
    (labels_path, labels): (PathBuf, Vec<u8>),
    classes: usize,
) -> Result<Dataset> {
    let images = idx::decode_images(&images_path, images)?;
    let labels = idx::decode_labels(&labels_path, labels)?;
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
            path: labels_path,
            field: "label",
            detail: format!("label {l} at index {i} is out of range: expected 0..{classes}"),
        });
    }
    Ok(Dataset {
        features: Features::U8(images.pixels),
        labels: labels.into_iter().map(u32::from).collect(),
        dim: images.rows * images.cols,
        transform: Affine::UNIT_PIXELS,
        weights: None,
    })
}

/// How a downloaded file is known to be right.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// MD5 of the `.gz` file as published.
    Md5OfGz(&'static str),
    /// SHA-256 of the decompressed bytes (a re-compressed copy still verifies).
    Sha256OfRaw(&'static str),
}

/// The default mirror and each file's check, in [`FILES`] order.
pub fn sources(name: DatasetName) -> Option<(&'static str, [Check; 4])> {
    match name {
        DatasetName::Mnist => Some((
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            [
                Check::Md5OfGz("f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                Check::Md5OfGz("d53e105ee54ea40749a09fcbcd1e9432"),
                Check::Md5OfGz("9fb629c4189551a2d022fa330f9573f3"),
                Check::Md5OfGz("ec29112dd5afa0611ce80d1b7f02629c"),
            ],
        )),
        DatasetName::Fashion => Some((
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            [
                Check::Sha256OfRaw("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
                Check::Sha256OfRaw("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
                Check::Sha256OfRaw("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
                Check::Sha256OfRaw("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
            ],
        )),
        DatasetName::Blobs | DatasetName::Circle | DatasetName::Spiral | DatasetName::Xor => None,
    }
}

/// `Ok(())` when a file's bytes (gzip-compressed or not) pass `check`, else what was found.
/// An uncompressed file cannot be held to the MD5 of its `.gz` and passes that check.
#[cfg(feature = "download")]
pub fn verify(file: &[u8], check: Check) -> std::result::Result<(), String> {
    // Inflated no further than its IDX header promises: a downloaded bomb stops there.
    let mut unpacking = Unpacking::checked(Path::new("download"), Some(check));
    unpacking
        .feed(file)
        .map_err(|e| format!("not a valid IDX gzip file ({e})"))?;
    let unpacked = unpacking
        .finish()
        .map_err(|e| format!("not a valid IDX gzip file ({e})"))?;
    unpacked.official
}

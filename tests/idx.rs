//! IDX reading and dataset lookup, on files generated in a temporary folder.

use std::io::Write;
use std::path::Path;

use gpu_mlp::data::idx::{self, encode, IMAGES_MAGIC, LABELS_MAGIC};
use gpu_mlp::data::{load, DatasetName, Features, LoadOptions};
use gpu_mlp::Error;

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("in-memory write");
    enc.finish().expect("in-memory gzip")
}

/// Writes an MNIST-style dataset: `n_train`/`n_test` 2×3 images with labels `i % 10`.
fn write_dataset(dir: &Path, n_train: u32, n_test: u32, compress: bool) {
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let pixels: Vec<u8> = (0..n * 6).map(|i| (i % 251) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let files = [
            (
                format!("{prefix}-images-idx3-ubyte"),
                encode(IMAGES_MAGIC, &[n, 2, 3], &pixels),
            ),
            (
                format!("{prefix}-labels-idx1-ubyte"),
                encode(LABELS_MAGIC, &[n], &labels),
            ),
        ];
        for (name, bytes) in files {
            if compress {
                std::fs::write(dir.join(name + ".gz"), gz(&bytes)).expect("write fixture");
            } else {
                std::fs::write(dir.join(name), bytes).expect("write fixture");
            }
        }
    }
}

fn load_mnist(dir: &Path) -> gpu_mlp::Result<gpu_mlp::data::Splits> {
    load(
        DatasetName::Mnist,
        &LoadOptions {
            data_dir: Some(dir.to_path_buf()),
            ..LoadOptions::default()
        },
    )
}

fn expect_idx_error(result: gpu_mlp::Result<impl std::fmt::Debug>, field: &str) -> String {
    match result {
        Err(e @ Error::Idx { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(field), "error `{msg}` does not name `{field}`");
            msg
        }
        other => panic!("expected an IDX error about {field}, got {other:?}"),
    }
}

#[test]
fn round_trips_raw_and_gzip() {
    for compress in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        write_dataset(dir.path(), 12, 5, compress);
        let splits = load_mnist(dir.path()).expect("loads");
        assert_eq!(
            (
                splits.train.len(),
                splits.test.as_ref().map_or(0, |t| t.len()),
                splits.train.dim
            ),
            (12, 5, 6)
        );
        assert_eq!(splits.train.labels[..3], [0, 1, 2]);
        let Features::U8(pixels) = &splits.train.features else {
            panic!("images stay u8")
        };
        assert_eq!(pixels[..7], [0, 1, 2, 3, 4, 5, 6]);
        let mut row = [0.0; 6];
        splits.train.write_row(1, &mut row);
        assert!((row[0] - 6.0 / 255.0).abs() < 1e-7, "pixels scale to [0, 1]");
    }
}

#[test]
fn truncated_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("images");
    let full = encode(IMAGES_MAGIC, &[4, 2, 3], &[7; 24]);
    std::fs::write(&path, &full[..full.len() - 5]).expect("write");
    let msg = expect_idx_error(idx::read_images(&path), "data length");
    assert!(
        msg.contains("truncated") && msg.contains(&path.display().to_string()),
        "{msg}"
    );
    std::fs::write(&path, &full[..10]).expect("write");
    expect_idx_error(idx::read_images(&path), "header");
}

#[test]
fn wrong_magic_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("labels-as-images");
    std::fs::write(&path, encode(LABELS_MAGIC, &[3], &[1, 2, 3])).expect("write");
    let msg = expect_idx_error(idx::read_images(&path), "magic");
    assert!(msg.contains("2051"), "{msg}");
}

#[test]
fn dimension_overflow_is_rejected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge");
    std::fs::write(&path, encode(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[])).expect("write");
    let msg = expect_idx_error(idx::read_images(&path), "");
    assert!(msg.contains("overflow") || msg.contains("data length"), "{msg}");
}

/// A gzip stream that inflates past what its IDX header promises (a decompression bomb) is
/// refused as soon as it does, and a header promising more than a dataset file may hold is
/// refused before anything is inflated.
#[test]
fn gzip_bombs_are_stopped_by_the_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bomb.gz");
    // Two 2×2 images promised, 64 MiB of pixels in the stream.
    let mut body = encode(IMAGES_MAGIC, &[2, 2, 2], &[]);
    body.resize(body.len() + (64 << 20), 0);
    std::fs::write(&path, gz(&body)).expect("write");
    let msg = expect_idx_error(idx::read_images(&path), "data length");
    assert!(msg.contains("inflates past the 24 bytes"), "{msg}");
    std::fs::write(&path, gz(&encode(IMAGES_MAGIC, &[60_000, 40_000, 40_000], &[]))).expect("write");
    let msg = expect_idx_error(idx::read_images(&path), "dimensions");
    assert!(msg.contains("bytes a dataset file may hold"), "{msg}");
}

/// A dataset path that is a FIFO or a directory is refused, not read (a FIFO would block).
#[test]
fn dataset_paths_must_be_regular_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let msg = expect_idx_error(idx::read_labels(dir.path()), "file");
    assert!(msg.contains("directory"), "{msg}");
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let msg = expect_idx_error(idx::read_labels(&fifo), "file");
        assert!(msg.contains("not a regular file"), "{msg}");
    }
}

#[test]
fn corrupt_gzip_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken.gz");
    let mut bytes = gz(&encode(LABELS_MAGIC, &[100], &[1; 100]));
    let cut = bytes.len() / 2;
    bytes.truncate(cut);
    std::fs::write(&path, bytes).expect("write");
    expect_idx_error(idx::read_labels(&path), "gzip");
}

#[test]
fn image_and_label_counts_must_agree() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_dataset(dir.path(), 12, 5, false);
    std::fs::write(
        dir.path().join("train-labels-idx1-ubyte"),
        encode(LABELS_MAGIC, &[11], &[0; 11]),
    )
    .expect("write");
    match load_mnist(dir.path()) {
        Err(e @ Error::DatasetMismatch { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("12 images") && msg.contains("11 labels"), "{msg}");
        }
        other => panic!("expected a count mismatch, got {other:?}"),
    }
}

#[test]
fn labels_out_of_range_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_dataset(dir.path(), 12, 5, false);
    let mut labels = vec![1u8; 5];
    labels[3] = 10;
    std::fs::write(
        dir.path().join("t10k-labels-idx1-ubyte"),
        encode(LABELS_MAGIC, &[5], &labels),
    )
    .expect("write");
    let msg = expect_idx_error(load_mnist(dir.path()), "label");
    assert!(msg.contains("label 10 at index 3") && msg.contains("0..10"), "{msg}");
}

#[test]
fn missing_dataset_says_where_it_looked_and_how_to_get_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    match load_mnist(dir.path()) {
        Err(e @ Error::DatasetNotFound { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
            assert!(msg.contains("data/mnist") && msg.contains("--data-dir"), "{msg}");
        }
        other => panic!("expected not-found, got {other:?}"),
    }
}

#[test]
fn files_in_a_named_subfolder_are_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("mnist")).expect("mkdir");
    write_dataset(&dir.path().join("mnist"), 3, 2, true);
    assert_eq!(load_mnist(dir.path()).expect("loads").train.len(), 3);
}

/// The four files of the fixture in `dir`, as stored, in `locate::FILES`' order.
fn stored_files(dir: &Path) -> [(std::path::PathBuf, Vec<u8>); 4] {
    gpu_mlp::data::locate::FILES.map(|base| {
        let path = dir.join(format!("{base}.gz"));
        let bytes = std::fs::read(&path).expect("fixture");
        (path, bytes)
    })
}

/// A page unpacks a file piece by piece, yielding between pieces: whatever the pieces, it gets
/// what the command line gets at once, the checksum's verdict included (these fixtures are not
/// the official files, so each is a warning).
#[test]
fn files_unpacked_piece_by_piece_are_the_files_unpacked_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_dataset(dir.path(), 300, 50, true);
    // MNIST's files are checked by the MD5 of the .gz, Fashion-MNIST's by the SHA-256 of the
    // contents.
    for dataset in [DatasetName::Mnist, DatasetName::Fashion] {
        let at_once = gpu_mlp::data::decode_idx_dataset(dataset, stored_files(dir.path()), false).expect("decodes");
        assert_eq!(at_once.warnings.len(), 4, "{:?}", at_once.warnings);
        for piece in [1, 7, 129, 4096] {
            let unpacked = stored_files(dir.path())
                .into_iter()
                .enumerate()
                .map(|(i, (path, bytes))| {
                    let mut unpacking = gpu_mlp::data::Unpacking::new(dataset, i, &path);
                    for part in bytes.chunks(piece) {
                        unpacking.feed(part).expect("a piece");
                    }
                    unpacking.finish().expect("unpacks")
                });
            let unpacked: [gpu_mlp::data::Unpacked; 4] = unpacked.collect::<Vec<_>>().try_into().ok().expect("four");
            let in_pieces = gpu_mlp::data::decode_unpacked(dataset, unpacked, false).expect("decodes");
            assert_eq!(in_pieces.warnings, at_once.warnings, "{dataset:?}, pieces of {piece}");
            assert_eq!(in_pieces.train.labels, at_once.train.labels, "pieces of {piece}");
            assert_eq!(in_pieces.test.as_ref().map(|t| t.len()), Some(50));
            match (&in_pieces.train.features, &at_once.train.features) {
                (Features::U8(a), Features::U8(b)) => assert_eq!(a, b, "pieces of {piece}"),
                other => panic!("expected u8 pixels, got {other:?}"),
            }
        }
    }
}

/// A bomb fed piece by piece is stopped as the header says, as it is at once.
#[test]
fn a_gzip_bomb_fed_in_pieces_is_stopped_by_the_header() {
    let mut body = encode(LABELS_MAGIC, &[16], &[1u8; 16]);
    body.extend(std::iter::repeat_n(0u8, 1 << 20));
    let bomb = gz(&body);
    let mut inflater = idx::Inflater::new(Path::new("bomb.gz"));
    let refused = bomb
        .chunks(100)
        .try_for_each(|piece| inflater.feed(piece))
        .map(|_| inflater.finish());
    let message = match refused {
        Err(e) | Ok(Err(e)) => e.to_string(),
        Ok(Ok(out)) => panic!("inflated {} bytes", out.len()),
    };
    assert!(
        message.contains("inflates past the 24 bytes its header promises"),
        "{message}"
    );
}

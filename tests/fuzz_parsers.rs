//! Property tests: random and mutated bytes fed to every parser (IDX raw and gzip, PNG/PGM
//! images, safetensors checkpoints, TOML configs). Each must answer Ok or a typed error — never
//! panic. Thousands of cases per run.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use gpu_mlp::checkpoint::Checkpoint;
use gpu_mlp::data::idx::{decode_images, decode_labels, encode, IMAGES_MAGIC};
use gpu_mlp::image::decode_gray;
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::train::Event;
use proptest::prelude::*;

const CASES: u32 = 1500;

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("in memory");
    enc.finish().expect("in memory")
}

fn valid_images() -> Vec<u8> {
    encode(IMAGES_MAGIC, &[3, 4, 5], &(0..60).map(|i| i as u8).collect::<Vec<_>>())
}

/// A small trained checkpoint's bytes, made once.
fn checkpoint_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let table: toml::Table = toml::from_str(
            "dataset = \"blobs\"\nsamples = 40\nhidden = [3]\nepochs = 1\noptimizer = \"adam\"\ndevice = \"cpu\"",
        )
        .expect("TOML");
        let config = Config::resolve(None, &table).expect("config");
        let mut run = Run::with_dir(&config, Some(dir.path()), false).expect("run");
        run.train(&mut |_: Event<'_>| {}).expect("trains");
        std::fs::read(dir.path().join("last.safetensors")).expect("checkpoint")
    })
}

/// `base` with up to 8 bytes overwritten at random places and possibly cut short.
fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    (proptest::collection::vec((0..len.max(1), any::<u8>()), 0..8), 0..=len).prop_map(move |(edits, keep)| {
        let mut bytes = base.clone();
        for (at, v) in edits {
            if at < bytes.len() {
                bytes[at] = v;
            }
        }
        bytes.truncate(keep.max(1));
        bytes
    })
}

fn name() -> &'static Path {
    Path::new("fuzzed")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn idx_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_images(name(), bytes.clone());
        let _ = decode_labels(name(), bytes);
    }

    #[test]
    fn idx_never_panics_on_mutated_files(bytes in mutated(valid_images())) {
        let plain = decode_images(name(), bytes.clone());
        let _ = decode_images(name(), gz(&bytes));
        if let Ok(images) = plain {
            prop_assert_eq!(images.pixels.len(), images.count * images.rows * images.cols);
        }
    }

    #[test]
    fn idx_never_panics_on_mutated_gzip(bytes in mutated(gz(&valid_images()))) {
        let _ = decode_images(name(), bytes);
    }

    #[test]
    fn images_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), header in 0usize..3) {
        // Random bodies behind plausible headers, and bare random bytes.
        let prefix: &[u8] = [&b"P5\n28 28\n255\n"[..], &b"P2 3 3 255 "[..], &b"\x89PNG\r\n\x1a\n"[..]][header];
        let with_header = [prefix, &bytes[..]].concat();
        let _ = decode_gray(name(), &with_header, 28);
        let _ = decode_gray(name(), &bytes, 28);
    }

    #[test]
    fn checkpoints_never_panic(bytes in mutated(checkpoint_bytes().to_vec())) {
        let _ = Checkpoint::from_bytes(name(), &bytes);
    }

    #[test]
    fn configs_never_panic(text in "[a-z_]{1,12} = ([0-9.e-]{1,8}|\"[a-z-]{0,12}\"|\\[[0-9, ]{0,10}\\]|true)\n{0,3}") {
        let _ = Config::from_toml(name(), &text);
    }

    #[test]
    fn configs_never_panic_on_any_text(text in "\\PC{0,80}") {
        let _ = Config::from_toml(name(), &text);
    }
}

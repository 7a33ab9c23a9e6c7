//! `gpu-mlp predict`: the top classes of one test image or an image file.

use std::path::PathBuf;

use gpu_mlp::checkpoint::{self, Checkpoint};
use gpu_mlp::data::{Dataset, Features};
use gpu_mlp::evaluate;
use gpu_mlp::Error;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["index", "image"])))]
pub struct PredictArgs {
    /// A checkpoint written by `train`, or a run directory (its best checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Index of an image in the test split.
    #[arg(long)]
    index: Option<usize>,
    /// A PNG or PGM file, converted to 28×28 grayscale (light strokes on dark, like the datasets).
    #[arg(long)]
    image: Option<PathBuf>,
    /// How many classes to list (≥ 1).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    top_k: u32,
    /// Draw the image in the terminal.
    #[arg(long)]
    show: bool,
    /// Invert the image's shades first (for dark strokes on a light background).
    #[arg(long, requires = "image")]
    invert: bool,
    /// Folder with the dataset's IDX files (for --index).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

pub fn run(args: &PredictArgs) -> Result<(), Error> {
    let checkpoint = Checkpoint::load(&checkpoint::resolve(&args.checkpoint)?)?;
    let spec = checkpoint.meta.spec()?;
    let side = (spec.inputs() as f64).sqrt() as usize;
    let (pixels, truth) = match (&args.image, args.index) {
        (Some(path), _) => {
            if side * side != spec.inputs() {
                return Err(Error::InvalidConfig {
                    field: "image",
                    detail: format!("the model takes {} features, not a square image", spec.inputs()),
                });
            }
            let mut pixels = gpu_mlp::image::load_gray(path, side)?;
            if args.invert {
                gpu_mlp::image::invert(&mut pixels);
            } else if gpu_mlp::image::looks_dark_on_light(&pixels, side) {
                eprintln!(
                    "warning: {} looks dark-on-light; the model learned light strokes on black: pass --invert",
                    path.display()
                );
            }
            (pixels, None)
        }
        (None, index) => {
            let data = evaluate::test_data(&checkpoint, None, args.data_dir.as_deref())?;
            let index = index.unwrap_or(0);
            let Features::U8(all) = &data.features else {
                return Err(Error::InvalidConfig {
                    field: "index",
                    detail: "predict --index needs an image dataset".into(),
                });
            };
            if index >= data.len() {
                return Err(Error::InvalidConfig {
                    field: "index",
                    detail: format!("{index} is past the test split's {} images", data.len()),
                });
            }
            (
                all[index * data.dim..(index + 1) * data.dim].to_vec(),
                Some(data.labels[index] as usize),
            )
        }
    };
    if args.show && side * side == pixels.len() {
        print!("{}", gpu_mlp::image::render(&pixels, side));
    }
    let sample = Dataset {
        features: Features::U8(pixels),
        labels: vec![0],
        dim: spec.inputs(),
        transform: checkpoint.meta.input_transform(),
    };
    let outputs = evaluate::outputs(&checkpoint, &sample)?;
    let probs = evaluate::probabilities(spec.loss, &outputs);
    let mut ranked: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let names = &checkpoint.meta.class_names;
    if let Some(t) = truth {
        println!("true class: {t} {}", names[t]);
    }
    for (rank, (class, p)) in ranked.iter().take(args.top_k as usize).enumerate() {
        println!("{}. {class} {:<12} {:6.2}%", rank + 1, names[*class], 100.0 * p);
    }
    Ok(())
}

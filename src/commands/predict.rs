//! `gpu-mlp predict`: the top classes of one test image, an image file, a point of a 2-D toy
//! set, or every row of a CSV table.

use std::path::{Path, PathBuf};

use gpu_mlp::checkpoint::{self, Checkpoint};
use gpu_mlp::data::table::{KeepColumns, RowsToPredict};
use gpu_mlp::data::{Affine, Dataset, Features};
use gpu_mlp::insight::evaluate;
use gpu_mlp::Error;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["index", "image", "data", "point"])))]
pub struct PredictArgs {
    /// A checkpoint written by `train`, or a run directory (its best checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Index of an image in the test split, or several comma-separated (3,17,42).
    #[arg(long, value_delimiter = ',', value_name = "I[,J…]")]
    index: Option<Vec<usize>>,
    /// A PNG or PGM file, converted to 28×28 grayscale (light strokes on dark, like the datasets).
    #[arg(long)]
    image: Option<PathBuf>,
    /// A CSV file of rows to classify, with the training table's feature columns (its target
    /// column, if present, is ignored): one line of predictions per row.
    #[arg(long, value_name = "ROWS.csv")]
    data: Option<PathBuf>,
    /// Columns of the --data rows to copy into the predictions (keys such as `id,name`), so
    /// they join back by key [default: the columns training ignored (--ignore) that the file has].
    #[arg(long, requires = "data", value_delimiter = ',', value_name = "COLUMNS")]
    keep: Option<Vec<String>>,
    /// Where to write the --data predictions as CSV [default: standard output].
    #[arg(long, requires = "data")]
    out: Option<PathBuf>,
    /// One sample's features, comma-separated (e.g. `0.5,-1.2` for blobs or circle), before
    /// normalization.
    #[arg(long, value_name = "X,Y", value_delimiter = ',', allow_hyphen_values = true)]
    point: Option<Vec<f32>>,
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
    let file = checkpoint::resolve(&args.checkpoint)?;
    let checkpoint = Checkpoint::load(&file)?;
    let run_dir = file.parent().unwrap_or(std::path::Path::new("."));
    if let Some(rows) = &args.data {
        let keep = match &args.keep {
            Some(names) => KeepColumns {
                names: names
                    .iter()
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect(),
                required: true,
            },
            None => KeepColumns {
                names: checkpoint.meta.config.table.ignore.clone(),
                required: false,
            },
        };
        return predict_table(&checkpoint, rows, &keep, args.out.as_deref(), args.top_k as usize);
    }
    if let Some(point) = &args.point {
        return predict_point(&checkpoint, point, args.top_k as usize);
    }
    let spec = checkpoint.meta.spec()?;
    let side = (spec.inputs() as f64).sqrt() as usize;
    // Each image to classify, with its heading and true class when it has one.
    let images: Vec<(Vec<u8>, Option<String>, Option<usize>)> = match (&args.image, &args.index) {
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
            vec![(pixels, None, None)]
        }
        (None, indices) => {
            let data = evaluate::test_data(&checkpoint, None, args.data_dir.as_deref(), run_dir)?;
            let Features::U8(all) = &data.features else {
                return Err(Error::InvalidConfig {
                    field: "index",
                    detail: "predict --index needs an image dataset".into(),
                });
            };
            let indices = indices.clone().unwrap_or_else(|| vec![0]);
            if let Some(past) = indices.iter().find(|&&i| i >= data.len()) {
                return Err(Error::InvalidConfig {
                    field: "index",
                    detail: format!("{past} is past the test split's {} images", data.len()),
                });
            }
            let several = indices.len() > 1;
            indices
                .iter()
                .map(|&i| {
                    let heading = several.then(|| format!("test image {i}"));
                    (
                        all[i * data.dim..(i + 1) * data.dim].to_vec(),
                        heading,
                        Some(data.labels[i] as usize),
                    )
                })
                .collect()
        }
    };
    let names = &checkpoint.meta.class_names;
    for (n, (pixels, heading, truth)) in images.into_iter().enumerate() {
        if let Some(heading) = heading {
            println!("{}{heading}", if n > 0 { "\n" } else { "" });
        }
        if args.show && side * side == pixels.len() {
            print!("{}", gpu_mlp::image::render(&pixels, side));
        }
        if let Some(t) = truth {
            println!("true class: {t} {}", names[t]);
        }
        let sample = Dataset {
            features: Features::U8(pixels),
            labels: vec![0],
            dim: spec.inputs(),
            transform: checkpoint.meta.input_transform(),
            weights: None,
        };
        print_ranked(&checkpoint, &sample, args.top_k as usize)?;
    }
    Ok(())
}

/// The classes of the single sample in `sample`, most probable first: `rank. index name p%`.
fn print_ranked(checkpoint: &Checkpoint, sample: &Dataset, top_k: usize) -> Result<(), Error> {
    let outputs = evaluate::outputs(checkpoint, sample)?;
    let names = &checkpoint.meta.class_names;
    let ranked: Vec<(usize, f32)> = evaluate::ranked(checkpoint.meta.loss, &outputs)
        .into_iter()
        .take(top_k)
        .collect();
    // Columns as wide as their widest entry, so ten or more lines stay aligned.
    let rank_width = ranked.len().to_string().len() + 1;
    let class_width = names.len().saturating_sub(1).to_string().len();
    let name_width = ranked.iter().map(|(c, _)| names[*c].chars().count()).max().unwrap_or(0);
    for (rank, (class, p)) in ranked.iter().enumerate() {
        let rank = format!("{}.", rank + 1);
        println!(
            "{rank:>rank_width$} {class:>class_width$} {:<name_width$} {:6.2}%",
            names[*class],
            100.0 * p
        );
    }
    Ok(())
}

/// One sample given by its features, transformed as in training: a toy set's coordinates, or
/// a table model's numeric columns in their order (encoded as its rows are).
fn predict_point(checkpoint: &Checkpoint, point: &[f32], top_k: usize) -> Result<(), Error> {
    let spec = checkpoint.meta.spec()?;
    let refuse = |detail: String| Error::InvalidConfig {
        field: "point",
        detail: format!("(--point) {detail}"),
    };
    if let Some(v) = point.iter().find(|v| !v.is_finite()) {
        return Err(refuse(format!("every coordinate must be a finite number, got {v}")));
    }
    let (features, transform) = match &checkpoint.meta.table {
        Some(codec) => {
            let values: Vec<String> = point.iter().map(f32::to_string).collect();
            (codec.encode_values(&values).map_err(refuse)?, Affine::IDENTITY)
        }
        None if point.len() != spec.inputs() => {
            return Err(refuse(format!(
                "{} values given; the model takes {} features",
                point.len(),
                spec.inputs()
            )))
        }
        None => (point.to_vec(), checkpoint.meta.input_transform()),
    };
    let sample = Dataset {
        features: Features::F32(features),
        labels: vec![0],
        dim: spec.inputs(),
        transform,
        weights: None,
    };
    print_ranked(checkpoint, &sample, top_k)
}

/// Every row of `rows` encoded as in training, as CSV: its line in `rows`, the `keep` columns,
/// the predicted class and its probability, then the next most probable classes up to `top_k`.
fn predict_table(
    checkpoint: &Checkpoint,
    rows: &Path,
    keep: &KeepColumns,
    out: Option<&Path>,
    top_k: usize,
) -> Result<(), Error> {
    if let Some(out) = out {
        gpu_mlp::files::check_output_file(out)?;
    }
    let Some(codec) = &checkpoint.meta.table else {
        return Err(Error::InvalidConfig {
            field: "data",
            detail: "the model was not trained on a table: predict images with --index or --image".into(),
        });
    };
    let RowsToPredict { data, lines, kept } =
        codec.encode_file(rows, checkpoint.meta.config.table.delimiter as u8, keep)?;
    let outputs = evaluate::outputs(checkpoint, &data)?;
    let names = &checkpoint.meta.class_names;
    let top_k = top_k.min(names.len());
    let mut header = vec!["line".to_string()];
    header.extend(kept.iter().map(|(name, _)| name.clone()));
    header.extend(["predicted".into(), "probability".into()]);
    for k in 2..=top_k {
        header.extend([format!("top{k}"), format!("top{k}_probability")]);
    }
    let mut csv = csv::Writer::from_writer(Vec::new());
    let units = outputs.len() / data.len().max(1);
    let write_error = |e: csv::Error| Error::Table {
        path: out.unwrap_or(Path::new("standard output")).to_path_buf(),
        line: None,
        column: None,
        detail: e.to_string(),
    };
    csv.write_record(&header).map_err(write_error)?;
    for (i, (line, row)) in lines.iter().zip(outputs.chunks_exact(units)).enumerate() {
        let mut record = vec![line.to_string()];
        record.extend(kept.iter().map(|(_, values)| values[i].clone()));
        for (class, p) in evaluate::ranked(checkpoint.meta.loss, row).iter().take(top_k) {
            record.extend([names[*class].clone(), format!("{p:.6}")]);
        }
        csv.write_record(&record).map_err(write_error)?;
    }
    // Writing into memory cannot fail.
    let text = csv.into_inner().expect("an in-memory CSV writer flushes");
    match out {
        Some(path) => {
            gpu_mlp::files::write_atomic(path, &text)?;
            eprintln!("wrote {} predictions to {}", lines.len(), path.display());
        }
        None => print!("{}", String::from_utf8_lossy(&text)),
    }
    Ok(())
}

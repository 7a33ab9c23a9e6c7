//! `gpu-mlp eval`: a checkpoint's loss, accuracy, confusion matrix and per-class scores.

use std::path::PathBuf;

use gpu_mlp::checkpoint::{self, Checkpoint};
use gpu_mlp::data::DatasetName;
use gpu_mlp::insight::evaluate;
use gpu_mlp::Error;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// A checkpoint written by `train`, or a run directory (its best checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Evaluate on this dataset's test split instead of the checkpoint's own.
    #[arg(long, value_enum)]
    dataset: Option<DatasetName>,
    /// Folder with the dataset's IDX files.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &EvalArgs) -> Result<(), Error> {
    let file = checkpoint::resolve(&args.checkpoint)?;
    let checkpoint = Checkpoint::load(&file)?;
    let run_dir = file.parent().unwrap_or(std::path::Path::new("."));
    let data = evaluate::test_data(&checkpoint, args.dataset, args.data_dir.as_deref(), run_dir)?;
    let result = evaluate::evaluate(&checkpoint, &data)?;
    if args.json {
        // Plain numbers and strings: serialization cannot fail.
        println!(
            "{}",
            serde_json::to_string_pretty(&result).expect("evaluation serializes")
        );
    } else {
        println!(
            "{}: {} test samples, loss {:.4}, accuracy {:.2}%\n",
            args.checkpoint.display(),
            result.samples,
            result.loss,
            100.0 * result.accuracy
        );
        print!("{}", result.table());
    }
    Ok(())
}

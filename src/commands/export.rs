//! `gpu-mlp export RUN --out FILE`: a run's weights alone, for other tools.

use std::path::PathBuf;

use gpu_mlp::checkpoint::{self, Checkpoint};
use gpu_mlp::Error;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// A run directory (its best checkpoint, else its last) or a checkpoint file.
    run: PathBuf,
    /// Where to write the weights (must not exist yet).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: &ExportArgs) -> Result<(), Error> {
    if args.out.exists() {
        return Err(Error::ConfigFile {
            path: args.out.clone(),
            detail: "already exists: choose another --out (nothing is overwritten)".into(),
        });
    }
    gpu_mlp::files::check_output_file(&args.out)?;
    let checkpoint = Checkpoint::load(&checkpoint::resolve(&args.run)?)?;
    checkpoint.export_weights(&args.out)?;
    println!(
        "wrote the weights of {} ({} tensors) to {}",
        checkpoint.meta.spec()?.describe(),
        2 * (checkpoint.meta.sizes.len() - 1),
        args.out.display()
    );
    Ok(())
}

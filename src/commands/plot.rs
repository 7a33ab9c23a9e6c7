//! `gpu-mlp plot RUN`: redraw a run directory's plots.

use std::path::PathBuf;

use gpu_mlp::Error;

#[derive(clap::Args)]
pub struct PlotArgs {
    /// The run directory (e.g. runs/run-1700000000).
    run: PathBuf,
}

pub fn run(args: &PlotArgs) -> Result<(), Error> {
    for file in gpu_mlp::report::plot_run(&args.run)? {
        println!("wrote {}", file.display());
    }
    Ok(())
}

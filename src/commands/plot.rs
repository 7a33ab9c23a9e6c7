//! `gpu-mlp plot RUN [RUN …]`: redraw a run directory's plots, or draw several runs side by side.

use std::path::PathBuf;

use gpu_mlp::report::ExampleChoice;
use gpu_mlp::Error;

#[derive(clap::Args)]
pub struct PlotArgs {
    /// The run directory (e.g. runs/run-1700000000); with several, their loss and accuracy
    /// curves are overlaid in compare-loss and compare-accuracy plots, each run labelled by
    /// the settings in which the runs differ.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where the comparison plots go, created if missing [default: the runs' common parent
    /// directory].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Which test images examples.png shows (one run): first, misclassified (the first nine the
    /// model gets wrong), or up to nine test indices such as 3,17,42.
    #[arg(long, value_name = "WHICH", default_value = "first")]
    examples: ExampleChoice,
}

pub fn run(args: &PlotArgs) -> Result<(), Error> {
    for run in &args.runs {
        gpu_mlp::run::artifacts::check_run_dir(run)?;
    }
    if let Some(out) = &args.out {
        gpu_mlp::run::artifacts::check_output_dir(out)?;
        std::fs::create_dir_all(out).map_err(|e| Error::Output {
            path: out.clone(),
            detail: format!("cannot be created: {e}"),
        })?;
    }
    let written = match args.runs.as_slice() {
        [one] if args.out.is_none() => gpu_mlp::run::plots::redraw(one, &args.examples)?,
        runs => {
            let out = args.out.clone().unwrap_or_else(|| common_parent(runs));
            let labels = gpu_mlp::run::plots::labels(runs)?;
            for (run, label) in runs.iter().zip(&labels) {
                println!("{}: {label}", run.display());
            }
            gpu_mlp::run::plots::compare(runs, &out)?
        }
    };
    for file in written {
        println!("wrote {}", file.display());
    }
    Ok(())
}

/// The deepest directory holding all of `runs` (`.` when they share none).
fn common_parent(runs: &[PathBuf]) -> PathBuf {
    let absolute: Vec<PathBuf> = runs
        .iter()
        .map(|r| std::path::absolute(r).unwrap_or_else(|_| r.clone()))
        .collect();
    let mut parent = absolute[0].parent().map(PathBuf::from).unwrap_or_default();
    while !absolute.iter().all(|r| r.starts_with(&parent)) {
        match parent.parent() {
            Some(up) => parent = up.to_path_buf(),
            None => return PathBuf::from("."),
        }
    }
    parent
}

//! `gpu-mlp download`: fetch MNIST or Fashion-MNIST, verified, with a progress bar.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use gpu_mlp::data::download::Limits;
use gpu_mlp::data::DatasetName;
use gpu_mlp::Error;

#[derive(clap::Args)]
pub struct DownloadArgs {
    /// fashion or mnist.
    #[arg(value_enum)]
    dataset: DatasetName,
    /// Download into DIR/<dataset>/ instead of ./data/<dataset>/.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Base URL to fetch the four .gz files from [default: $GPU_MLP_MIRROR, else the official mirror].
    #[arg(long)]
    mirror: Option<String>,
    /// Seconds to wait for a connection, a response or the next bytes before giving up.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// Seconds one file may take in all before giving up, however steadily it arrives.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    deadline: u64,
    /// Give up on a mirror sending fewer bytes a second than this, averaged over 20 s (0: any
    /// speed).
    #[arg(long, default_value_t = Limits::DEFAULT.min_rate)]
    min_rate: u64,
}

pub fn run(args: &DownloadArgs) -> Result<(), Error> {
    let paths = fetch(
        args.dataset,
        args.data_dir.as_deref(),
        args.mirror.as_deref(),
        Limits {
            timeout: Duration::from_secs(args.timeout),
            deadline: Duration::from_secs(args.deadline),
            min_rate: args.min_rate,
            ..Limits::DEFAULT
        },
    )?;
    for path in paths {
        println!("{}", path.display());
    }
    Ok(())
}

/// Downloads `dataset` into `data_dir/<name>` (default `data/<name>`), with a progress bar.
pub fn fetch(
    dataset: DatasetName,
    data_dir: Option<&Path>,
    mirror: Option<&str>,
    limits: Limits,
) -> Result<Vec<PathBuf>, Error> {
    if let Some(file) = data_dir.filter(|d| d.exists() && !d.is_dir()) {
        return Err(Error::Output {
            path: file.to_path_buf(),
            detail:
                "is not a directory: --data-dir takes the folder to download into (the files go to <folder>/<dataset>/)"
                    .into(),
        });
    }
    let dir = data_dir.unwrap_or(Path::new("data")).join(dataset.as_str());
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let paths = gpu_mlp::data::download::download(dataset, &dir, mirror, limits, &mut |file, done, total| {
        bar.set_message(file.to_string());
        bar.set_length(total.unwrap_or(done));
        bar.set_position(done);
    });
    bar.finish_and_clear();
    paths
}

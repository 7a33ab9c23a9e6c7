//! Plots of runs on disk: a finished run's redrawn from its directory (`gpu-mlp plot`), and
//! runs compared side by side (`plot` of several runs, a sweep's overlays). The files are read
//! here; [`crate::report`] draws from what they hold.

use std::path::{Path, PathBuf};

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::insight::evaluate;
use crate::report::{compare_runs, plot_model, run_labels, ExampleChoice};
use crate::run::artifacts::RunDir;

/// Regenerates the plots of the run in `dir` from its history and best (else last)
/// checkpoint, scored on its test split, with examples.png showing the `examples_shown`.
pub fn redraw(dir: &Path, examples_shown: &ExampleChoice) -> Result<Vec<PathBuf>> {
    let run_dir = RunDir {
        path: dir.to_path_buf(),
    };
    let history = run_dir.read_history()?;
    if history.is_empty() {
        return Err(Error::Checkpoint {
            path: dir.to_path_buf(),
            detail: "has no finished epoch yet: nothing to plot (train it further with --resume)".into(),
        });
    }
    let checkpoint_path = ["best.safetensors", "last.safetensors"]
        .iter()
        .map(|f| run_dir.file(f))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Checkpoint {
            path: dir.to_path_buf(),
            detail: "no best.safetensors or last.safetensors: not a run directory".into(),
        })?;
    let model = Checkpoint::load(&checkpoint_path)?;
    // A model without test samples has curves only.
    let test = match evaluate::has_test_data(&model, dir) {
        true => Some(evaluate::test_data(&model, None, None, dir)?),
        false => None,
    };
    plot_model(dir, &history, &model, test.as_ref(), examples_shown)
}

/// The runs in `dirs` side by side (see [`compare_runs`]) in `out`, each line labelled by the
/// settings in which the runs differ ([`labels`]).
pub fn compare(dirs: &[PathBuf], out: &Path) -> Result<Vec<PathBuf>> {
    let runs = labels(dirs)?
        .into_iter()
        .zip(dirs)
        .map(|(label, dir)| Ok((label, RunDir { path: dir.clone() }.read_history()?)))
        .collect::<Result<Vec<_>>>()?;
    compare_runs(&runs, out)
}

/// A label per run in `dirs`, from their config.toml files (see [`run_labels`]); runs that
/// differ in no setting are named by their directories.
pub fn labels(dirs: &[PathBuf]) -> Result<Vec<String>> {
    let runs = dirs
        .iter()
        .map(|dir| {
            let path = dir.join("config.toml");
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let config = toml::from_str::<toml::Table>(&text).map_err(|e| Error::ConfigFile {
                path,
                detail: e.message().to_string(),
            })?;
            let name = dir
                .file_name()
                .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
            Ok((name, config))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(run_labels(&runs))
}

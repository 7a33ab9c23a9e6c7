//! Finding dataset files: `--data-dir` alone when it is given (a directory that lacks the files
//! is an error, never a silent fall-back elsewhere), else `$GPU_MLP_DATA`, then
//! `./data/<name>/`, then the system-wide Debian location.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const ENV_VAR: &str = "GPU_MLP_DATA";

/// The four files of an MNIST-style dataset, by their official base names.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// The directories searched for dataset `name`, in order. Each given root is tried both as the
/// folder holding the files and as the parent of a `<name>/` folder. An explicit `data_dir` is
/// the only root searched.
pub fn candidate_dirs(name: &str, data_dir: Option<&Path>, system_dir: Option<&Path>) -> Vec<PathBuf> {
    if let Some(d) = data_dir {
        return vec![d.to_path_buf(), d.join(name)];
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
        roots.push(PathBuf::from(d));
    }
    let mut dirs: Vec<PathBuf> = roots.iter().flat_map(|r| [r.clone(), r.join(name)]).collect();
    dirs.push(Path::new("data").join(name));
    if let Some(d) = system_dir {
        dirs.push(d.to_path_buf());
    }
    dirs
}

/// `base` inside `dir`, gzipped or not, with the `-idx` or the `.idx` spelling some mirrors use.
fn find_file(dir: &Path, base: &str) -> Option<PathBuf> {
    let dotted = base.replacen("-idx", ".idx", 1);
    [base, dotted.as_str()]
        .iter()
        .flat_map(|b| [format!("{b}.gz"), b.to_string()])
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// Returns the paths of the four files from the first directory that holds all of them.
pub fn locate(name: &str, dirs: &[PathBuf], hint: &str) -> Result<[PathBuf; 4]> {
    for dir in dirs {
        let found: Vec<PathBuf> = FILES.iter().filter_map(|f| find_file(dir, f)).collect();
        if let Ok(paths) = <[PathBuf; 4]>::try_from(found) {
            return Ok(paths);
        }
    }
    Err(Error::DatasetNotFound {
        name: name.to_string(),
        searched: dirs.iter().map(|d| what_is_missing(d)).collect::<Vec<_>>().join("; "),
        hint: hint.to_string(),
    })
}

/// `dir` and which of the four files it lacks (or that it does not exist).
fn what_is_missing(dir: &Path) -> String {
    if !dir.is_dir() {
        return format!("{} (no such directory)", dir.display());
    }
    let missing: Vec<String> = FILES
        .iter()
        .filter(|f| find_file(dir, f).is_none())
        .map(|f| format!("{f}[.gz]"))
        .collect();
    format!("{} (missing {})", dir.display(), missing.join(", "))
}

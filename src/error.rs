//! The library's one error type: every failure names what went wrong and where.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A malformed IDX file: `field` names the header field or section that is wrong.
    #[error("{path}: bad IDX {field}: {detail}")]
    Idx {
        path: PathBuf,
        field: &'static str,
        detail: String,
    },

    /// A CSV table that cannot be used: the file, and where known the line and column.
    #[error("{path}{}: {detail}", table_location(*.line, .column.as_deref()))]
    Table {
        path: PathBuf,
        line: Option<u64>,
        column: Option<String>,
        detail: String,
    },

    /// A table given in memory (a DataFrame from Python) that cannot be used: what it was
    /// given as, and where known the row (0-based, as the caller counts) and column.
    #[error("{origin}{}: {detail}", row_location(*.row, .column.as_deref()))]
    Rows {
        origin: String,
        row: Option<usize>,
        column: Option<String>,
        detail: String,
    },

    #[error("dataset `{name}` not found; looked in: {searched}. {hint}")]
    DatasetNotFound {
        name: String,
        searched: String,
        hint: String,
    },

    /// Two inputs that must agree do not (image/label counts, image sizes, label range).
    #[error("dataset `{name}`: {detail}")]
    DatasetMismatch { name: String, detail: String },

    /// A config file (or the flags) that does not parse into a valid configuration.
    #[error("{path}: {detail}")]
    ConfigFile { path: PathBuf, detail: String },

    #[error("invalid {field}: {detail}")]
    InvalidConfig { field: &'static str, detail: String },

    /// A checkpoint (or run directory file) that cannot be used.
    #[error("{path}: {detail}")]
    Checkpoint { path: PathBuf, detail: String },

    /// An image file that cannot be read as a picture.
    #[error("{path}: bad image {field}: {detail}")]
    Image {
        path: PathBuf,
        field: &'static str,
        detail: String,
    },

    #[error("download of {url} failed: {detail}")]
    Download { url: String, detail: String },

    #[error("cannot draw a plot: {0}")]
    Plot(String),

    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),

    #[error("GPU error: {0}")]
    Gpu(String),

    /// The model or data does not fit the adapter's limits.
    #[error("does not fit the GPU: {0}")]
    DeviceLimit(String),

    /// An output path that cannot be written as asked (a file where a directory is needed, a
    /// link, a missing folder).
    #[error("{path}: {detail}")]
    Output { path: PathBuf, detail: String },

    /// `--out` names a directory that already holds a run.
    #[error(
        "{path} already holds a run: continue it with `--resume {path}`, or pass --force to move it aside and start anew"
    )]
    RunExists { path: PathBuf },

    /// Another process is training in the run directory.
    #[error("{path}: {detail}")]
    RunInUse { path: PathBuf, detail: String },

    /// A stop signal (see `run::signals`) ended work that cannot be saved halfway, such as a
    /// download; nothing was written.
    #[error("interrupted by signal {0}; nothing was written")]
    Interrupted(i32),

    /// A stop signal ended the drawing of a run's plots between files: those written are whole.
    #[error(
        "interrupted by signal {signal} while drawing the plots in {dir}: the files written so far are whole; \
         redraw them all with `gpu-mlp plot {dir}`"
    )]
    PlotsInterrupted { signal: i32, dir: PathBuf },

    /// A stop signal ended training between steps; the position was saved in `saved`.
    #[error("interrupted in epoch {epoch} after {steps} steps{}", resume_hint(.saved.as_deref()))]
    TrainingStopped {
        signal: i32,
        epoch: usize,
        steps: usize,
        saved: Option<PathBuf>,
    },

    /// `findings`: what the diagnostics of the epochs so far say (see `findings::findings`).
    #[error("training diverged at epoch {epoch}: {detail}{}", findings_list(.findings))]
    Diverged {
        epoch: usize,
        detail: String,
        findings: Vec<String>,
    },
}

/// Findings as an indented list after a message (nothing when there are none).
fn findings_list(findings: &[String]) -> String {
    match findings {
        [] => String::new(),
        _ => "\nfindings:".to_string() + &findings.iter().map(|f| format!("\n  - {f}")).collect::<String>(),
    }
}

impl Error {
    /// The process exit code for this error: 2 for bad input (arguments, configs, data files,
    /// checkpoints, images), 1 for failures while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::InvalidConfig { .. }
            | Error::ConfigFile { .. }
            | Error::Idx { .. }
            | Error::Table { .. }
            | Error::Rows { .. }
            | Error::DatasetMismatch { .. }
            | Error::Checkpoint { .. }
            | Error::RunExists { .. }
            | Error::Output { .. }
            | Error::RunInUse { .. }
            | Error::Image { .. } => 2,
            Error::Interrupted(signal)
            | Error::TrainingStopped { signal, .. }
            | Error::PlotsInterrupted { signal, .. } => signal_exit_code(*signal) as u8,
            _ => 1,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// A process stopped by `signal` exits with 128 + the signal, as shells report it.
pub fn signal_exit_code(signal: i32) -> i32 {
    128 + signal
}

fn resume_hint(saved: Option<&std::path::Path>) -> String {
    saved.map_or(String::new(), |dir| {
        format!("; saved {0} (resume with --resume {0})", dir.display())
    })
}

/// ": line 3, column `x`" (a file's line) or ": row 3, column `x`" (a table in memory's row),
/// as much of it as is known.
fn location(unit: &str, at: Option<u64>, column: Option<&str>) -> String {
    match (at, column) {
        (Some(at), Some(column)) => format!(": {unit} {at}, column `{column}`"),
        (Some(at), None) => format!(": {unit} {at}"),
        (None, Some(column)) => format!(": column `{column}`"),
        (None, None) => String::new(),
    }
}

fn row_location(row: Option<usize>, column: Option<&str>) -> String {
    location("row", row.map(|r| r as u64), column)
}

fn table_location(line: Option<u64>, column: Option<&str>) -> String {
    location("line", line, column)
}

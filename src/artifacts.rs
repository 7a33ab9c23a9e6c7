//! What a run leaves behind, written so that a crash never leaves a half-written file: the run
//! directory, the metrics history (CSV and JSON), and atomic file writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::train::EpochReport;

/// Writes `bytes` to `path` through a temporary file in the same directory, synced, then
/// renamed over `path`: readers see the old file or the new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    #[cfg(unix)]
    {
        // Temporary files are created private; artifacts are ordinary files.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o644);
        tmp.as_file()
            .set_permissions(mode)
            .map_err(|e| Error::io(tmp.path(), e))?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// One row of the history: an epoch's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub test_loss: f64,
    pub test_accuracy: f64,
    pub lr: f32,
    pub seconds: f64,
    pub samples_per_second: f64,
}

impl From<&EpochReport> for HistoryRow {
    fn from(r: &EpochReport) -> Self {
        HistoryRow {
            epoch: r.epoch,
            train_loss: r.train.loss,
            train_accuracy: r.train.accuracy,
            val_loss: r.val.map(|v| v.loss),
            val_accuracy: r.val.map(|v| v.accuracy),
            test_loss: r.test.loss,
            test_accuracy: r.test.accuracy,
            lr: r.lr,
            seconds: r.train_seconds,
            samples_per_second: r.samples_per_second,
        }
    }
}

/// The files of one run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// `out`, or `runs/<timestamp>` (UTC, second resolution, suffixed if taken); created.
    pub fn create(out: Option<&Path>) -> Result<RunDir> {
        let path = match out {
            Some(p) => p.to_path_buf(),
            None => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let base = Path::new("runs").join(format!("run-{secs}"));
                (0..)
                    .map(|i| {
                        if i == 0 {
                            base.clone()
                        } else {
                            base.with_extension(i.to_string())
                        }
                    })
                    .find(|p| !p.exists())
                    .unwrap_or(base)
            }
        };
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        Ok(RunDir { path })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes history.csv and history.json.
    pub fn write_history(&self, rows: &[HistoryRow]) -> Result<()> {
        let json = serde_json::to_string_pretty(rows).map_err(|e| Error::io(self.file("history.json"), e.into()))?;
        write_atomic(&self.file("history.json"), json.as_bytes())?;
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        let mut csv = String::from(
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,lr,seconds,samples_per_second\n",
        );
        for r in rows {
            csv += &format!(
                "{},{:.6},{:.6},{},{},{:.6},{:.6},{},{:.3},{:.1}\n",
                r.epoch,
                r.train_loss,
                r.train_accuracy,
                opt(r.val_loss),
                opt(r.val_accuracy),
                r.test_loss,
                r.test_accuracy,
                r.lr,
                r.seconds,
                r.samples_per_second
            );
        }
        write_atomic(&self.file("history.csv"), csv.as_bytes())
    }

    /// The history written so far (empty when there is none).
    pub fn read_history(&self) -> Result<Vec<HistoryRow>> {
        let path = self.file("history.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
                path,
                detail: format!("history: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

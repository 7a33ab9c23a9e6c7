//! What a run leaves behind, written so that a crash never leaves a half-written file: the run
//! directory, its lock, the metrics history (CSV and JSON), all written with `files::write_atomic`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files::write_atomic;
use crate::training::history::HistoryRow;

/// Refuses, before any work, an output directory path that is not one: a file, a device, or
/// a symbolic link (working or dangling or a loop), which a run's files would follow
/// elsewhere. A path that does not exist yet is fine: it is created.
pub fn check_output_dir(path: &Path) -> Result<()> {
    let refuse = |detail: String| Error::Output {
        path: path.to_path_buf(),
        detail,
    };
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let kind = if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).map_or_else(|_| "?".into(), |t| t.display().to_string());
        format!("is a symbolic link (to {target})")
    } else if meta.is_file() {
        "is a file".to_string()
    } else if meta.is_dir() {
        return Ok(());
    } else {
        "is not a regular directory (a device, FIFO or socket)".to_string()
    };
    Err(refuse(format!(
        "{kind}: expected a directory for the output (give the real directory's path)"
    )))
}

/// Refuses a `dir` that is not a run directory (for reading: `plot`, `eval`).
pub fn check_run_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() && holds_run(dir) {
        return Ok(());
    }
    Err(Error::Checkpoint {
        path: dir.to_path_buf(),
        detail: match dir.exists() {
            false => "does not exist: expected a run directory".into(),
            true if !dir.is_dir() => "is not a directory: expected a run directory".into(),
            true => format!("is not a run directory (none of {})", RUN_FILES.join(", ")),
        },
    })
}

/// Whether `path` holds a run (any of its config, metadata, checkpoint or history).
pub fn holds_run(path: &Path) -> bool {
    RUN_FILES.iter().any(|f| path.join(f).exists())
}

/// The files of one run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
}

/// A directory under `runs/` named by the time and `label` (the dataset, `sweep`):
/// `runs/2026-11-30_14-05-12-fashion`, in UTC, with `-2`, `-3`, … when taken. Never an existing one.
pub fn new_run_path(label: &str) -> PathBuf {
    new_run_path_in(Path::new("runs"), label)
}

/// [`new_run_path`] under `parent` instead of `runs/`.
pub fn new_run_path_in(parent: &Path, label: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = format!("{}-{label}", utc_timestamp(secs));
    (1..)
        .map(|i| match i {
            1 => parent.join(&base),
            i => parent.join(format!("{base}-{i}")),
        })
        .find(|p| !p.exists())
        .expect("some numbered name is free")
}

/// `secs` after the Unix epoch as `YYYY-MM-DD_HH-MM-SS` (UTC): the civil date from the day
/// count (Howard Hinnant's `civil_from_days`).
pub fn utc_timestamp(secs: u64) -> String {
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}_{:02}-{:02}-{:02}",
        day_secs / 3600,
        day_secs % 3600 / 60,
        day_secs % 60
    )
}

/// Files whose presence means a directory holds a run.
const RUN_FILES: [&str; 4] = ["config.toml", "meta.json", "last.safetensors", "history.json"];

/// The lock file a training process keeps in its run directory, holding its pid.
const LOCK_FILE: &str = "train.lock";

/// A run directory held by this process while it trains there: `train.lock`, holding the pid,
/// created exclusively and removed when dropped. A lock whose process is gone (killed, power
/// loss) is recognized as stale and taken over.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl RunLock {
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let path = dir.join(LOCK_FILE);
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    write!(file, "{}", std::process::id()).map_err(|e| Error::io(&path, e))?;
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match lock_holder(&path) {
                    Some(pid) => {
                        return Err(Error::RunInUse {
                            path: dir.to_path_buf(),
                            detail: format!(
                                "process {pid} is training in it (its {LOCK_FILE}); wait for it or stop it first"
                            ),
                        })
                    }
                    // Stale: the process that wrote it is gone.
                    None => std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?,
                },
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::RunInUse {
            path: dir.to_path_buf(),
            detail: format!("another process keeps taking its {LOCK_FILE}"),
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Best effort: a lock left behind is recognized as stale by the next run.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The pid in a lock file if that process still runs (`None`: the lock is stale). Where the
/// system cannot tell (no /proc), the lock counts as held.
fn lock_holder(lock: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(lock).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let proc = Path::new("/proc");
    if pid == std::process::id() || !proc.join("self").exists() || proc.join(pid.to_string()).exists() {
        Some(pid)
    } else {
        None
    }
}

/// Moves `path` to the first free `<path>.old-<N>` (what `--force` does to an earlier run or
/// sweep), which it returns.
pub fn move_aside(path: &Path) -> Result<PathBuf> {
    let aside = (1..)
        .map(|i| PathBuf::from(format!("{}.old-{i}", path.display())))
        .find(|p| !p.exists())
        .expect("some numbered name is free");
    std::fs::rename(path, &aside).map_err(|e| Error::io(path, e))?;
    Ok(aside)
}

/// A process training in `dir` or in a run directly inside it (a sweep's): its run directory
/// and process id.
pub fn training_in(dir: &Path) -> Option<(PathBuf, u32)> {
    let children = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path());
    std::iter::once(dir.to_path_buf())
        .chain(children)
        .find_map(|run| lock_holder(&run.join(LOCK_FILE)).map(|pid| (run, pid)))
}

impl RunDir {
    /// A new run directory at `out` (or [`new_run_path`] of `label`), created and
    /// locked. A directory that already holds a run is refused, unless `force`, which first
    /// moves it aside to `<out>.old-<N>` (returned); a run another process trains in is
    /// refused either way. `Run::with_dir` has checked `out` with [`check_output_dir`] before
    /// loading anything.
    pub fn create(out: Option<&Path>, label: &str, force: bool) -> Result<(RunDir, RunLock, Option<PathBuf>)> {
        let path = match out {
            Some(p) => p.to_path_buf(),
            None => new_run_path(label),
        };
        let mut moved = None;
        if holds_run(&path) {
            if let Some(pid) = lock_holder(&path.join(LOCK_FILE)) {
                return Err(Error::RunInUse {
                    path,
                    detail: format!("process {pid} is training in it (its {LOCK_FILE})"),
                });
            }
            if !force {
                return Err(Error::RunExists { path });
            }
            moved = Some(move_aside(&path)?);
        }
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        let lock = RunLock::acquire(&path)?;
        // Another process may have started a run here between the check and the lock.
        if holds_run(&path) {
            return Err(Error::RunExists { path });
        }
        Ok((RunDir { path }, lock, moved))
    }

    /// Opens the existing run at `path` to continue it: locked, with the temporary files of an
    /// interrupted atomic write removed.
    pub fn open(path: &Path) -> Result<(RunDir, RunLock)> {
        if !holds_run(path) {
            return Err(Error::Checkpoint {
                path: path.to_path_buf(),
                detail: format!("holds no run to resume (none of {})", RUN_FILES.join(", ")),
            });
        }
        let lock = RunLock::acquire(path)?;
        let entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
        for entry in entries.flatten() {
            // write_atomic's temporary files (tempfile's ".tmp" prefix) left by a killed run.
            if entry.file_name().to_string_lossy().starts_with(".tmp") {
                std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            }
        }
        Ok((
            RunDir {
                path: path.to_path_buf(),
            },
            lock,
        ))
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes history.csv and history.json.
    pub fn write_history(&self, rows: &[HistoryRow]) -> Result<()> {
        let json = serde_json::to_string_pretty(rows).map_err(|e| Error::io(self.file("history.json"), e.into()))?;
        write_atomic(&self.file("history.json"), json.as_bytes())?;
        write_atomic(&self.file("history.csv"), HistoryRow::csv(rows).as_bytes())
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

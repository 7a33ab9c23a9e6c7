//! Reading a user's file without trusting it, and writing ours whole or not at all (atomic
//! writes, output paths checked first). Reading: it must be a regular file (a FIFO or a device
//! such as /dev/zero would block or never end) and no larger than what its kind can be, checked
//! before anything is allocated and again while reading (a file that grows meanwhile).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest config file read (TOML).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Largest checkpoint read: 4 GiB, a model of about a billion parameters.
pub const MAX_CHECKPOINT_BYTES: u64 = 4 << 30;
/// Largest image file `predict` reads.
pub const MAX_IMAGE_BYTES: u64 = 64 << 20;
/// Largest dataset file read (compressed or not): 2 GiB.
pub const MAX_DATA_FILE_BYTES: u64 = 2 << 30;

/// The bytes of the regular file at `path`, at most `max` of them. `refuse` builds the error for
/// a path that is not a regular file or is too large (its detail given), so each caller names
/// the kind of file it expected.
pub fn read_bounded(path: &Path, max: u64, refuse: impl Fn(String) -> Error) -> Result<Vec<u8>> {
    // A path that names nothing readable is the caller's bad input, like a wrong kind of file.
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => refuse("does not exist".into()),
        _ => refuse(format!("cannot be read: {e}")),
    })?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(refuse(format!("is {kind}: expected a file")));
    }
    if meta.len() > max {
        return Err(refuse(format!(
            "is {} bytes, more than the {max} a file of this kind may be",
            meta.len()
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| refuse(format!("cannot be opened: {e}")))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(refuse(format!("grew past {max} bytes while being read")));
    }
    Ok(bytes)
}

/// A data file as a run first read it: its size and SHA-256, recorded with the run so that a
/// resume can tell the file changed, grew or vanished since (and say so, instead of training
/// on other rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
}

impl Fingerprint {
    /// `path`'s fingerprint now, read in blocks (it may be a large table).
    pub fn of(path: &Path) -> Result<Fingerprint> {
        use sha2::Digest;
        // Never open a FIFO or a device: reading one could block or never end.
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::Table {
                path: path.to_path_buf(),
                line: None,
                column: None,
                detail: "is not a regular file".into(),
            });
        }
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut hasher = sha2::Sha256::new();
        let bytes = std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
        let sha256 = hex(&hasher.finalize());
        Ok(Fingerprint {
            path: path.to_path_buf(),
            bytes,
            sha256,
        })
    }

    /// Fails, naming the file and what changed, unless it is still as recorded.
    pub fn check_unchanged(&self) -> Result<()> {
        let changed = |detail: String| Error::Table {
            path: self.path.clone(),
            line: None,
            column: None,
            detail: format!(
                "{detail} since the run started; a resume trains on the rows the run started with: \
                 restore the file, or start a new run on it"
            ),
        };
        let now = match Fingerprint::of(&self.path) {
            Ok(now) => now,
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(changed("is gone".into()))
            }
            Err(e) => return Err(e),
        };
        match (now.bytes.cmp(&self.bytes), now.sha256 == self.sha256) {
            (std::cmp::Ordering::Equal, true) => Ok(()),
            (std::cmp::Ordering::Greater, _) => {
                Err(changed(format!("grew from {} to {} bytes", self.bytes, now.bytes)))
            }
            (std::cmp::Ordering::Less, _) => Err(changed(format!("shrank from {} to {} bytes", self.bytes, now.bytes))),
            (std::cmp::Ordering::Equal, false) => Err(changed(format!(
                "changed (SHA-256 {} then, {} now)",
                &self.sha256[..12],
                &now.sha256[..12]
            ))),
        }
    }
}

/// `bytes` in lowercase hexadecimal, as checksums are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced, then
/// renamed over `path`: readers see the old file or the new one, never a torn one.
/// Errors name `path`, the file asked for, never the temporary one beside it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    check_output_file(path)?;
    let dir = parent_of(path);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(path, e))?;
    // The file itself: NamedTempFile's own writer adds the temporary path to its errors.
    tmp.as_file_mut().write_all(bytes).map_err(|e| Error::io(path, e))?;
    #[cfg(unix)]
    {
        // Temporary files are created private; artifacts are ordinary files.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(mode).map_err(|e| Error::io(path, e))?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// The folder `path` is in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Refuses, before any work, an output file path that cannot be written: a directory, or a
/// path whose folder does not exist or is not a folder.
pub fn check_output_file(path: &Path) -> Result<()> {
    let refuse = |detail: String| Error::Output {
        path: path.to_path_buf(),
        detail,
    };
    if path.is_dir() {
        return Err(refuse("is a directory: expected the path of a file to write".into()));
    }
    let dir = parent_of(path);
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(refuse(format!("{} is not a directory", dir.display()))),
        Err(_) => Err(refuse(format!(
            "its folder {} does not exist: create it first",
            dir.display()
        ))),
    }
}

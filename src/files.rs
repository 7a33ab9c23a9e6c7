//! Reading a user's file without trusting it: it must be a regular file (a FIFO or a device
//! such as /dev/zero would block or never end) and no larger than what its kind can be, checked
//! before anything is allocated and again while reading (a file that grows meanwhile).

use std::io::Read;
use std::path::Path;

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

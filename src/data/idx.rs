//! IDX files (the MNIST / Fashion-MNIST container), raw or gzip-compressed.
//!
//! Layout: a big-endian magic number `0x0000_08DD` where `08` means u8 elements and `DD` is the
//! number of dimensions, then one big-endian u32 per dimension, then the elements.
//! Images use magic 2051 (3 dims: count, rows, cols), labels 2049 (1 dim: count).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const IMAGES_MAGIC: u32 = 0x0803;
pub const LABELS_MAGIC: u32 = 0x0801;

/// Images as stored: `count` images of `rows × cols` u8 pixels, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Whether `bytes` start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Inflates the gzip-compressed IDX file `bytes` (`path` names it in errors), reading its
/// header first and then no more than the header promises: a stream that inflates past that
/// (a decompression bomb) is refused as soon as it does, before it can take the memory.
pub fn gunzip_file(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut inflater = Inflater::new(path);
    inflater.feed(bytes)?;
    inflater.finish()
}

/// A gzip-compressed IDX file inflated piece by piece, as [`gunzip_file`] inflates it at once:
/// for a host that must yield between pieces (a web page).
pub struct Inflater {
    path: PathBuf,
    decoder: flate2::write::MultiGzDecoder<Promised>,
}

impl Inflater {
    pub fn new(path: &Path) -> Inflater {
        Inflater {
            path: path.into(),
            decoder: flate2::write::MultiGzDecoder::new(Promised::default()),
        }
    }

    /// The next piece of the compressed file.
    pub fn feed(&mut self, piece: &[u8]) -> Result<()> {
        match self.decoder.write_all(piece) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    /// What the pieces fed so far inflated to.
    pub fn inflated(&self) -> &[u8] {
        &self.decoder.get_ref().out
    }

    /// The whole file inflated, once every piece was fed.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        if let Err(e) = self.decoder.try_finish() {
            return Err(self.error(e));
        }
        let path = self.path.clone();
        let inflated = self.decoder.finish().map_err(|e| Inflater::unreadable(&path, e))?;
        match inflated.promised {
            Some(_) => Ok(inflated.out),
            None => Err(Inflater::unreadable(
                &path,
                std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
            )),
        }
    }

    /// What went wrong: the header's guard, or else the gzip stream itself.
    fn error(&mut self, e: std::io::Error) -> Error {
        match self.decoder.get_mut().fault.take() {
            Some((field, detail)) => Error::Idx {
                path: self.path.clone(),
                field,
                detail,
            },
            None => Inflater::unreadable(&self.path, e),
        }
    }

    fn unreadable(path: &Path, e: std::io::Error) -> Error {
        Error::Idx {
            path: path.into(),
            field: "gzip stream",
            detail: format!("cannot decompress: {e}"),
        }
    }
}

/// The inflated bytes, keeping none past what the IDX header at their start promises.
#[derive(Default)]
struct Promised {
    out: Vec<u8>,
    /// The header's length plus its elements, once the header is in.
    promised: Option<u64>,
    /// Why the stream was refused (a field and what was wrong with it).
    fault: Option<(&'static str, String)>,
}

impl Promised {
    /// The file's promised length when its header is complete.
    fn promise(&self) -> std::result::Result<Option<u64>, (&'static str, String)> {
        let Some(&ndims) = self.out.get(3) else {
            return Ok(None);
        };
        let header = 4 + 4 * usize::from(ndims);
        let Some(dims) = self.out.get(4..header) else {
            return Ok(None);
        };
        dims.chunks_exact(4)
            .map(|d| u64::from(u32::from_be_bytes([d[0], d[1], d[2], d[3]])))
            .try_fold(1u64, |elements, dim| elements.checked_mul(dim))
            .and_then(|elements| elements.checked_add(header as u64))
            .filter(|&total| total <= crate::files::MAX_DATA_FILE_BYTES)
            .map(Some)
            .ok_or_else(|| {
                (
                    "dimensions",
                    format!(
                        "promise more than the {} bytes a dataset file may hold",
                        crate::files::MAX_DATA_FILE_BYTES
                    ),
                )
            })
    }
}

impl Write for Promised {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The decoder writes at most its buffer's worth at a time, so a bomb is stopped within
        // one buffer of its promise.
        self.out.extend_from_slice(buf);
        let refused = |me: &mut Promised, fault: (&'static str, String)| {
            me.fault = Some(fault);
            Err(std::io::Error::other("refused by the IDX header"))
        };
        if self.promised.is_none() {
            match self.promise() {
                Ok(promised) => self.promised = promised,
                Err(fault) => return refused(self, fault),
            }
        }
        match self.promised {
            Some(promised) if self.out.len() as u64 > promised => refused(
                self,
                (
                    "data length",
                    format!("the compressed stream inflates past the {promised} bytes its header promises"),
                ),
            ),
            _ => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Inflates `raw` when it is gzip (`path` names it in errors).
fn maybe_gunzip(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>> {
    if is_gzip(&raw) {
        gunzip_file(path, &raw)
    } else {
        Ok(raw)
    }
}

/// Parses the header, checks the element count against the bytes present, returns (dims, body).
fn parse<'a>(path: &Path, bytes: &'a [u8], magic: u32, ndims: usize) -> Result<(Vec<usize>, &'a [u8])> {
    let bad = |field: &'static str, detail: String| Error::Idx {
        path: path.into(),
        field,
        detail,
    };
    if bytes.len() < 4 {
        return Err(bad(
            "magic",
            format!("file has {} bytes, too short for an IDX magic number", bytes.len()),
        ));
    }
    let word = |i: usize| u32::from_be_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]]);
    let found = word(0);
    if found != magic {
        return Err(bad(
            "magic",
            format!("expected {magic} (0x{magic:08x}), found {found} (0x{found:08x})"),
        ));
    }
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(bad(
            "header",
            format!("file has {} bytes, the header alone needs {header_len}", bytes.len()),
        ));
    }
    let dims: Vec<usize> = (1..=ndims).map(|i| word(i) as usize).collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad("dimensions", format!("{dims:?} overflow the address space")))?;
    let body = &bytes[header_len..];
    if body.len() != expected {
        return Err(bad(
            "data length",
            format!(
                "dimensions {dims:?} need {expected} bytes after the header, file has {}{}",
                body.len(),
                if body.len() < expected { " (truncated?)" } else { "" }
            ),
        ));
    }
    Ok((dims, body))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    crate::files::read_bounded(path, crate::files::MAX_DATA_FILE_BYTES, |detail| Error::Idx {
        path: path.into(),
        field: "file",
        detail,
    })
}

pub fn read_images(path: &Path) -> Result<IdxImages> {
    decode_images(path, read(path)?)
}

pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    decode_labels(path, read(path)?)
}

/// Images from the bytes of an IDX file (raw or gzip); `path` names it in errors.
pub fn decode_images(path: &Path, raw: Vec<u8>) -> Result<IdxImages> {
    let bytes = maybe_gunzip(path, raw)?;
    let (dims, body) = parse(path, &bytes, IMAGES_MAGIC, 3)?;
    Ok(IdxImages {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels: body.to_vec(),
    })
}

/// Labels from the bytes of an IDX file (raw or gzip); `path` names it in errors.
pub fn decode_labels(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>> {
    let bytes = maybe_gunzip(path, raw)?;
    let (_, body) = parse(path, &bytes, LABELS_MAGIC, 1)?;
    Ok(body.to_vec())
}

/// Encodes an IDX file (used for fixtures and tests; the inverse of `parse`).
pub fn encode(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + body.len());
    out.extend_from_slice(&magic.to_be_bytes());
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

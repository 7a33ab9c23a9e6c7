//! Reading a picture for `predict --image`: PNG or PGM, to a square grayscale u8 image.

use std::path::Path;

use crate::error::{Error, Result};

/// The image at `path` as `side × side` grayscale pixels (0 black … 255 white), resized by
/// averaging the source pixels each target pixel covers (nearest pixel when enlarging).
pub fn load_gray(path: &Path, side: usize) -> Result<Vec<u8>> {
    let bytes = crate::files::read_bounded(path, crate::files::MAX_IMAGE_BYTES, |detail| bad(path, "file", detail))?;
    decode_gray(path, &bytes, side)
}

/// [`load_gray`] on a file's bytes; `path` names it in errors.
pub fn decode_gray(path: &Path, bytes: &[u8], side: usize) -> Result<Vec<u8>> {
    let (width, height, gray) = if bytes.starts_with(b"\x89PNG") {
        decode_png(path, bytes)?
    } else if bytes.starts_with(b"P5") || bytes.starts_with(b"P2") {
        decode_pgm(path, bytes)?
    } else {
        return Err(bad(path, "format", "expected a PNG or a PGM (P2/P5) image".into()));
    };
    let (square, square_side) = pad_to_square(&gray, width, height);
    Ok(resize(&square, square_side, square_side, side))
}

/// The image centred on a square canvas of its border's mean shade, so scaling to the model's
/// square input keeps its aspect ratio instead of stretching it.
fn pad_to_square(gray: &[u8], width: usize, height: usize) -> (Vec<u8>, usize) {
    if width == height {
        return (gray.to_vec(), width);
    }
    let side = width.max(height);
    let background = border_mean(gray, width, height).round() as u8;
    let mut out = vec![background; side * side];
    let (x0, y0) = ((side - width) / 2, (side - height) / 2);
    for (y, row) in gray.chunks_exact(width).enumerate() {
        let start = (y0 + y) * side + x0;
        out[start..start + width].copy_from_slice(row);
    }
    (out, side)
}

/// Mean shade of the outermost pixels: the background, for a digit or a garment photo.
fn border_mean(gray: &[u8], width: usize, height: usize) -> f64 {
    let border: Vec<u8> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| x == 0 || y == 0 || x + 1 == width || y + 1 == height)
        .map(|(x, y)| gray[y * width + x])
        .collect();
    border.iter().map(|&v| f64::from(v)).sum::<f64>() / border.len().max(1) as f64
}

/// Whether a `side × side` image is dark strokes on a light background (its border is light),
/// unlike the datasets' light strokes on black: such a photo needs inverting before predicting.
pub fn looks_dark_on_light(gray: &[u8], side: usize) -> bool {
    border_mean(gray, side, side) > 127.0
}

/// Light for dark: 255 − v.
pub fn invert(gray: &mut [u8]) {
    gray.iter_mut().for_each(|v| *v = 255 - *v);
}

/// Most pixels an image may have (64 megapixels, far past any photo `predict` needs): checked
/// from the header before a pixel is decoded.
const MAX_PIXELS: usize = 1 << 26;

fn bad(path: &Path, field: &'static str, detail: String) -> Error {
    Error::Image {
        path: path.into(),
        field,
        detail,
    }
}

fn decode_png(path: &Path, bytes: &[u8]) -> Result<(usize, usize, Vec<u8>)> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| bad(path, "png", e.to_string()))?;
    let (width, height) = (reader.info().width as usize, reader.info().height as usize);
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(bad(
            path,
            "size",
            format!("{width}×{height} pixels: at most {MAX_PIXELS} are read"),
        ));
    }
    let mut buf = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or_else(|| bad(path, "size", "too large".into()))?
    ];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| bad(path, "png", e.to_string()))?;
    let channels = info.color_type.samples();
    let gray = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|px| match channels {
            1 | 2 => px[0],
            // ITU-R BT.601 luma; alpha ignored.
            _ => (0.299 * f32::from(px[0]) + 0.587 * f32::from(px[1]) + 0.114 * f32::from(px[2])).round() as u8,
        })
        .collect();
    Ok((info.width as usize, info.height as usize, gray))
}

fn decode_pgm(path: &Path, bytes: &[u8]) -> Result<(usize, usize, Vec<u8>)> {
    // Header: magic, width, height, maxval, separated by whitespace; `#` starts a comment.
    let mut fields = Vec::new();
    let mut pos = 2;
    while fields.len() < 3 {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b'#') {
            if bytes[pos] == b'#' {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
            }
            pos += 1;
        }
        let start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let field = std::str::from_utf8(&bytes[start..pos])
            .ok()
            .and_then(|s| s.parse::<usize>().ok());
        fields.push(field.ok_or_else(|| bad(path, "header", "expected width, height and maxval".into()))?);
    }
    let (width, height, maxval) = (fields[0], fields[1], fields[2]);
    if width == 0 || height == 0 || maxval == 0 || maxval > 255 || width.saturating_mul(height) > MAX_PIXELS {
        return Err(bad(
            path,
            "header",
            format!("{width}×{height}, maxval {maxval}: expected a non-empty 8-bit image"),
        ));
    }
    let scale = |v: usize| (v.min(maxval) * 255 / maxval) as u8;
    let pixels: Vec<u8> = if bytes.starts_with(b"P5") {
        let data = bytes
            .get(pos + 1..pos + 1 + width * height)
            .ok_or_else(|| bad(path, "data", "truncated".into()))?;
        data.iter().map(|&v| scale(usize::from(v))).collect()
    } else {
        let text = std::str::from_utf8(&bytes[pos..]).map_err(|_| bad(path, "data", "not ASCII".into()))?;
        let values: Vec<u8> = text
            .split_ascii_whitespace()
            .take(width * height)
            .map(|t| t.parse::<usize>().map(scale))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad(path, "data", "expected decimal pixel values".into()))?;
        if values.len() < width * height {
            return Err(bad(path, "data", "truncated".into()));
        }
        values
    };
    Ok((width, height, pixels))
}

fn resize(gray: &[u8], width: usize, height: usize, side: usize) -> Vec<u8> {
    let mut out = vec![0u8; side * side];
    for y in 0..side {
        let (y0, y1) = (y * height / side, ((y + 1) * height / side).max(y * height / side + 1));
        for x in 0..side {
            let (x0, x1) = (x * width / side, ((x + 1) * width / side).max(x * width / side + 1));
            let (mut sum, mut n) = (0u64, 0u64);
            for yy in y0..y1.min(height) {
                for xx in x0..x1.min(width) {
                    sum += u64::from(gray[yy * width + xx]);
                    n += 1;
                }
            }
            out[y * side + x] = (sum / n.max(1)) as u8;
        }
    }
    out
}

/// A grayscale image drawn with Unicode shades, two characters per pixel.
pub fn render(gray: &[u8], side: usize) -> String {
    let shades = [" ", "░", "▒", "▓", "█"];
    gray.chunks(side)
        .map(|row| {
            row.iter()
                .map(|&v| shades[usize::from(v) * 5 / 256].repeat(2))
                .collect::<String>()
                + "\n"
        })
        .collect()
}

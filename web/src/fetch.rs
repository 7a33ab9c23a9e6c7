//! The image datasets from the page's own origin: `data/<name>/<file>.gz`, as `gpu-mlp serve`
//! offers them (or as anyone puts them beside the page on a static host), decoded and checked
//! by the command line's decoder.

use std::path::PathBuf;

use gpu_mlp::data::locate::FILES;
use gpu_mlp::data::{decode_unpacked, DatasetName, Splits, Unpacked, Unpacking};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// The four files of `dataset`, fetched and decoded; `strict`: a file that is not the official
/// one is an error (else a warning in the splits).
pub async fn image_dataset(dataset: DatasetName, strict: bool) -> Result<Splits, String> {
    let mut files = Vec::with_capacity(FILES.len());
    for base in FILES {
        let url = format!("data/{}/{base}.gz", dataset.as_str());
        let bytes = fetch_bytes(&url).await.map_err(|why| {
            format!(
                "cannot fetch {url}: {why}. `gpu-mlp serve` offers the page the {name} files it finds \
                 where `gpu-mlp train --dataset {name}` looks for them; on another web host, put the \
                 four .gz files in data/{name}/ beside the page",
                name = dataset.as_str()
            )
        })?;
        files.push((PathBuf::from(url), bytes));
    }
    let files: [(PathBuf, Vec<u8>); 4] = files
        .try_into()
        .map_err(|_| "expected four dataset files".to_string())?;
    decode(dataset, files, strict).await
}

/// Bytes of a stored file unpacked and checked between two yields to the browser: a few
/// milliseconds of inflating and hashing in wasm.
const BYTES_PER_PIECE: usize = 1 << 18;

/// The four files of `dataset` as stored (in `FILES`' order), unpacked and checked by the
/// command line's decoder, piece by piece so that the page keeps drawing.
pub async fn decode(dataset: DatasetName, files: [(PathBuf, Vec<u8>); 4], strict: bool) -> Result<Splits, String> {
    let mut unpacked = Vec::with_capacity(files.len());
    for (i, (path, bytes)) in files.into_iter().enumerate() {
        let mut unpacking = Unpacking::new(dataset, i, &path);
        for piece in bytes.chunks(BYTES_PER_PIECE) {
            unpacking.feed(piece).map_err(|e| e.to_string())?;
            crate::train::sleep(0).await.map_err(|e| e.to_string())?;
        }
        unpacked.push(unpacking.finish().map_err(|e| e.to_string())?);
    }
    let unpacked: [Unpacked; 4] = unpacked
        .try_into()
        .map_err(|_| "expected four dataset files".to_string())?;
    decode_unpacked(dataset, unpacked, strict).map_err(|e| e.to_string())
}

/// The body of `url` (relative to the page), or why not.
async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{e:?}"))?;
    let response: Response = response.dyn_into().map_err(|_| "not an HTTP response".to_string())?;
    if !response.ok() {
        return Err(format!("HTTP {} {}", response.status(), response.status_text()));
    }
    let body = response.array_buffer().map_err(|e| format!("{e:?}"))?;
    let body = JsFuture::from(body).await.map_err(|e| format!("{e:?}"))?;
    Ok(js_sys::Uint8Array::new(&body).to_vec())
}

//! The image datasets from the page's own origin: `data/<name>/<file>.gz`, as `gpu-mlp serve`
//! offers them (or as anyone puts them beside the page on a static host), decoded and checked
//! by the command line's decoder.

use std::path::PathBuf;

use gpu_mlp::data::locate::FILES;
use gpu_mlp::data::{decode_idx_dataset, DatasetName, Splits};
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
    decode_idx_dataset(dataset, files, strict).map_err(|e| e.to_string())
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

//! A run trained by the command line or Python, loaded into the page to inspect it and predict:
//! its checkpoint (`last.safetensors`, `best.safetensors`, or the page's own `model.safetensors`)
//! picked from disk, read by the library's checkpoint reader, scored on its dataset's test split
//! (regenerated, or fetched from the page's origin) and shown as a finished run is: decision
//! regions for two inputs, the confusion matrix and misclassified images for images; then the
//! sketchpad and the regions answer with its probabilities.

use std::path::Path;

use gpu_mlp::checkpoint::Checkpoint;
use gpu_mlp::data::load;
use gpu_mlp::insight::boundary::Plane;
use gpu_mlp::insight::evaluate::{evaluate, test_split_for};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::page::Page;
use crate::results::Model;
use crate::train::PickedIdx;

/// The contents of a file picked from disk.
pub async fn bytes(file: &File) -> Result<Vec<u8>, String> {
    let bytes = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("cannot read {}: {e:?}", file.name()))?;
    Ok(js_sys::Uint8Array::new(&bytes).to_vec())
}

/// The model in `file`, scored and shown on the page.
pub async fn open(page: &Page, file: File) -> Result<Model, String> {
    let name = file.name();
    let bytes = bytes(&file).await?;
    let checkpoint = Checkpoint::from_bytes(Path::new(&name), &bytes).map_err(|e| e.to_string())?;
    let meta = &checkpoint.meta;
    if meta.from_arrays || meta.table.is_some() {
        return Err(format!(
            "{name}: trained on {} the page does not have; score it with `gpu-mlp eval` or from Python",
            match meta.from_arrays {
                true => "arrays from Python, which",
                false => "a CSV table, which",
            }
        ));
    }
    let spec = meta.spec().map_err(|e| e.to_string())?;
    let dataset = meta.config.data.dataset;
    let splits = match dataset.is_images() {
        true => crate::fetch::image_dataset(dataset, meta.config.data.strict_data).await?,
        false => load(dataset, &meta.config.load_options()).map_err(|e| e.to_string())?,
    };
    let test = test_split_for(&checkpoint, &splits).map_err(|e| e.to_string())?;
    let model = Model {
        spec: spec.clone(),
        params: checkpoint.params.clone(),
        class_names: meta.class_names.clone(),
        transform: meta.input_transform(),
        side: dataset.is_images().then_some(28),
    };
    page.show_boundary(model.spec.inputs() == 2);
    page.show_sketch(model.side.is_some());
    // Scored and shown before the page says it is loaded, so that the model is there to ask.
    let scored = match model.side {
        Some(_) => crate::results::show(&page.document(), &model, &test).await?,
        None => {
            let plane = Plane::of_points(model.transform);
            crate::boundary::draw(&model.spec, &model.params, &plane, &test, meta.epoch)?;
            evaluate(&checkpoint, &test).map_err(|e| e.to_string())?
        }
    };
    page.show_loaded(
        &format!(
            "{name}: a {} network after epoch {}, trained on {}; {:.2}% of its {} test samples right",
            spec.describe(),
            meta.epoch,
            dataset.as_str(),
            100.0 * scored.accuracy,
            scored.samples
        ),
        scored.accuracy,
    );
    Ok(model)
}

/// An image dataset's four files among `files` (each official name, gzipped or not), read.
pub async fn idx_files(files: Vec<File>) -> Result<PickedIdx, String> {
    let mut picked = Vec::with_capacity(4);
    for base in gpu_mlp::data::locate::FILES {
        let file = files
            .iter()
            .find(|f| {
                let name = f.name();
                let name = name.strip_suffix(".gz").unwrap_or(&name).replacen(".idx", "-idx", 1);
                name == base
            })
            .ok_or_else(|| {
                format!("pick the four files at once: {base}.gz is missing (the official names, gzipped or not)")
            })?;
        picked.push((file.name(), bytes(file).await?));
    }
    picked.try_into().map_err(|_| "expected four files".to_string())
}

/// Every file picked in the `<input type=file multiple>` whose change `event` is.
pub fn picked_all(event: &web_sys::Event) -> Vec<File> {
    let Some(input) = event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let Some(list) = input.files() else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The file picked in the `<input type=file>` whose change `event` is, if any.
pub fn picked(event: &web_sys::Event) -> Option<File> {
    let input: web_sys::HtmlInputElement = event.target()?.dyn_into().ok()?;
    input.files()?.get(0)
}

//! One step explained: the view of `gpu-mlp explain` for a chosen batch of epoch 1, from the
//! library's explanation. Every tensor of the forward pass, the loss, the backward pass and the
//! update, the GPU's (the browser's WebGPU) beside the CPU reference's, and the tensor where
//! they differ most named. `#explain-summary` carries `data-state` (working, done, error),
//! `data-largest` (that tensor's name) and `data-gap` (its largest |GPU − CPU|).

use std::sync::Arc;

use gpu_mlp::insight::explain::{explain_async, Explanation};
use gpu_mlp::settings::Config;
use web_sys::Document;

use crate::dom::{append, element, js};
use crate::train::{load_data, Picked};

/// Explains batch `batch` of `config`'s first epoch on the page.
pub async fn show(document: &Document, config: &Config, picked: &Picked, batch: usize) -> Result<(), String> {
    let summary = document
        .get_element_by_id("explain-summary")
        .ok_or("no #explain-summary")?;
    let _ = summary.set_attribute("data-state", "working");
    summary.set_text_content(Some("loading the data and running one step on the CPU and the GPU…"));
    let explained = async {
        let data = Arc::new(load_data(config, picked).await?);
        explain_async(config, data, batch).await.map_err(|e| e.to_string())
    };
    match explained.await {
        Ok(explanation) => {
            render(document, &explanation)?;
            let said = match (explanation.largest_difference(), &explanation.gpu) {
                (Some((name, gap)), _) => {
                    let _ = summary.set_attribute("data-largest", &name);
                    let _ = summary.set_attribute("data-gap", &format!("{gap:e}"));
                    format!("The GPU differs from the CPU reference most in {name}: by {gap:.2e}.")
                }
                (None, Err(why)) => format!("No GPU to compare with ({why}): the CPU reference's values only."),
                (None, Ok(_)) => "The GPU and the CPU computed no tensor in common.".into(),
            };
            summary.set_text_content(Some(&said));
            let _ = summary.set_attribute("data-state", "done");
            Ok(())
        }
        Err(message) => {
            summary.set_text_content(Some(&message));
            let _ = summary.set_attribute("data-state", "error");
            Err(message)
        }
    }
}

/// The explanation's text as the command line prints it, and each tensor's largest difference
/// (both hidden until the first explanation).
fn render(document: &Document, explanation: &Explanation) -> Result<(), String> {
    for id in ["explain-text", "explain-table"] {
        if let Some(element) = document.get_element_by_id(id) {
            element.remove_attribute("hidden").map_err(js)?;
        }
    }
    if let Some(text) = document.get_element_by_id("explain-text") {
        text.set_text_content(Some(&explanation.to_text()));
    }
    let Some(rows) = document.get_element_by_id("explain-tensors") else {
        return Ok(());
    };
    rows.set_text_content(None);
    let largest = explanation.largest_difference().map(|(name, _)| name);
    for (name, gap) in explanation.differences() {
        let row = element(document, "tr", "")?;
        append(&row, &element(document, "td", &name)?)?;
        append(&row, &element(document, "td", &format!("{gap:.2e}"))?)?;
        if largest.as_ref() == Some(&name) {
            row.set_attribute("class", "largest").map_err(js)?;
        }
        append(&rows, &row)?;
    }
    Ok(())
}

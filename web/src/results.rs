//! What a trained image model gets wrong, after the run: the confusion matrix of the test split
//! and the first misclassified test images with their names, true and predicted; and the
//! sketchpad's predictions (see [`crate::sketch`]). All computed by the library's CPU
//! reference from the weights the run ended with.

use gpu_mlp::data::{Dataset, Features};
use gpu_mlp::insight::evaluate::{all_probabilities, evaluate_outputs, outputs_of, outputs_of_part, Evaluation};
use gpu_mlp::nn::model::MlpSpec;
use wasm_bindgen::{Clamped, JsCast};

use crate::dom::{append, element, js};
use web_sys::{CanvasRenderingContext2d, Document, Element, HtmlCanvasElement, ImageData};

/// Misclassified test images shown.
const EXAMPLES: usize = 12;

/// Test samples put through the network between two yields to the browser: a few
/// milliseconds' work for a 784-128-10 network in wasm, so the page keeps drawing.
const SAMPLES_PER_PART: usize = 512;

/// A trained network, as the page keeps it after a run.
pub struct Model {
    pub spec: MlpSpec,
    pub params: Vec<f32>,
    pub class_names: Vec<String>,
    /// How the training samples reached the network (the sketchpad's pixels go the same way).
    pub transform: gpu_mlp::data::Affine,
    /// Square images' side, when the inputs are images.
    pub side: Option<usize>,
}

impl Model {
    /// Each class's probability for one sample of `features` (stored as the training samples were).
    pub fn probabilities(&self, features: Features) -> Vec<f32> {
        let sample = Dataset {
            features,
            labels: vec![0],
            dim: self.spec.inputs(),
            transform: self.transform,
            weights: None,
        };
        let outputs = outputs_of(&self.spec, &self.params, &sample);
        all_probabilities(self.spec.loss, &outputs, self.spec.outputs())
            .into_iter()
            .next()
            .unwrap_or_default()
    }
}

/// The confusion matrix and the misclassified examples of `model` on `test`, into
/// `#results`; the scores they come from.
pub async fn show(document: &Document, model: &Model, test: &Dataset) -> Result<Evaluation, String> {
    let mut outputs = Vec::with_capacity(test.len() * model.spec.outputs());
    for start in (0..test.len()).step_by(SAMPLES_PER_PART) {
        let part = start..(start + SAMPLES_PER_PART).min(test.len());
        outputs.extend(outputs_of_part(&model.spec, &model.params, test, part));
        crate::train::sleep(0).await.map_err(|e| e.to_string())?;
    }
    let evaluation = evaluate_outputs(&model.spec, &model.class_names, test, &outputs);
    let Some(host) = document.get_element_by_id("results") else {
        return Ok(evaluation);
    };
    host.set_text_content(None);
    let heading = element(
        document,
        "h2",
        &format!(
            "The test split: {} images, {:.2}% right",
            evaluation.samples,
            100.0 * evaluation.accuracy
        ),
    )?;
    append(&host, &heading)?;
    append(
        &host,
        &confusion_table(document, &evaluation.confusion, &model.class_names)?,
    )?;
    append(&host, &element(document, "h3", "Misclassified test images")?)?;
    let gallery = element(document, "div", "")?;
    gallery.set_attribute("class", "gallery").map_err(js)?;
    let probabilities = all_probabilities(model.spec.loss, &outputs, model.spec.outputs());
    let wrong = probabilities
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let predicted = argmax(p);
            (predicted != test.labels[i] as usize).then_some((i, predicted, p[predicted]))
        })
        .take(EXAMPLES);
    let side = model.side.unwrap_or(0);
    for (i, predicted, confidence) in wrong {
        let figure = element(document, "figure", "")?;
        if let (Features::U8(pixels), true) = (&test.features, side > 0) {
            let image = &pixels[i * test.dim..(i + 1) * test.dim];
            append(&figure, &picture(document, image, side)?)?;
        }
        let name = |c: usize| model.class_names.get(c).cloned().unwrap_or_else(|| c.to_string());
        let caption = element(
            document,
            "figcaption",
            &format!(
                "#{i}: {} → {} ({:.0}%)",
                name(test.labels[i] as usize),
                name(predicted),
                100.0 * confidence
            ),
        )?;
        append(&figure, &caption)?;
        append(&gallery, &figure)?;
    }
    append(&host, &gallery)?;
    host.remove_attribute("hidden").map_err(js)?;
    Ok(evaluation)
}

fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

/// Rows: true class; columns: predicted class.
fn confusion_table(document: &Document, confusion: &[Vec<u64>], names: &[String]) -> Result<Element, String> {
    let table = element(document, "table", "")?;
    table.set_attribute("class", "confusion").map_err(js)?;
    let head = element(document, "tr", "")?;
    append(&head, &element(document, "th", "true ↓ predicted →")?)?;
    for name in names {
        append(&head, &element(document, "th", name)?)?;
    }
    append(&table, &head)?;
    for (row, counts) in confusion.iter().enumerate() {
        let tr = element(document, "tr", "")?;
        append(
            &tr,
            &element(document, "th", names.get(row).map_or("", String::as_str))?,
        )?;
        let total: u64 = counts.iter().sum::<u64>().max(1);
        for (column, &count) in counts.iter().enumerate() {
            let cell = element(document, "td", &count.to_string())?;
            // Shaded by the share of the true class: the diagonal dark, the confusions visible.
            let share = count as f64 / total as f64;
            let hue = if row == column { "37, 99, 235" } else { "220, 38, 38" };
            cell.set_attribute("style", &format!("background: rgba({hue}, {:.2})", 0.08 + 0.7 * share))
                .map_err(js)?;
            append(&tr, &cell)?;
        }
        append(&table, &tr)?;
    }
    Ok(table)
}

/// A `side`×`side` grayscale image, drawn three times its size.
fn picture(document: &Document, pixels: &[u8], side: usize) -> Result<Element, String> {
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(js)?
        .dyn_into()
        .map_err(|_| "not a canvas".to_string())?;
    canvas.set_width(side as u32);
    canvas.set_height(side as u32);
    canvas
        .set_attribute(
            "style",
            &format!(
                "width: {}px; height: {}px; image-rendering: pixelated",
                3 * side,
                3 * side
            ),
        )
        .map_err(js)?;
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(js)?
        .ok_or("no 2-D context")?
        .dyn_into()
        .map_err(|_| "not a 2-D context".to_string())?;
    let rgba: Vec<u8> = pixels.iter().flat_map(|&p| [p, p, p, 255]).collect();
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), side as u32, side as u32).map_err(js)?;
    context.put_image_data(&image, 0.0, 0.0).map_err(js)?;
    Ok(canvas.into())
}

//! The page's elements: the adapter, the curves, the decision regions, a row per epoch and
//! `#status`, whose data attributes say where training stands: `state` (loading until the
//! page is built, then idle, training, paused, finished, error), `batch` (steps done in the epoch under way),
//! `epoch`, `train_loss`, `test_accuracy`, `samples_per_second`, `adapter` and `error` (the
//! message, as the command line words it).

use gpu_mlp::settings::Config;
use gpu_mlp::training::diagnostics::LayerDiagnostics;
use gpu_mlp::training::train::{EpochReport, Tick};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

/// Where training stands, as `#status` shows it in `data-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    Training,
    Paused,
    Finished,
    Error,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Training => "training",
            State::Paused => "paused",
            State::Finished => "finished",
            State::Error => "error",
        }
    }
}

#[derive(Clone)]
pub struct Page {
    document: Document,
    status: Element,
}

impl Page {
    /// The page's document and its `#status` element (index.html has it: its absence is a
    /// page that was not built from it).
    pub fn find() -> Page {
        Page::try_find().expect("the page runs in a window whose document has a #status element")
    }

    fn try_find() -> Option<Page> {
        let document = web_sys::window()?.document()?;
        let status = document.get_element_by_id("status")?;
        Some(Page { document, status })
    }

    pub fn document(&self) -> Document {
        self.document.clone()
    }

    /// Puts `pairs` in the link's query (replacing the history entry: no reload, and Back
    /// leaves the page as before).
    pub fn set_query(&self, pairs: &[(String, String)]) {
        let Ok(params) = web_sys::UrlSearchParams::new() else {
            return;
        };
        for (key, value) in pairs {
            params.append(key, value);
        }
        let query: String = params.to_string().into();
        let url = match query.is_empty() {
            true => self
                .document
                .location()
                .and_then(|l| l.pathname().ok())
                .unwrap_or_default(),
            false => format!("?{query}"),
        };
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
        }
    }

    /// Back to the start: no run, no rows, no error.
    pub fn reset(&self) {
        self.set("state", State::Idle.name());
        for attribute in ["train_loss", "test_accuracy", "samples_per_second", "adapter", "error"] {
            self.set(attribute, "");
        }
        self.set("epoch", "0");
        self.set("batch", "0");
        for id in ["epochs", "error", "adapter", "layers", "findings"] {
            self.text(id, "");
        }
        for id in ["downloads", "results"] {
            if let Some(element) = self.document.get_element_by_id(id) {
                let _ = element.set_attribute("hidden", "");
            }
        }
        self.text("status", "ready");
    }

    /// The link's query, key by key, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        let search = self
            .document
            .location()
            .and_then(|l| l.search().ok())
            .unwrap_or_default();
        let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
            return Vec::new();
        };
        let mut pairs = Vec::new();
        // UrlSearchParams iterates as [key, value] arrays.
        for entry in js_sys::try_iter(&params).ok().flatten().into_iter().flatten().flatten() {
            let entry = js_sys::Array::from(&entry);
            if let (Some(k), Some(v)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
                pairs.push((k, v));
            }
        }
        pairs
    }

    pub fn state(&self) -> State {
        match self.status.get_attribute("data-state").as_deref() {
            Some("training") => State::Training,
            Some("paused") => State::Paused,
            Some("finished") => State::Finished,
            Some("error") => State::Error,
            _ => State::Idle,
        }
    }

    fn set(&self, attribute: &str, value: &str) {
        // Setting a data attribute on an element of the page cannot fail.
        let _ = self.status.set_attribute(&format!("data-{attribute}"), value);
    }

    /// The value of the input `id` (empty when there is none).
    pub fn input_value(&self, id: &str) -> String {
        self.document
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|input| input.value())
            .unwrap_or_default()
    }

    pub fn set_text(&self, id: &str, text: &str) {
        self.text(id, text);
    }

    fn text(&self, id: &str, text: &str) {
        if let Some(element) = self.document.get_element_by_id(id) {
            element.set_text_content(Some(text));
        }
    }

    /// Training starts: the epoch table emptied, the error cleared.
    pub fn begin(&self) {
        self.set("state", State::Training.name());
        self.set("error", "");
        self.set("epoch", "0");
        self.set("batch", "0");
        for id in ["epochs", "error", "layers", "findings"] {
            self.text(id, "");
        }
        for id in ["downloads", "results"] {
            if let Some(element) = self.document.get_element_by_id(id) {
                let _ = element.set_attribute("hidden", "");
            }
        }
        self.text("status", "preparing the data…");
    }

    /// The settings in use, as a config file would hold them (what `gpu-mlp train --config`
    /// takes), and no settings error.
    pub fn show_settings(&self, config: &Config) {
        self.text("config-toml", &config.to_toml());
        self.text("settings-error", "");
    }

    /// Why the form's settings cannot train (the command line's message).
    pub fn show_settings_error(&self, message: &str) {
        self.text("settings-error", message);
    }

    /// Training runs, or waits paused (the status line says which).
    pub fn set_state(&self, state: State) {
        if self.status.get_attribute("data-state").as_deref() != Some(state.name()) {
            self.set("state", state.name());
            if state == State::Paused {
                let at = self.status.get_attribute("data-batch").unwrap_or_default();
                self.text(
                    "status",
                    &format!("paused after batch {at} of this epoch: Start goes on, Step runs one chunk of steps"),
                );
            }
        }
    }

    /// The probabilities at plane point `(x, y)` under the pointer.
    pub fn show_point(&self, x: f64, y: f64, shares: &str) {
        if let Some(element) = self.document.get_element_by_id("point-probabilities") {
            element.set_text_content(Some(&format!("at ({x:.3}, {y:.3}): {shares}")));
            let _ = element.set_attribute("data-x", &x.to_string());
            let _ = element.set_attribute("data-y", &y.to_string());
        }
    }

    /// What a loaded run is and how it scores (`#loaded`, its accuracy in `data-test_accuracy`).
    pub fn show_loaded(&self, text: &str, accuracy: f64) {
        if let Some(element) = self.document.get_element_by_id("loaded") {
            element.set_text_content(Some(text));
            let _ = element.set_attribute("data-test_accuracy", &accuracy.to_string());
        }
    }

    /// Shows the sketchpad for an image model, hides it otherwise.
    pub fn show_sketch(&self, shown: bool) {
        if let Some(element) = self.document.get_element_by_id("sketch-box") {
            let _ = match shown {
                true => element.remove_attribute("hidden"),
                false => element.set_attribute("hidden", ""),
            };
        }
    }

    /// Shows the decision regions' canvas for a two-input network, hides it otherwise.
    pub fn show_boundary(&self, shown: bool) {
        if let Some(element) = self.document.get_element_by_id("boundary-box") {
            let _ = match shown {
                true => element.remove_attribute("hidden"),
                false => element.set_attribute("hidden", ""),
            };
        }
    }

    /// The curves' points, for automation: on `#loss-chart`'s `data-points` (see
    /// [`crate::charts::Curves::points_json`]).
    pub fn show_points(&self, json: &str) {
        if let Some(canvas) = self.document.get_element_by_id("loss-chart") {
            let _ = canvas.set_attribute("data-points", json);
        }
    }

    /// Where the run computes, and why there.
    pub fn show_adapter(&self, adapter: &str, why: &str) {
        self.set("adapter", adapter);
        self.text("adapter", &format!("{adapter} — {why}"));
    }

    pub fn tick(&self, tick: &Tick) {
        self.set("batch", &tick.batch.to_string());
        self.text(
            "status",
            &format!(
                "training: epoch {}, batch {} of {}, recent loss {:.4}",
                tick.epoch, tick.batch, tick.batches, tick.recent.loss
            ),
        );
    }

    /// An epoch is done: its row in the table, `#status`'s figures.
    pub fn epoch(&self, report: &EpochReport, epochs: usize) {
        let test = report.test.map(|t| t.accuracy);
        self.set("epoch", &report.epoch.to_string());
        self.set("train_loss", &report.train.loss.to_string());
        self.set("test_accuracy", &test.map_or_else(String::new, |a| a.to_string()));
        self.set("samples_per_second", &format!("{:.0}", report.samples_per_second));
        self.text("status", &format!("training: epoch {} of {epochs} done", report.epoch));
        let cells = [
            report.epoch.to_string(),
            format!("{:.4}", report.train.loss),
            format!("{:.2}%", 100.0 * report.train.accuracy),
            report.test.map_or_else(|| "–".into(), |t| format!("{:.4}", t.loss)),
            test.map_or_else(|| "–".into(), |a| format!("{:.2}%", 100.0 * a)),
            format!("{:.0}", report.samples_per_second),
        ];
        if let Some(table) = self.document.get_element_by_id("epochs") {
            self.append_row(&table, &cells);
        }
    }

    /// Each layer's diagnostics of the latest epoch, a row per layer.
    pub fn show_layers(&self, layers: &[LayerDiagnostics]) {
        let Some(table) = self.document.get_element_by_id("layers") else {
            return;
        };
        table.set_text_content(None);
        let optional = |v: Option<f64>, scale: f64, unit: &str| {
            v.map_or_else(|| "–".to_string(), |v| format!("{:.2}{unit}", scale * v))
        };
        for (l, d) in layers.iter().enumerate() {
            let cells = [
                format!("layer {}", l + 1),
                format!("{:.3e}", d.weight_grad_norm),
                format!("{:.3}", d.weight_norm),
                format!("{:.2e}", d.update_ratio),
                optional(d.activation_mean, 1.0, ""),
                optional(d.activation_std, 1.0, ""),
                optional(d.dead_fraction, 100.0, "%"),
            ];
            self.append_row(&table, &cells);
        }
    }

    /// What the run's diagnostics say went wrong, in plain words (or that nothing did).
    pub fn show_findings(&self, findings: &[String]) {
        let Some(list) = self.document.get_element_by_id("findings") else {
            return;
        };
        list.set_text_content(None);
        let none = ["Nothing wrong so far: the loss falls and every layer learns.".to_string()];
        let shown = match findings.is_empty() {
            true => &none[..],
            false => findings,
        };
        for finding in shown {
            if let Ok(item) = self.document.create_element("li") {
                item.set_text_content(Some(finding));
                let _ = list.append_child(&item);
            }
        }
    }

    fn append_row(&self, table: &Element, cells: &[String]) {
        if let Ok(row) = self.document.create_element("tr") {
            for text in cells {
                if let Ok(cell) = self.document.create_element("td") {
                    cell.set_text_content(Some(text));
                    let _ = row.append_child(&cell);
                }
            }
            let _ = table.append_child(&row);
        }
    }

    /// Links that save each `(link id, file name, bytes)` (Blob URLs; the earlier ones freed).
    pub fn offer_downloads(&self, files: &[(&str, &str, &[u8])]) {
        for (id, name, bytes) in files {
            let Some(link) = self.document.get_element_by_id(id) else {
                continue;
            };
            if let Some(old) = link.get_attribute("href") {
                let _ = web_sys::Url::revoke_object_url(&old);
            }
            let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(*bytes));
            let options = web_sys::BlobPropertyBag::new();
            options.set_type("application/octet-stream");
            let url = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
                .and_then(|blob| web_sys::Url::create_object_url_with_blob(&blob));
            if let Ok(url) = url {
                let _ = link.set_attribute("href", &url);
                let _ = link.set_attribute("download", name);
            }
        }
        if let Some(box_) = self.document.get_element_by_id("downloads") {
            let _ = box_.remove_attribute("hidden");
        }
    }

    /// Training ended: `how` says how (the epochs run, or where it was stopped).
    pub fn finish(&self, how: &str) {
        self.set("state", State::Finished.name());
        self.text("status", how);
    }

    /// Something went wrong: the message on the page and in `data-error`.
    pub fn fail(&self, message: &str) {
        web_sys::console::error_1(&JsValue::from_str(message));
        self.set("state", State::Error.name());
        self.set("error", message);
        self.text("status", "error");
        self.text("error", message);
    }

    /// Runs `action` with every `event` of the element `id`.
    pub fn on_event(&self, id: &str, event: &str, action: impl Fn(web_sys::Event) + 'static) {
        if let Some(element) = self.document.get_element_by_id(id) {
            let callback = Closure::<dyn Fn(web_sys::Event)>::new(action);
            let _ = element.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
            // The page keeps its elements for its whole life, and their handlers with them.
            callback.forget();
        }
    }

    /// Runs `action` whenever the button `id` is clicked.
    pub fn on_click(&self, id: &str, action: impl Fn() + 'static) {
        if let Some(button) = self.document.get_element_by_id(id) {
            let callback = Closure::<dyn Fn()>::new(action);
            let _ = button.add_event_listener_with_callback("click", callback.as_ref().unchecked_ref());
            // The page keeps its buttons for its whole life, and their handlers with them.
            callback.forget();
        }
    }
}

/// A panic shows its message on the page (and in the console), as an error state: never a
/// page that silently stops.
pub fn show_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("gpu-mlp panicked (a bug; please report it): {info}");
        match Page::try_find() {
            Some(page) => page.fail(&message),
            None => web_sys::console::error_1(&JsValue::from_str(&message)),
        }
    }));
}

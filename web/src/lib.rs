//! gpu-mlp's page: the engine trains in a browser tab, on the browser's WebGPU through the same
//! WGSL kernels and host code as natively, or on the CPU reference compiled to wasm when the
//! page finds no GPU it should use (it says which and why). The settings form is generated from
//! the settings' declaration and the link's query always holds it
//! (`?dataset=spiral&noise=0.1&hidden=32,32&epochs=60`; `autostart=1` starts training), checked
//! as the command line checks them. Start, pause, step and reset drive the run; the loss and
//! accuracy curves and, for two-input networks, the decision regions are redrawn as it learns.
//! The page's state is on one element, `#status`, for people and for automation (see [`page`]).
//!
//! Built by `bash web/build.sh` into web/dist/, served by `gpu-mlp serve` or any static host.
#![cfg(target_arch = "wasm32")]

mod adapter;
mod boundary;
mod canvas;
mod charts;
mod dom;
mod explain;
mod fetch;
mod form;
mod load;
mod page;
mod results;
mod sketch;
mod theme;
mod train;

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use charts::Curves;
use form::Form;
use page::{Page, State};
use results::Model;
use train::{Control, PickedIdx, PickedTable};

/// The query key that starts training as the page loads (not a setting).
const AUTOSTART: &str = "autostart";

/// The page: its form, and the run its buttons drive.
struct App {
    page: Page,
    form: Form,
    control: RefCell<Rc<Control>>,
    curves: Rc<RefCell<Curves>>,
    /// The last run's trained model (the sketchpad asks it).
    model: Rc<RefCell<Option<Model>>>,
    /// A CSV table picked from disk to train on.
    table: RefCell<Option<Rc<PickedTable>>>,
    /// An image dataset's four IDX files picked from disk.
    idx: RefCell<Option<Rc<PickedIdx>>>,
}

#[wasm_bindgen(start)]
pub fn main() -> Result<(), JsValue> {
    page::show_panics();
    let page = Page::find();
    let query = page.query();
    let autostart = query.iter().any(|(k, v)| k == AUTOSTART && v == "1");
    let settings: Vec<(String, String)> = query.into_iter().filter(|(k, _)| k != AUTOSTART).collect();
    let form = Form::build(&page.document(), &settings)?;
    let app = Rc::new(App {
        page,
        form,
        control: RefCell::new(Rc::new(Control::default())),
        curves: Rc::new(RefCell::new(Curves::default())),
        model: Rc::new(RefCell::new(None)),
        table: RefCell::new(None),
        idx: RefCell::new(None),
    });
    sketch::wire(&app.page.document(), Rc::clone(&app.model))?;
    let hovering = Rc::clone(&app);
    app.page.on_event("boundary-chart", "mousemove", move |event| {
        if let Some(event) = event.dyn_ref::<web_sys::MouseEvent>() {
            hovering.point_probabilities(event);
        }
    });
    let picking = Rc::clone(&app);
    app.page.on_event("pick-table", "change", move |event| {
        let Some(file) = load::picked(&event) else { return };
        let app = Rc::clone(&picking);
        wasm_bindgen_futures::spawn_local(async move {
            match load::bytes(&file).await {
                Ok(bytes) => {
                    let name = file.name();
                    app.page
                        .set_text("table-picked", &format!("training on {name} ({} bytes)", bytes.len()));
                    *app.table.borrow_mut() = Some(Rc::new(PickedTable { name, bytes }));
                    let _ = app.check(&app.form.values());
                }
                Err(message) => app.page.set_text("table-picked", &message),
            }
        });
    });
    let configuring = Rc::clone(&app);
    app.page.on_event("load-config", "change", move |event| {
        let Some(file) = load::picked(&event) else { return };
        let app = Rc::clone(&configuring);
        wasm_bindgen_futures::spawn_local(async move {
            let name = file.name();
            let config = load::bytes(&file).await.and_then(|bytes| {
                let text = String::from_utf8(bytes).map_err(|_| format!("{name}: is not UTF-8 text"))?;
                gpu_mlp::settings::Config::from_toml(std::path::Path::new(&name), &text).map_err(|e| e.to_string())
            });
            match config {
                Ok(config) => {
                    app.form.fill_from(&config);
                    let values = app.form.values();
                    app.page.set_query(&values);
                    let _ = app.check(&values);
                    let table = config.table.data.as_ref().map(|d| d.display().to_string());
                    let note = match table {
                        Some(table) => format!("settings from {name}: pick its table, {table}, to train"),
                        None => format!("settings from {name}"),
                    };
                    app.page.set_text("config-loaded", &note);
                }
                Err(message) => {
                    app.page.show_settings_error(&message);
                    app.page.set_text("config-loaded", "");
                }
            }
        });
    });
    let idx_picking = Rc::clone(&app);
    app.page.on_event("pick-idx", "change", move |event| {
        let files = load::picked_all(&event);
        let app = Rc::clone(&idx_picking);
        wasm_bindgen_futures::spawn_local(async move {
            match load::idx_files(files).await {
                Ok(picked) => {
                    let names: Vec<&str> = picked.iter().map(|(n, _)| n.as_str()).collect();
                    app.page
                        .set_text("idx-picked", &format!("training on {}", names.join(", ")));
                    *app.idx.borrow_mut() = Some(Rc::new(picked));
                }
                Err(message) => app.page.set_text("idx-picked", &message),
            }
        });
    });
    let loading = Rc::clone(&app);
    app.page.on_event("load-model", "change", move |event| {
        let Some(file) = load::picked(&event) else { return };
        let app = Rc::clone(&loading);
        wasm_bindgen_futures::spawn_local(async move {
            match load::open(&app.page, file).await {
                Ok(model) => *app.model.borrow_mut() = Some(model),
                Err(message) => app.page.show_loaded(&message, f64::NAN),
            }
        });
    });
    // The link's own settings, as given (a key the form lacks is refused by name).
    let checked = app.check(&settings);
    let changed = Rc::clone(&app);
    app.form.on_change(move || {
        let values = changed.form.values();
        changed.page.set_query(&values);
        let _ = changed.check(&values);
    });
    for (id, action) in [
        ("start", App::start as fn(&App)),
        ("pause", App::pause),
        ("step", App::step),
        ("reset", App::reset),
        ("explain", App::explain),
    ] {
        let clicked = Rc::clone(&app);
        app.page.on_click(id, move || action(&clicked));
    }
    let _ = app.curves.borrow().draw(1);
    // Built and wired: ready (`loading` until now, as index.html says before the wasm runs).
    app.page.set_state(State::Idle);
    match (checked, autostart) {
        (Ok(_), true) => app.start(),
        // A bad link is an error state, not a run with defaults.
        (Err(message), true) => app.page.fail(&message),
        (_, false) => {}
    }
    Ok(())
}

impl App {
    /// The settings `pairs` checked: shown as config.toml, or their error shown with its field.
    fn check(&self, pairs: &[(String, String)]) -> Result<gpu_mlp::settings::Config, String> {
        match train::settings(pairs, self.table.borrow().as_deref()) {
            Ok(config) => {
                self.form.mark_invalid(None);
                self.page.show_settings(&config);
                Ok(config)
            }
            Err(refusal) => {
                self.form.mark_invalid(refusal.key.as_deref());
                self.page.show_settings_error(&refusal.message);
                Err(refusal.message)
            }
        }
    }

    /// The trained two-input model's probabilities at the plane point under the pointer, in
    /// `#point-probabilities` (its `data-x` and `data-y` say where).
    fn point_probabilities(&self, event: &web_sys::MouseEvent) {
        let model = self.model.borrow();
        let Some(model) = model.as_ref().filter(|m| m.spec.inputs() == 2) else {
            return;
        };
        let Some(canvas) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            return;
        };
        // The canvas is drawn at its own size and shown at the page's: back to its own pixels.
        let scale = f64::from(canvas.width()) / f64::from(canvas.client_width().max(1));
        let (px, py) = (f64::from(event.offset_x()) * scale, f64::from(event.offset_y()) * scale);
        let Some((x, y)) = boundary::plane_at(px as i32, py as i32) else {
            return;
        };
        let probabilities = model.probabilities(gpu_mlp::data::Features::F32(vec![x as f32, y as f32]));
        let shares: Vec<String> = probabilities
            .iter()
            .enumerate()
            .map(|(c, p)| {
                let name = model.class_names.get(c).cloned().unwrap_or_else(|| c.to_string());
                format!("{name} {:.2}%", 100.0 * p)
            })
            .collect();
        self.page.show_point(x, y, &shares.join(", "));
    }

    /// Start: a new run with the form's settings, or, when paused, going on.
    fn start(&self) {
        match self.page.state() {
            State::Training => {}
            State::Paused => self.control.borrow().paused.set(false),
            State::Idle | State::Finished | State::Error => self.run(false),
        }
    }

    fn pause(&self) {
        if self.page.state() == State::Training {
            self.control.borrow().paused.set(true);
        }
    }

    /// One chunk of steps: from a paused run, or the first of a new one.
    fn step(&self) {
        match self.page.state() {
            State::Paused => {
                let control = self.control.borrow();
                control.steps.set(control.steps.get() + 1);
            }
            State::Training => {}
            State::Idle | State::Finished | State::Error => self.run(true),
        }
    }

    /// Stops the run and empties the page: the next Start begins anew.
    fn reset(&self) {
        let control = self.control.borrow();
        control.stop.set(true);
        control.reset.set(true);
        self.curves.borrow_mut().clear();
        let _ = self.curves.borrow().draw(1);
        self.page.reset();
    }

    /// One step of the form's run explained: the batch `#explain-batch` names, of epoch 1.
    fn explain(&self) {
        let config = match self.check(&self.form.values()) {
            Ok(config) => config,
            Err(message) => return self.page.set_text("explain-summary", &message),
        };
        let batch = self.page.input_value("explain-batch");
        let Ok(batch) = batch.trim().parse::<usize>() else {
            let message = format!("invalid batch: {}", gpu_mlp::declare::whole_number_expected(&batch));
            return self.page.set_text("explain-summary", &message);
        };
        let document = self.page.document();
        let picked = self.picked();
        wasm_bindgen_futures::spawn_local(async move {
            // The summary says what went wrong.
            let _ = explain::show(&document, &config, &picked, batch).await;
        });
    }

    /// What was picked from disk for a run.
    fn picked(&self) -> train::Picked {
        train::Picked {
            table: self.table.borrow().clone(),
            idx: self.idx.borrow().clone(),
        }
    }

    fn run(&self, one_step: bool) {
        let config = match self.check(&self.form.values()) {
            Ok(config) => config,
            Err(message) => return self.page.fail(&message),
        };
        let control = Rc::new(Control::default());
        control.paused.set(one_step);
        control.steps.set(u32::from(one_step));
        *self.control.borrow_mut() = Rc::clone(&control);
        let page = self.page.clone();
        let curves = Rc::clone(&self.curves);
        let model = Rc::clone(&self.model);
        let picked = self.picked();
        wasm_bindgen_futures::spawn_local(async move {
            match train::train(&config, picked, &page, control, curves).await {
                Ok(Some(trained)) => {
                    page.show_sketch(trained.side.is_some());
                    *model.borrow_mut() = Some(trained);
                }
                Ok(None) => {}
                Err(message) => page.fail(&message),
            }
        });
    }
}

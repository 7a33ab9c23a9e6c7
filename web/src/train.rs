//! A run in the page: the settings checked as the command line checks them, the data, the
//! network and its backend built by the library's one assembly ([`gpu_mlp::plan`]), then the
//! library's training loop, awaited ([`fit_async`]): between chunks of steps the page yields to
//! the browser, and waits there while paused (or lets one chunk through: a step).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use gpu_mlp::checkpoint::{Position, RunRecord};
use gpu_mlp::data::table::RawTable;
use gpu_mlp::data::Splits;
use gpu_mlp::gpu::GraphicsApi;
use gpu_mlp::insight::boundary::Plane;
use gpu_mlp::insight::findings::{findings, majority_fraction};
use gpu_mlp::nn::model::MlpSpec;
use gpu_mlp::plan::start;
use gpu_mlp::settings::Config;
use gpu_mlp::training::backend::{Backend, Pending, StepMetrics};
use gpu_mlp::training::history::HistoryRow;
use gpu_mlp::training::train::{fit_async, steps_per_epoch, EpochReport, HeldOut, Observer, Tick};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::charts::Curves;
use crate::page::{Page, State};
use crate::results::Model;

/// How the page names its settings in messages.
pub const ORIGIN: &str = "the page's link";

/// Progress ticks on the GPU (each a chunk of steps, one submit, between which the page
/// redraws) per epoch when the settings ask for none.
const TICKS_PER_EPOCH: usize = 20;

/// Settings that name files on the computer running the command line: a page cannot read them.
const FILE_SETTINGS: [&str; 3] = ["data_dir", "data", "test_data"];

/// The least time between two drawings of the curves while an epoch runs, in milliseconds.
const REDRAW_MS: f64 = 100.0;

/// How often a paused page looks whether it may go on.
const PAUSED_POLL_MS: i32 = 50;

/// Why settings were refused: the message, and the setting it is about when one is.
pub struct Refusal {
    pub message: String,
    pub key: Option<String>,
}

/// A CSV table picked from disk: its file name and contents.
pub struct PickedTable {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// An image dataset's four files picked from disk, named as picked, in the official order.
pub type PickedIdx = [(String, Vec<u8>); 4];

/// What was picked from disk for a run to train on.
pub struct Picked {
    pub table: Option<Rc<PickedTable>>,
    pub idx: Option<Rc<PickedIdx>>,
}

/// The settings of `pairs` (the link's query, or the form), checked as the command line checks
/// its flags (the same messages), and what a page cannot do refused; with a `table` picked, it
/// is the `data` they train on.
pub fn settings(pairs: &[(String, String)], table: Option<&PickedTable>) -> Result<Config, Refusal> {
    if let Some((key, _)) = pairs.iter().find(|(k, _)| FILE_SETTINGS.contains(&k.as_str())) {
        return Err(Refusal {
            message: format!(
                "{ORIGIN}: `{key}` names a file on the computer that runs the command line; the page \
                 trains on the datasets (dataset=fashion, mnist, blobs, circle, spiral or xor)"
            ),
            key: Some(key.clone()),
        });
    }
    let data = table.map(|t| ("data", t.name.as_str()));
    let given = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let config = Config::from_texts(ORIGIN, given.chain(data)).map_err(|e| {
        let key = match &e {
            gpu_mlp::Error::InvalidConfig { field, .. } => Some(field.to_string()),
            _ => None,
        };
        Refusal {
            message: e.to_string(),
            key,
        }
    })?;
    if config.run.backend != GraphicsApi::Auto {
        return Err(Refusal {
            message: format!(
                "{ORIGIN}: `backend` chooses a native graphics API; in a browser the GPU is the \
                 browser's WebGPU (leave backend out)"
            ),
            key: Some("backend".into()),
        });
    }
    Ok(config)
}

/// The samples `config`'s run trains on: what was `picked` from disk, the page's origin's image
/// files, or generated points, prepared as the command line prepares them.
pub async fn load_data(config: &Config, picked: &Picked) -> Result<Splits, String> {
    let data = match (config.data.dataset, &picked.table, &picked.idx) {
        (_, Some(table), _) if config.is_table() => {
            let path = std::path::Path::new(&table.name);
            RawTable::from_bytes(path, &table.bytes, config.table.delimiter as u8)
                .and_then(|raw| config.load_table_from(raw, None, None))
        }
        // The same decoder and checksums as the command line's, on the files picked.
        (dataset, _, Some(files)) if dataset.is_images() => {
            let files = (**files)
                .clone()
                .map(|(name, bytes)| (std::path::PathBuf::from(name), bytes));
            config.prepare(crate::fetch::decode(dataset, files, config.data.strict_data).await?)
        }
        (dataset, _, _) if dataset.is_images() => {
            let splits = crate::fetch::image_dataset(dataset, config.data.strict_data).await?;
            config.prepare(splits)
        }
        _ => config.load_data(),
    };
    data.map_err(|e| e.to_string())
}

/// What the buttons ask of a run in progress.
#[derive(Default)]
pub struct Control {
    pub paused: Cell<bool>,
    /// Chunks a paused run may still take (the step button).
    pub steps: Cell<u32>,
    pub stop: Cell<bool>,
    /// The stop came from Reset: the page is already back to idle, and says nothing more.
    pub reset: Cell<bool>,
}

/// Trains `config`'s run on the page (on `table` when it trains on one), until its last epoch
/// or until `control` stops it; the trained model, unless a reset ended the run.
pub async fn train(
    config: &Config,
    picked: Picked,
    page: &Page,
    control: Rc<Control>,
    curves: Rc<RefCell<Curves>>,
) -> Result<Option<Model>, String> {
    page.begin();
    curves.borrow_mut().clear();
    let data = Arc::new(load_data(config, &picked).await?);
    let network = start(config, &data, None, 1).map_err(|e| e.to_string())?;
    let (mut backend, _in_flags) = network
        .backend_async(config, Arc::clone(&data))
        .await
        .map_err(|e| e.to_string())?;
    let spec = network.spec;
    // The library's reason speaks in flags; the page says it in the link's terms.
    let browser = crate::adapter::browser_adapter().await;
    let (adapter, why) = crate::adapter::where_and_why(config.run.device, &backend.describe(), browser.as_deref());
    page.show_adapter(&adapter, &why);
    page.show_boundary(spec.inputs() == 2 && data.table.is_none());
    let steps = steps_per_epoch(data.train.len(), config.training.batch_size);
    let mut loop_config = config.train_config(steps);
    // A chunk of steps is the page's longest task: on the GPU a chunk is one submit, awaited,
    // so a twentieth of an epoch; the CPU computes in place, so one step at a time.
    let on_gpu = backend.describe().starts_with("gpu");
    let chunk = match on_gpu {
        true => steps.div_ceil(TICKS_PER_EPOCH),
        false => 1,
    };
    loop_config.log_every = Some(config.run.log_every.unwrap_or(chunk));
    // The CPU scores the held-out splits in parts of about a step's work (a step is about three
    // forward passes of a batch); the GPU's scoring is one awaited submit.
    loop_config.eval_part = (!on_gpu).then_some(3 * config.training.batch_size);
    let mut observer = PageObserver {
        page,
        control,
        curves,
        config,
        rows: Vec::new(),
        chance: majority_fraction(&data.train.labels, data.classes()),
        epochs: config.training.epochs,
        drawn_at: 0.0,
        plane: (spec.inputs() == 2 && data.table.is_none()).then(|| Plane::of_points(data.train.transform)),
        spec: &spec,
        data: &data,
    };
    let outcome = fit_async(
        backend.as_mut(),
        data.train.len(),
        HeldOut::of(&data),
        &loop_config,
        &mut observer,
    )
    .await
    .map_err(|e| e.to_string())?;
    if observer.control.reset.get() {
        return Ok(None);
    }
    let rows = std::mem::take(&mut observer.rows);
    // The last epoch's drawing and the downloads' encoding, each within a frame.
    sleep(0).await.map_err(|e| e.to_string())?;
    let params = backend.parameters_async().await.map_err(|e| e.to_string())?;
    offer_run(config, page, &data, &spec, params.clone(), backend.as_mut(), &rows).await?;
    let model = Model {
        spec: spec.clone(),
        params,
        class_names: data.class_names.clone(),
        transform: data.train.transform,
        side: config.data.dataset.is_images().then_some(28),
    };
    if let (true, Some(test)) = (model.side.is_some(), &data.test) {
        page.set_text("status", "scoring the test split…");
        sleep(0).await.map_err(|e| e.to_string())?;
        crate::results::show(&page.document(), &model, test).await?;
    }
    let how = match outcome.interrupted {
        Some((epoch, step)) => format!("stopped in epoch {epoch} after {step} of its {steps} steps"),
        None if outcome.stopped_early => format!("stopped early after epoch {}", outcome.reports.len()),
        None => format!("finished: {} epochs", outcome.reports.len()),
    };
    page.finish(&how);
    Ok(Some(model))
}

/// The trained run to take home: its weights and optimizer state as the checkpoint the command
/// line writes (`gpu-mlp eval`, `predict` and `--resume` read it; PyTorch's safetensors too),
/// its config.toml (`gpu-mlp train --config` reruns it) and its history.csv.
async fn offer_run(
    config: &Config,
    page: &Page,
    data: &Splits,
    spec: &MlpSpec,
    params: Vec<f32>,
    backend: &mut dyn Backend,
    rows: &[HistoryRow],
) -> Result<(), String> {
    let (state, steps) = backend.optimizer_state_async().await.map_err(|e| e.to_string())?;
    let record = RunRecord {
        config,
        data,
        spec,
        data_files: &[],
        from_arrays: false,
        stored: data.train.stored_range(),
    };
    let last = rows.last();
    let at = Position {
        epoch: last.map_or(0, |r| r.epoch),
        steps_into_epoch: 0,
        steps_so_far: StepMetrics::default(),
        val: last.and_then(|r| {
            Some(gpu_mlp::Metrics {
                loss: r.val_loss?,
                accuracy: r.val_accuracy?,
                samples: data.val.as_ref().map_or(0, |v| v.len()),
            })
        }),
    };
    let name = "model.safetensors";
    let model = record
        .checkpoint(at, params, state, steps)
        .to_bytes(std::path::Path::new(name))
        .map_err(|e| e.to_string())?;
    page.offer_downloads(&[
        ("download-model", name, &model),
        ("download-config", "config.toml", config.to_toml().as_bytes()),
        ("download-history", "history.csv", HistoryRow::csv(rows).as_bytes()),
    ]);
    Ok(())
}

/// The training loop's events on the page.
struct PageObserver<'a> {
    page: &'a Page,
    control: Rc<Control>,
    curves: Rc<RefCell<Curves>>,
    config: &'a Config,
    /// The run's history so far, for the findings.
    rows: Vec<HistoryRow>,
    /// The accuracy of always guessing the most frequent class.
    chance: f64,
    epochs: usize,
    /// When the curves were last drawn (ms since the epoch of time).
    drawn_at: f64,
    /// The input plane of a two-input network (its decision regions are drawn).
    plane: Option<Plane>,
    spec: &'a MlpSpec,
    data: &'a Splits,
}

impl PageObserver<'_> {
    /// Redraws the curves, at most every [`REDRAW_MS`] while an epoch runs (`force` at its end).
    fn redraw_curves(&mut self, force: bool) {
        let now = js_sys::Date::now();
        if !force && now - self.drawn_at < REDRAW_MS {
            return;
        }
        self.drawn_at = now;
        let curves = self.curves.borrow();
        if let Err(message) = curves.draw(self.epochs) {
            web_sys::console::warn_1(&JsValue::from_str(&message));
        }
        self.page.show_points(&curves.points_json());
    }
}

impl Observer for PageObserver<'_> {
    fn tick(&mut self, tick: &Tick) {
        // After a reset the page is empty: nothing more goes on it.
        if self.control.reset.get() {
            return;
        }
        self.page.tick(tick);
        self.curves.borrow_mut().tick(tick);
        self.redraw_curves(false);
    }

    fn epoch_async<'a>(
        &'a mut self,
        backend: &'a mut dyn Backend,
        report: &'a EpochReport,
        _improved: bool,
    ) -> Pending<'a, ()> {
        Box::pin(async move {
            if self.control.reset.get() {
                return Ok(());
            }
            self.page.epoch(report, self.epochs);
            self.curves.borrow_mut().epoch(report);
            self.redraw_curves(true);
            self.rows.push(HistoryRow::of(report));
            self.page.show_layers(&report.layers);
            self.page.show_findings(&findings(&self.rows, self.config, self.chance));
            if let Some(plane) = &self.plane {
                let params = backend.parameters_async().await?;
                let points = self.data.test.as_ref().unwrap_or(&self.data.train);
                if let Err(message) = crate::boundary::draw(self.spec, &params, plane, points, report.epoch) {
                    web_sys::console::warn_1(&JsValue::from_str(&message));
                }
            }
            Ok(())
        })
    }

    fn should_stop(&mut self) -> bool {
        self.control.stop.get()
    }

    fn breathe(&mut self) -> Pending<'_, ()> {
        Box::pin(sleep(0))
    }

    /// Yields to the browser (a zero-delay timeout) so it draws and takes clicks; while paused,
    /// waits until the run may go on, or lets one chunk through for a step.
    fn pause(&mut self) -> Pending<'_, ()> {
        Box::pin(async move {
            sleep(0).await?;
            let control = &self.control;
            while control.paused.get() && !control.stop.get() {
                if control.steps.get() > 0 {
                    control.steps.set(control.steps.get() - 1);
                    break;
                }
                self.page.set_state(State::Paused);
                sleep(PAUSED_POLL_MS).await?;
            }
            if !control.stop.get() {
                self.page.set_state(State::Training);
            }
            Ok(())
        })
    }
}

/// Resolves after `ms` milliseconds; 0: as soon as the browser has run what is waiting (a
/// message to itself, which browsers do not delay as they delay repeated zero timeouts by 4 ms).
pub async fn sleep(ms: i32) -> gpu_mlp::Result<()> {
    let promise = js_sys::Promise::new(&mut |resolve, _| match ms {
        0 => {
            if let Ok(channel) = web_sys::MessageChannel::new() {
                channel.port1().set_onmessage(Some(&resolve));
                let _ = channel.port2().post_message(&JsValue::NULL);
            }
        }
        _ => {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        }
    });
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| gpu_mlp::Error::Gpu(format!("the page stopped answering: {e:?}")))
}

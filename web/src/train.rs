//! A run in the page: the link's settings checked as the command line checks them, the data,
//! the network and its backend built by the library's one assembly ([`gpu_mlp::plan`]), then
//! the library's training loop, awaited ([`fit_async`]): the page stays live between chunks of
//! steps, whichever backend trains.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use gpu_mlp::device::create_backend_async;
use gpu_mlp::gpu::GraphicsApi;
use gpu_mlp::plan::{start, Start};
use gpu_mlp::settings::Config;
use gpu_mlp::training::backend::{Backend, Pending};
use gpu_mlp::training::train::{fit_async, steps_per_epoch, EpochReport, HeldOut, Observer, Tick};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::page::Page;

/// How the page names its settings in messages.
const ORIGIN: &str = "the page's link";

/// Progress ticks (each a chunk of steps between which the page redraws) per epoch when the
/// link asks for none.
const TICKS_PER_EPOCH: usize = 20;

/// Settings that name files on the computer running the command line: a page cannot read them.
const FILE_SETTINGS: [&str; 3] = ["data_dir", "data", "test_data"];

/// The link's settings, checked as the command line checks its flags (the same messages), and
/// what a page cannot do refused.
pub fn settings(pairs: &[(String, String)]) -> Result<Config, String> {
    if let Some((key, _)) = pairs.iter().find(|(k, _)| FILE_SETTINGS.contains(&k.as_str())) {
        return Err(format!(
            "{ORIGIN}: `{key}` names a file on the computer that runs the command line; the page \
             trains on the datasets (dataset=fashion, mnist, blobs, circle, spiral or xor)"
        ));
    }
    let config =
        Config::from_texts(ORIGIN, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| e.to_string())?;
    if config.run.backend != GraphicsApi::Auto {
        return Err(format!(
            "{ORIGIN}: `backend` chooses a native graphics API; in a browser the GPU is the \
             browser's WebGPU (leave backend out)"
        ));
    }
    Ok(config)
}

/// Trains `config`'s run on the page, until its last epoch or until `stop` is set.
pub async fn train(config: &Config, page: &Page, stop: Rc<Cell<bool>>) -> Result<(), String> {
    page.begin();
    let data = match config.data.dataset {
        dataset if dataset.is_images() => {
            let splits = crate::fetch::image_dataset(config.data.dataset, config.data.strict_data).await?;
            config.prepare(splits)
        }
        _ => config.load_data(),
    };
    let data = Arc::new(data.map_err(|e| e.to_string())?);
    let Start { spec, params } = start(config, &data, None, 1).map_err(|e| e.to_string())?;
    let (mut backend, _in_flags) = create_backend_async(
        config.run.device,
        config.run.backend,
        &spec,
        params,
        Arc::clone(&data),
        &config.train_options(),
    )
    .await
    .map_err(|e| e.to_string())?;
    // The library's reason speaks in flags; the page says it in the link's terms.
    let browser = crate::adapter::browser_adapter().await;
    let (adapter, why) = crate::adapter::where_and_why(config.run.device, &backend.describe(), browser.as_deref());
    page.show_adapter(&adapter, &why);
    let steps = steps_per_epoch(data.train.len(), config.training.batch_size);
    let mut loop_config = config.train_config(steps);
    loop_config.log_every = Some(config.run.log_every.unwrap_or_else(|| steps.div_ceil(TICKS_PER_EPOCH)));
    let mut observer = PageObserver {
        page,
        stop,
        epochs: config.training.epochs,
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
    let how = match outcome.interrupted {
        Some((epoch, step)) => format!("stopped in epoch {epoch} after {step} of its {steps} steps"),
        None if outcome.stopped_early => format!("stopped early after epoch {}", outcome.reports.len()),
        None => format!("finished: {} epochs", outcome.reports.len()),
    };
    page.finish(&how);
    Ok(())
}

/// The training loop's events on the page.
struct PageObserver<'a> {
    page: &'a Page,
    stop: Rc<Cell<bool>>,
    epochs: usize,
}

impl Observer for PageObserver<'_> {
    fn tick(&mut self, tick: &Tick) {
        self.page.tick(tick);
    }

    fn epoch(&mut self, _backend: &mut dyn Backend, report: &EpochReport, _improved: bool) -> gpu_mlp::Result<()> {
        self.page.epoch(report, self.epochs);
        Ok(())
    }

    fn should_stop(&mut self) -> bool {
        self.stop.get()
    }

    /// Yields to the browser (a zero-delay timeout) so it draws and takes clicks.
    fn pause(&mut self) -> Pending<'_, ()> {
        Box::pin(async {
            let yielded = js_sys::Promise::new(&mut |resolve, _| {
                if let Some(window) = web_sys::window() {
                    let _ = window.set_timeout_with_callback(&resolve);
                }
            });
            JsFuture::from(yielded)
                .await
                .map(|_: JsValue| ())
                .map_err(|e| gpu_mlp::Error::Gpu(format!("the page stopped answering: {e:?}")))
        })
    }
}

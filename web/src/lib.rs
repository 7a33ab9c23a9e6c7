//! gpu-mlp's page: the engine trains in a browser tab, on the browser's WebGPU through the same
//! WGSL kernels and host code as natively, or on the CPU reference compiled to wasm when the
//! page finds no GPU it should use (it says which and why). Settings come from the link's
//! query, with the settings' own keys (`?dataset=blobs&hidden=16&epochs=30&seed=1`;
//! `autostart=1` starts training), checked as the command line checks them. The page's state is
//! on one element, `#status`, for people and for automation (see [`page`]).
//!
//! Built by `bash web/build.sh` into web/dist/, served by `gpu-mlp serve` or any static host.
#![cfg(target_arch = "wasm32")]

mod adapter;
mod fetch;
mod page;
mod train;

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use page::{Page, State};

/// The query key that starts training as the page loads (not a setting).
const AUTOSTART: &str = "autostart";

#[wasm_bindgen(start)]
pub fn main() {
    page::show_panics();
    let page = Rc::new(Page::find());
    let query = page.query();
    let autostart = query.iter().any(|(k, v)| k == AUTOSTART && v == "1");
    let settings: Vec<(String, String)> = query.into_iter().filter(|(k, _)| k != AUTOSTART).collect();
    let config = match train::settings(&settings) {
        Ok(config) => config,
        Err(message) => {
            page.disable("start");
            page.disable("stop");
            return page.fail(&message);
        }
    };
    page.show_settings(&config);
    let stop = Rc::new(Cell::new(false));
    let begin = {
        let (page, stop) = (Rc::clone(&page), Rc::clone(&stop));
        Rc::new(move || {
            if page.state() == State::Training {
                return;
            }
            stop.set(false);
            let (page, stop, config) = (Rc::clone(&page), Rc::clone(&stop), config.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(message) = train::train(&config, &page, stop).await {
                    page.fail(&message);
                }
            });
        })
    };
    page.on_click("stop", move || stop.set(true));
    let on_start = Rc::clone(&begin);
    page.on_click("start", move || on_start());
    if autostart {
        begin();
    }
}

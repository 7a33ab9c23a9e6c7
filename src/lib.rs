//! gpu-mlp: train multi-layer perceptrons with hand-written WGSL kernels on wgpu, checked against
//! a plain-Rust CPU reference that states the same math.
//!
//! The core is what builds with no features: settings, data decoding, the model, both backends,
//! the training loop, evaluation, diagnostics, findings and explain. The `runs` feature adds
//! what the command line and Python do with files around it (the modules [`run`], `report`,
//! `tensorboard`, `sweep`, `signals` and `image`: run directories, plots, TensorBoard, stop
//! signals), `download` the HTTPS downloads, `serve` the page's web server, `cli` all of them
//! (the default). The core runs in a browser (web/, the page): it builds for
//! `wasm32-unknown-unknown`, opens the browser's WebGPU with [`device::create_backend_async`] and trains with
//! [`training::train::fit_async`], every readback awaited ([`Backend::train_steps_async`]);
//! `tests/browser.rs` and `tests/page.rs` prove it in headless Chromium.
//!
//! Every module, in a line each (the folders are the program's layers):
//!
//! - [`declare`]: what a setting is, and the macro that declares a group of them.
//! - [`settings`]: every setting declared once ([`settings::groups`], [`nn::optim`], with
//!   [`declare`]'s macro), the flags derived from them ([`settings::flags`]), and a
//!   run's [`settings::Config`]: TOML file, flag, sweep and link overrides, validation.
//! - [`plan`]: settings and data turned into a ready run (the data as configured, the network
//!   and its initial weights checked, the loop's settings), the same for every front end.
//! - [`data`]: IDX files, dataset lookup and downloads, synthetic sets, CSV tables, samples
//!   given as arrays (from Python).
//! - [`nn`]: the math both backends share:
//!   - [`nn::model`]: the network's shape, its flat parameter layout, each layer's products, initialization;
//!   - [`nn::optim`]: an update's per-step values, learning-rate schedules;
//!   - [`nn::dropout`]: the counter-based dropout mask both backends draw;
//!   - [`nn::step`]: a training step's dispatches, each with its CPU twin and WGSL kernel.
//! - [`training`]: [`training::backend`] (the `Backend` trait, step traces, setup checks),
//!   [`training::diagnostics`] (the per-layer measurements both backends take) and
//!   [`training::history`] (a row per epoch) and [`training::train`] (the epoch loop,
//!   [`training::train::fit_async`] and the blocking [`training::train::fit`]).
//! - [`checkpoint`]: a trained model with its metadata, as safetensors bytes or files.
//! - [`cpu`]: the plain reference ([`cpu::reference`](mod@cpu::reference)), the fast product
//!   ([`cpu::gemm`]), the math of a step ([`cpu::ops`], [`cpu::net`]) and the CPU [`Backend`].
//! - [`gpu`]: the wgpu context, tile plans, one struct per kernel, and the GPU [`Backend`].
//! - [`device`]: choosing where a run computes (`--device auto|gpu|cpu`, through `--backend`'s API).
//! - [`run`] (`runs`): a run with its directory (build, resume, train, finish), with
//!   [`run::artifacts`] (the run directory, its lock, history files, output directories checked),
//!   `run::record` (what each epoch leaves: history, TensorBoard, boundary frames, checkpoints),
//!   [`run::plots`] (runs on disk redrawn and compared) and [`run::board`] (what a run shows in
//!   TensorBoard).
//! - [`signals`] (`runs`): stopping from outside (save and stop between steps, or exit at once), asked by
//!   runs, plots and downloads alike.
//! - [`insight`]: [`insight::evaluate`] (loss, confusion, precision/recall/F1, ROC AUC),
//!   [`insight::findings`] (what a run's diagnostics say went wrong), [`insight::explain`] (one batch step by step) and [`insight::boundary`]
//!   (decision regions of two-input models).
//! - [`sweep`] (`runs`): `--sweep` grids, their comparison table and HParams experiment.
//! - [`tensorboard`] (`runs`): TensorBoard event files (TFRecords of prost-encoded events).
//! - [`report`] (`runs`): plots (PNG and SVG), drawn from what they are given in memory.
//! - [`files`]: bounded reads of users' files, atomic writes, data files' fingerprints.
//! - [`memory`]: sizes checked against the memory available.
//! - [`error`]: the one error type.
//! - [`image`] (`runs`): PNG/PGM input for `predict`.
//! - [`bench`](mod@bench): the reference configurations measured.
//!
//! Training a 2-16-2 network on the synthetic blobs with the CPU reference:
//!
//! ```
//! use std::sync::Arc;
//! use gpu_mlp::training::backend::TrainOptions;
//! use gpu_mlp::data::{load, DatasetName, LoadOptions};
//! use gpu_mlp::device::{create_backend, DeviceChoice};
//! use gpu_mlp::gpu::GraphicsApi;
//! use gpu_mlp::nn::model::{initialize, Init, MlpSpec, ParamLayout};
//! use gpu_mlp::training::train::{fit, Event, HeldOut, TrainConfig};
//!
//! let data = load(DatasetName::Blobs, &LoadOptions { seed: 7, ..LoadOptions::default() })?;
//! let spec = MlpSpec::new(2, &[16], 2)?;
//! let params = initialize(&ParamLayout::new(&spec), Init::HeUniform, 7);
//! let train_len = data.train.len();
//! let (mut backend, _why) = create_backend(DeviceChoice::Cpu, GraphicsApi::Auto, &spec, params, Arc::new(data), &TrainOptions::new(32))?;
//! let cfg = TrainConfig::constant(5, 0.1, 7);
//! let outcome = fit(backend.as_mut(), train_len, HeldOut::TEST, &cfg, &mut |_: Event<'_>| {})?;
//! assert!(outcome.reports[4].test.expect("a test split").accuracy > 0.9);
//! # Ok::<(), gpu_mlp::Error>(())
//! ```

pub mod bench;
pub mod checkpoint;
pub mod cpu;
pub mod data;
pub mod declare;
pub mod device;
pub mod error;
pub mod files;
pub mod gpu;
#[cfg(feature = "runs")]
pub mod image;
pub mod insight;
pub mod memory;
pub mod nn;
pub mod plan;
#[cfg(feature = "runs")]
pub mod report;
#[cfg(feature = "runs")]
pub mod run;
pub mod settings;
#[cfg(feature = "runs")]
pub mod signals;
#[cfg(feature = "runs")]
pub mod sweep;
#[cfg(feature = "runs")]
pub mod tensorboard;
pub mod training;

pub use error::{Error, Result};
pub use training::backend::{Backend, Metrics, StepMetrics};

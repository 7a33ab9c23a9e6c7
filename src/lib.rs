//! gpu-mlp: train multi-layer perceptrons with hand-written WGSL kernels on wgpu, checked against
//! a plain-Rust CPU reference that states the same math.
//!
//! Every module, in a line each:
//!
//! - [`config`]: a run's settings: TOML file, flag overrides, validation, builders.
//! - [`data`]: IDX files, dataset lookup and downloads, synthetic sets, CSV tables.
//! - [`model`]: the network's shape, its flat parameter layout, each layer's products, initialization.
//! - [`optim`]: optimizer settings, per-step values, learning-rate schedules.
//! - [`dropout`]: the counter-based dropout mask both backends draw.
//! - [`step`]: a training step's dispatches, each with its CPU twin and WGSL kernel.
//! - [`backend`]: the `Backend` trait both backends implement, step traces, setup checks.
//! - [`cpu`]: the plain reference ([`cpu::reference`](mod@cpu::reference)), the fast product ([`cpu::gemm`]), the math
//!   of a step ([`cpu::ops`], [`cpu::net`]) and the CPU [`Backend`].
//! - [`gpu`]: the wgpu context, tile plans, one struct per kernel, and the GPU [`Backend`].
//! - [`device`]: choosing where a run computes (`--device auto|gpu|cpu`).
//! - [`train`]: the epoch loop shared by both backends ([`train::fit`]).
//! - [`run`]: a run from its config: data, network, checkpoints, resume, signals, plots.
//! - [`artifacts`]: the run directory, history files, atomic writes, output-path checks.
//! - [`checkpoint`]: safetensors checkpoints and their metadata.
//! - [`signals`]: stop signals: save and stop between steps, or exit at once.
//! - [`files`]: bounded reads of users' files; data files' fingerprints.
//! - [`memory`]: sizes checked against the memory available.
//! - [`error`]: the one error type.
//! - [`evaluate`]: outputs, loss, confusion matrix, precision/recall/F1, ROC AUC.
//! - [`diagnostics`]: per-layer measurements of an epoch.
//! - [`findings`]: what a run's history says went wrong, in plain language.
//! - [`explain`]: one mini-batch, step by step, CPU beside GPU.
//! - [`boundary`]: decision regions of two-input models.
//! - [`sweep`]: `--sweep` grids and their comparison table.
//! - [`report`]: plots (PNG and SVG).
//! - [`image`]: PNG/PGM input for `predict`.
//! - [`bench`](mod@bench): the reference configurations measured.
//!
//! Training a 2-16-2 network on the synthetic blobs with the CPU reference:
//!
//! ```
//! use std::sync::Arc;
//! use gpu_mlp::backend::TrainOptions;
//! use gpu_mlp::data::{load, DatasetName, LoadOptions};
//! use gpu_mlp::device::{create_backend, DeviceChoice};
//! use gpu_mlp::model::{initialize, Init, MlpSpec, ParamLayout};
//! use gpu_mlp::train::{fit, Event, TrainConfig};
//!
//! let data = load(DatasetName::Blobs, &LoadOptions { seed: 7, ..LoadOptions::default() })?;
//! let spec = MlpSpec::new(2, &[16], 2)?;
//! let params = initialize(&ParamLayout::new(&spec), Init::HeUniform, 7);
//! let train_len = data.train.len();
//! let (mut backend, _why) = create_backend(DeviceChoice::Cpu, &spec, params, Arc::new(data), &TrainOptions::new(32))?;
//! let cfg = TrainConfig::constant(5, 0.1, 7);
//! let outcome = fit(backend.as_mut(), train_len, false, &cfg, &mut |_: Event<'_>| {})?;
//! assert!(outcome.reports[4].test.accuracy > 0.9);
//! # Ok::<(), gpu_mlp::Error>(())
//! ```

pub mod artifacts;
pub mod backend;
pub mod bench;
pub mod boundary;
pub mod checkpoint;
pub mod config;
pub mod cpu;
pub mod data;
pub mod device;
pub mod diagnostics;
pub mod dropout;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod files;
pub mod findings;
pub mod gpu;
pub mod image;
pub mod memory;
pub mod model;
pub mod optim;
pub mod report;
pub mod run;
pub mod signals;
pub mod step;
pub mod sweep;
pub mod train;

pub use backend::{Backend, Metrics, StepMetrics};
pub use error::{Error, Result};

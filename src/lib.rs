//! gpu-mlp: train multi-layer perceptrons with hand-written WGSL kernels on wgpu, checked against
//! a plain-Rust CPU reference that states the same math.
//!
//! - [`data`]: IDX files, dataset lookup, synthetic sets.
//! - [`model`]: the network's shape, its flat parameter layout, initialization.
//! - [`cpu`]: the reference math ([`cpu::ops`]) and a CPU [`Backend`].
//! - [`gpu`]: the wgpu context, one struct per kernel, and the GPU [`Backend`].
//! - [`train`]: the loop shared by both backends.
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

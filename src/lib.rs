//! gpu-mlp: train multi-layer perceptrons with hand-written WGSL kernels on wgpu, checked against
//! a plain-Rust CPU reference that states the same math.
//!
//! - [`data`]: IDX files, dataset lookup, synthetic sets.
//! - [`model`]: the network's shape, its flat parameter layout, initialization.
//! - [`cpu`]: the reference math ([`cpu::ops`]) and a CPU [`Backend`].
//! - [`gpu`]: the wgpu context, one struct per kernel, and the GPU [`Backend`].
//! - [`train`]: the loop shared by both backends.

pub mod backend;
pub mod cpu;
pub mod data;
pub mod device;
pub mod error;
pub mod gpu;
pub mod model;
pub mod train;

pub use backend::{Backend, Metrics, StepMetrics};
pub use error::{Error, Result};

//! The CPU reference: the math of training in plain Rust, and a backend built on it.

pub mod backend;
pub mod net;
pub mod ops;

pub use backend::CpuBackend;

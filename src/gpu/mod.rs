//! The GPU path: one wgpu context, one struct per WGSL kernel, and a backend that keeps
//! everything resident.

pub mod backend;
pub mod context;
pub mod kernels;
pub mod tiles;
pub mod timestamps;

pub use backend::GpuBackend;
pub use context::{list_adapters, list_every_adapter, AdapterChoice, AdapterSummary, GpuContext, GraphicsApi};

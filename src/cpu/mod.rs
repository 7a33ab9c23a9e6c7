//! The CPU side: the math of training in plain Rust, and a backend built on it.
//!
//! - [`aligned`]: 64-byte-aligned buffers for the batch and the parameters.
//! - [`reference`](mod@reference): each product as a student writes it, loops over rows, columns and k.
//! - [`gemm`]: the fast product the backend uses, tested against the reference.
//! - [`simd`](mod@simd): the SIMD kernels behind `gemm` on x86-64, which need no packing.
//! - [`ops`]: one function per operation of a training step (forward, loss, backward, update).
//! - [`net`]: a whole network's pass, layer by layer from the ops.
//! - [`backend`]: the CPU [`crate::Backend`].

pub mod aligned;
pub mod backend;
pub mod gemm;
pub mod net;
pub mod ops;
pub mod reference;
#[cfg(target_arch = "x86_64")]
pub mod simd;

pub use backend::CpuBackend;

/// A float the CPU computes in: f32 (training) or f64 (finite-difference gradient checks).
pub trait Real: num_traits::Float + std::iter::Sum + Send + Sync + 'static + gemm::Gemm {
    fn from_f32(x: f32) -> Self;
    fn to_f64(self) -> f64;
}

impl Real for f32 {
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    fn from_f32(x: f32) -> Self {
        f64::from(x)
    }
    fn to_f64(self) -> f64 {
        self
    }
}

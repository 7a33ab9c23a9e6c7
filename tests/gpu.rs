//! The GPU suites that .ci/test runs on both graphics APIs (Vulkan, then OpenGL), one binary:
//! every kernel against its CPU twin, the kernels' bounds, whole runs and a traced step.

#[macro_use]
mod common;

#[path = "canary.rs"]
mod canary;
#[path = "parity_kernels.rs"]
mod parity_kernels;
#[path = "parity_training.rs"]
mod parity_training;
#[path = "step_trace.rs"]
mod step_trace;

//! The native test suite, one binary: each file beside this one is a module of it (linking the
//! library and wgpu once instead of once a file). The GPU parity suites are `tests/gpu.rs` (the
//! ones .ci/test runs again on OpenGL), the page's `tests/page.rs`, the browser's
//! `tests/browser.rs`.

#[macro_use]
mod common;

#[path = "artifacts.rs"]
mod artifacts;
#[path = "cli.rs"]
mod cli;
#[path = "cpu_reference.rs"]
mod cpu_reference;
#[path = "diagnostics.rs"]
mod diagnostics;
#[path = "download.rs"]
mod download;
#[path = "error_policy.rs"]
mod error_policy;
#[path = "experiments.rs"]
mod experiments;
#[path = "fashion.rs"]
mod fashion;
#[path = "features.rs"]
mod features;
#[path = "findings.rs"]
mod findings;
#[path = "fuzz_parsers.rs"]
mod fuzz_parsers;
#[path = "idx.rs"]
mod idx;
#[path = "images.rs"]
mod images;
#[path = "inside.rs"]
mod inside;
#[path = "python_interop.rs"]
mod python_interop;
#[path = "robustness.rs"]
mod robustness;
#[path = "settings.rs"]
mod settings;
#[path = "shaders_validate.rs"]
mod shaders_validate;
#[path = "tables.rs"]
mod tables;
#[path = "tile_plans.rs"]
mod tile_plans;
#[path = "unchanged.rs"]
mod unchanged;

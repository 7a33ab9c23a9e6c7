//! Training, whatever computes it: the `Backend` trait both backends implement, the per-layer
//! diagnostics they measure, and the epoch loop that drives one.

pub mod backend;
pub mod diagnostics;
pub mod history;
pub mod train;

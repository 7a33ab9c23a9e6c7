//! Seeing into a model and its run: evaluation metrics, the findings read from a run's diagnostics, one batch explained step by step, and decision boundaries.

pub mod boundary;
pub mod evaluate;
pub mod explain;
pub mod findings;

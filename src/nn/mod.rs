//! The network as math both backends share: its shape and parameter layout, the optimizers and
//! schedules, the dropout mask, and the list of a training step's dispatches.

pub mod dropout;
pub mod model;
pub mod optim;
pub mod step;

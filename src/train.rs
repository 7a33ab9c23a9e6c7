//! The training loop, the same for every backend: shuffle, train an epoch, evaluate, report.

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::backend::{Backend, Metrics};
use crate::error::{Error, Result};
use crate::optim::Schedule;

#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub schedule: Schedule,
    pub seed: u64,
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    /// Mean loss and accuracy over the epoch's training steps (weights changing as it goes).
    pub train: Metrics,
    pub test: Metrics,
    /// Wall time of the training steps (evaluation excluded).
    pub train_seconds: f64,
    pub samples_per_second: f64,
}

/// The order in which epoch `epoch` (1-based) visits `n` training samples: a Fisher–Yates
/// shuffle from ChaCha8 seeded by the run seed and the epoch, the same on every backend.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    let stream = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(epoch as u64);
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(stream));
    order
}

/// Trains for `cfg.epochs` epochs over `train_len` samples, calling `on_epoch` after each.
pub fn train(
    backend: &mut dyn Backend,
    train_len: usize,
    cfg: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<Vec<EpochReport>> {
    let mut reports = Vec::with_capacity(cfg.epochs);
    let steps_per_epoch = train_len.div_ceil(backend.batch_size());
    for epoch in 1..=cfg.epochs {
        let order = epoch_order(train_len, cfg.seed, epoch);
        let first_step = (epoch - 1) * steps_per_epoch;
        let lrs: Vec<f32> = (first_step..first_step + steps_per_epoch)
            .map(|step| cfg.schedule.lr(epoch - 1, step))
            .collect();
        let start = Instant::now();
        let steps = backend.train(&order, &lrs)?;
        let train_seconds = start.elapsed().as_secs_f64();
        let train = Metrics::from_steps(&steps);
        if !train.loss.is_finite() {
            return Err(Error::Diverged {
                epoch,
                detail: format!(
                    "the training loss became {} (learning rate {} is probably too high; try a lower --lr)",
                    train.loss, lrs[0]
                ),
            });
        }
        let test = backend.evaluate_test()?;
        let report = EpochReport {
            epoch,
            train,
            test,
            train_seconds,
            samples_per_second: train.samples as f64 / train_seconds.max(1e-9),
        };
        on_epoch(&report);
        reports.push(report);
    }
    Ok(reports)
}

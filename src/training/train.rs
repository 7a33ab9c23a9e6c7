//! The training loop, the same for every backend: shuffle, train an epoch (in progress ticks),
//! evaluate, keep the best epoch by validation, stop early.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::error::{Error, Result};
use crate::nn::optim::Schedule;
use crate::training::backend::{Backend, EvalSplit, Metrics, Pending, StepMetrics};
use crate::training::diagnostics::LayerDiagnostics;

/// The validation metric that picks the best epoch and drives early stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Monitor {
    #[default]
    ValLoss,
    ValAccuracy,
}

impl Monitor {
    /// The monitored value, larger is better.
    fn score(self, m: &Metrics) -> f64 {
        match self {
            Monitor::ValLoss => -m.loss,
            Monitor::ValAccuracy => m.accuracy,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub schedule: Schedule,
    pub seed: u64,
    /// Stop after this many epochs without improvement of `monitor` (needs a validation split).
    pub patience: Option<usize>,
    pub monitor: Monitor,
    /// Report the running loss every this many batches (a readback at each tick).
    pub log_every: Option<usize>,
    /// Visit the training samples in a new random order every epoch (else in their order).
    pub shuffle: bool,
    /// Epochs already done (when resuming): training continues with epoch `start_epoch + 1`…
    pub start_epoch: usize,
    /// …at this step of it (non-zero after an interrupted epoch)…
    pub start_step: usize,
    /// …whose steps before the interruption summed to this (so its history covers them too).
    pub start_metrics: StepMetrics,
    /// The best epoch before `start_epoch` (a resumed run keeps comparing against it).
    pub best_so_far: Option<Best>,
    /// Score the held-out splits this many samples at a time (a multiple of the batch size
    /// keeps the batches, and so the sums, as one pass would), letting the host breathe
    /// between parts ([`Observer::breathe`]); `None`: each split in one go.
    pub eval_part: Option<usize>,
}

impl TrainConfig {
    /// `epochs` epochs at a constant learning rate, no early stopping or ticks.
    pub fn constant(epochs: usize, lr: f32, seed: u64) -> Self {
        TrainConfig {
            epochs,
            schedule: Schedule::constant(lr),
            seed,
            patience: None,
            monitor: Monitor::ValLoss,
            log_every: None,
            shuffle: true,
            start_epoch: 0,
            start_step: 0,
            start_metrics: StepMetrics::default(),
            best_so_far: None,
            eval_part: None,
        }
    }
}

/// Which held-out splits the data have, scored after every epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldOut {
    pub val: bool,
    pub test: bool,
}

impl HeldOut {
    /// A test split and no validation split.
    pub const TEST: HeldOut = HeldOut { val: false, test: true };

    pub fn of(data: &crate::data::Splits) -> HeldOut {
        HeldOut {
            val: data.val.is_some(),
            test: data.test.is_some(),
        }
    }
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    /// Mean loss and accuracy over the epoch's training steps (weights changing as it goes).
    pub train: Metrics,
    pub val: Option<Metrics>,
    /// None when the data have no test split.
    pub test: Option<Metrics>,
    /// The learning rate of the epoch's first step.
    pub lr: f32,
    /// Wall time of the training steps (evaluation excluded).
    pub train_seconds: f64,
    pub samples_per_second: f64,
    /// Per layer, what the epoch's training steps measured inside the network (empty when the
    /// epoch ran no step in this process).
    pub layers: Vec<LayerDiagnostics>,
    /// The training loss blew up in this epoch (how): it stopped there, and the run ends after
    /// the epoch is reported, without saving it.
    pub diverged: Option<String>,
}

/// A progress tick inside an epoch: the running mean since the last tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub epoch: usize,
    /// Batches done in this epoch, of `batches`.
    pub batch: usize,
    pub batches: usize,
    pub recent: Metrics,
}

pub enum Event<'a> {
    Tick(&'a Tick),
    Epoch(&'a EpochReport),
}

/// What the loop reports to, and lets act after each epoch (e.g. to write checkpoints).
pub trait Observer {
    fn tick(&mut self, _tick: &Tick) {}

    /// After each epoch; `improved`: the epoch is the best so far by the monitored metric.
    fn epoch(&mut self, _backend: &mut dyn Backend, _report: &EpochReport, _improved: bool) -> Result<()> {
        Ok(())
    }

    /// [`Observer::epoch`], awaited by [`fit_async`]: an observer that reads from the backend
    /// after an epoch (a page drawing the decision boundary) awaits the readback here instead of
    /// blocking. By default, `epoch`'s answer.
    fn epoch_async<'a>(
        &'a mut self,
        backend: &'a mut dyn Backend,
        report: &'a EpochReport,
        improved: bool,
    ) -> Pending<'a, ()> {
        Box::pin(std::future::ready(self.epoch(backend, report, improved)))
    }

    /// Before epoch `epoch` (1-based) trains: its learning rate, given the schedule's (`lr`);
    /// a different answer replaces every step's rate in that epoch.
    fn epoch_lr(&mut self, _epoch: usize, lr: f32) -> f32 {
        lr
    }

    /// Asked after every chunk of steps (each progress tick): stop training now?
    fn should_stop(&mut self) -> bool {
        false
    }

    /// Awaited before every chunk of steps: a web page lets the browser draw and take input
    /// here, so even the CPU reference, which computes in place, never holds the page for
    /// longer than a chunk. Natively there is nothing to wait for.
    fn pause(&mut self) -> Pending<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Awaited between parts of a held-out split's scoring ([`TrainConfig::eval_part`]): a web
    /// page lets the browser draw here, without the pause and step of [`Observer::pause`].
    fn breathe(&mut self) -> Pending<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Training stopped on request with `steps` steps of epoch `epoch` done, whose metrics sum
    /// to `so_far`.
    fn stopped(
        &mut self,
        _backend: &mut dyn Backend,
        _epoch: usize,
        _steps: usize,
        _so_far: StepMetrics,
    ) -> Result<()> {
        Ok(())
    }
}

/// A closure receiving the loop's events is an observer.
impl<F: FnMut(Event<'_>)> Observer for F {
    fn tick(&mut self, tick: &Tick) {
        self(Event::Tick(tick));
    }

    fn epoch(&mut self, _backend: &mut dyn Backend, report: &EpochReport, _improved: bool) -> Result<()> {
        self(Event::Epoch(report));
        Ok(())
    }
}

/// The best epoch by the monitored validation metric, and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    pub epoch: usize,
    pub val: Metrics,
    pub params: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub reports: Vec<EpochReport>,
    /// `None` without a validation split.
    pub best: Option<Best>,
    /// Early stopping ended the run before `epochs`.
    pub stopped_early: bool,
    /// Stopped on request ([`Observer::should_stop`]) at (epoch, steps done in it).
    pub interrupted: Option<(usize, usize)>,
}

/// The order in which epoch `epoch` (1-based) visits `n` training samples: a Fisher–Yates
/// shuffle from ChaCha8 seeded by the run seed and the epoch, the same on every backend.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    let stream = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(epoch as u64);
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(stream));
    order
}

/// The order epoch `epoch` visits `n` training samples in: [`epoch_order`]'s shuffle, or
/// theirs without `shuffle`.
pub fn visit_order(n: usize, seed: u64, epoch: usize, shuffle: bool) -> Vec<u32> {
    match shuffle {
        true => epoch_order(n, seed, epoch),
        false => (0..n as u32).collect(),
    }
}

/// Mini-batches in an epoch of `train_len` samples (the last one may be smaller).
pub fn steps_per_epoch(train_len: usize, batch_size: usize) -> usize {
    train_len.div_ceil(batch_size)
}

/// Early stopping without a validation split to watch.
pub fn patience_without_validation() -> Error {
    Error::InvalidConfig {
        field: "patience",
        detail: "early stopping watches a validation metric: set --val-split too".into(),
    }
}

/// Trains epochs `cfg.start_epoch + 1 ..= cfg.epochs` over `train_len` samples, telling
/// `observer` at each progress tick and after each epoch; `held_out`: the splits the backend
/// scores after each epoch. Blocks until done: [`fit_async`], waited for.
pub fn fit(
    backend: &mut dyn Backend,
    train_len: usize,
    held_out: HeldOut,
    cfg: &TrainConfig,
    observer: &mut dyn Observer,
) -> Result<Outcome> {
    pollster::block_on(fit_async(backend, train_len, held_out, cfg, observer))
}

/// [`fit`] without blocking: every readback the loop needs is awaited, so in a browser the page
/// keeps running while the GPU trains (each progress tick, `cfg.log_every` steps, is one
/// submit whose metrics are awaited).
pub async fn fit_async(
    backend: &mut dyn Backend,
    train_len: usize,
    held_out: HeldOut,
    cfg: &TrainConfig,
    observer: &mut dyn Observer,
) -> Result<Outcome> {
    if cfg.patience.is_some() && !held_out.val {
        return Err(patience_without_validation());
    }
    let batch = backend.batch_size();
    let steps_per_epoch = steps_per_epoch(train_len, batch);
    let tick = cfg.log_every.unwrap_or(steps_per_epoch).max(1);
    let mut outcome = Outcome {
        reports: Vec::new(),
        best: cfg.best_so_far.clone(),
        stopped_early: false,
        interrupted: None,
    };
    let mut since_best = 0;
    for epoch in cfg.start_epoch + 1..=cfg.epochs {
        // A resumed interrupted epoch continues where it stopped, in the same order.
        let skip = if epoch == cfg.start_epoch + 1 {
            cfg.start_step.min(steps_per_epoch)
        } else {
            0
        };
        let order = visit_order(train_len, cfg.seed, epoch, cfg.shuffle);
        let first_step = (epoch - 1) * steps_per_epoch;
        let mut lrs: Vec<f32> = (first_step..first_step + steps_per_epoch)
            .map(|step| cfg.schedule.lr(epoch - 1, step))
            .collect();
        let chosen = observer.epoch_lr(epoch, lrs[0]);
        if chosen != lrs[0] {
            lrs.fill(chosen);
        }
        // The interrupted epoch's steps before the break count towards its metrics.
        let carried = if skip > 0 {
            cfg.start_metrics
        } else {
            StepMetrics::default()
        };
        let start = Instant::now();
        let mut steps = Vec::with_capacity(steps_per_epoch);
        let mut blew_up = None;
        let remaining = order[(skip * batch).min(order.len())..]
            .chunks(tick * batch)
            .zip(lrs[skip..].chunks(tick));
        for (chunk, chunk_lrs) in remaining {
            observer.pause().await?;
            if observer.should_stop() {
                let done = skip + steps.len();
                let so_far = StepMetrics::total(&[carried, StepMetrics::total(&steps)]);
                observer.stopped(backend, epoch, done, so_far)?;
                outcome.interrupted = Some((epoch, done));
                return Ok(outcome);
            }
            let done = backend.train_steps_async(chunk, chunk_lrs).await?;
            let recent = Metrics::from_steps(&done);
            steps.extend(done);
            if let Some(detail) = diverged(&recent) {
                let detail = format!(
                    "after batch {} {detail} (learning rate {} is probably too high; try a lower --lr)",
                    skip + steps.len(),
                    chunk_lrs[0]
                );
                // Numbers that are no longer numbers tell nothing more; a loss that only blew
                // up still lets the epoch's held-out accuracy be measured for the findings.
                if !recent.loss.is_finite() {
                    return Err(Error::Diverged {
                        epoch,
                        detail,
                        findings: Vec::new(),
                    });
                }
                blew_up = Some(detail);
                break;
            }
            if cfg.log_every.is_some() {
                observer.tick(&Tick {
                    epoch,
                    batch: skip + steps.len(),
                    batches: steps_per_epoch,
                    recent,
                });
            }
        }
        let train_seconds = start.elapsed().as_secs_f64();
        let layers = backend
            .diagnostics_async()
            .await?
            .map_or_else(Vec::new, |raw| raw.layers());
        let trained = Metrics::from_steps(&steps);
        let train = Metrics::from_steps(&[carried, StepMetrics::total(&steps)]);
        let val = evaluate_if(backend, observer, EvalSplit::Val, held_out.val, cfg.eval_part).await?;
        let test = evaluate_if(backend, observer, EvalSplit::Test, held_out.test, cfg.eval_part).await?;
        let report = EpochReport {
            epoch,
            train,
            val,
            test,
            lr: lrs[0],
            train_seconds,
            samples_per_second: trained.samples as f64 / train_seconds.max(1e-9),
            layers,
            diverged: blew_up.clone(),
        };
        let improved = match val {
            Some(val) => outcome
                .best
                .as_ref()
                .is_none_or(|b| cfg.monitor.score(&val) > cfg.monitor.score(&b.val)),
            None => false,
        };
        if let Some(detail) = blew_up {
            observer.epoch_async(backend, &report, false).await?;
            return Err(Error::Diverged {
                epoch,
                detail,
                findings: Vec::new(),
            });
        }
        observer.epoch_async(backend, &report, improved).await?;
        outcome.reports.push(report);
        if let Some(val) = val {
            if improved {
                outcome.best = Some(Best {
                    epoch,
                    val,
                    params: backend.parameters_async().await?,
                });
                since_best = 0;
            } else {
                since_best += 1;
                if cfg.patience.is_some_and(|p| since_best >= p) {
                    outcome.stopped_early = epoch < cfg.epochs;
                    break;
                }
            }
        }
    }
    Ok(outcome)
}

/// The metrics of `split` when the data have it (`has`), scored `part` samples at a time.
async fn evaluate_if(
    backend: &mut dyn Backend,
    observer: &mut dyn Observer,
    split: EvalSplit,
    has: bool,
    part: Option<usize>,
) -> Result<Option<Metrics>> {
    if !has {
        return Ok(None);
    }
    let len = backend.held_out_len(split)?;
    let part = part.unwrap_or(len).max(1);
    let mut steps = Vec::new();
    for start in (0..len).step_by(part) {
        if start > 0 {
            observer.breathe().await?;
        }
        steps.extend(
            backend
                .evaluate_part_async(split, start..(start + part).min(len))
                .await?,
        );
    }
    Ok(Some(Metrics::from_steps(&steps)))
}

/// A mean loss above this has blown up: for cross-entropy it means logits a million apart
/// (chance level is ln(classes), a few units), far past anything training recovers from.
pub const DIVERGED_LOSS: f64 = 1e6;

/// Describes a loss that is no longer a number, or has blown up, if so.
fn diverged(m: &Metrics) -> Option<String> {
    if !m.loss.is_finite() {
        Some(format!("the training loss became {}", m.loss))
    } else if m.loss > DIVERGED_LOSS {
        Some(format!("the training loss reached {:.3e}", m.loss))
    } else {
        None
    }
}

//! A configured run: data, network and backend built from a [`Config`], trained, and — with a
//! run directory — leaving behind config.toml, history.csv/json, last/best checkpoints and
//! meta.json after every epoch, so it can be resumed.

use std::path::Path;
use std::sync::Arc;

use crate::artifacts::{write_atomic, HistoryRow, RunDir, RunLock};
use crate::backend::Backend;
use crate::backend::{Metrics, StepMetrics};
use crate::checkpoint::{Checkpoint, Meta, FORMAT};
use crate::config::Config;
use crate::data::Splits;
use crate::device::create_backend;
use crate::error::{Error, Result};
use crate::model::{initialize, MlpSpec, ParamLayout};
use crate::train::{train, Best, EpochReport, Observer, Outcome, Tick};

pub struct Run {
    pub config: Config,
    pub data: Arc<Splits>,
    pub spec: MlpSpec,
    pub backend: Box<dyn Backend>,
    /// Which device was chosen and why.
    pub device_note: String,
    /// Where artifacts go (none: train in memory only).
    pub dir: Option<RunDir>,
    /// Epochs already done (a resumed run), and steps done of the next one.
    pub start_epoch: usize,
    pub start_step: usize,
    /// The interrupted epoch's metrics before the break.
    pub start_metrics: StepMetrics,
    /// A resumed run's best epoch so far (from its best.safetensors).
    pub best_so_far: Option<Best>,
    /// Metrics of every epoch so far, resumed ones included.
    pub history: Vec<HistoryRow>,
    /// Progress ticks every N batches when the config asks for none (e.g. for a progress bar).
    pub tick_every: Option<usize>,
    /// Where `--force` moved an earlier run that was in the run directory.
    pub moved_aside: Option<std::path::PathBuf>,
    /// Held while this process may write to the run directory.
    _lock: Option<RunLock>,
}

impl Run {
    /// Loads the data, builds and initializes the network, and opens the backend.
    pub fn new(config: &Config) -> Result<Run> {
        Run::build(config, None)
    }

    /// Like [`Run::new`], writing artifacts to `out` (or `runs/run-<time>`), which must not
    /// hold a run already unless `force` (which moves that run aside; see [`RunDir::create`]).
    pub fn with_dir(config: &Config, out: Option<&Path>, force: bool) -> Result<Run> {
        let mut run = Run::build(config, None)?;
        let (dir, lock, moved) = RunDir::create(out, force)?;
        write_atomic(&dir.file("config.toml"), config.to_toml().as_bytes())?;
        run.dir = Some(dir);
        run.moved_aside = moved;
        run._lock = Some(lock);
        Ok(run)
    }

    /// Continues the run in `dir` from its last checkpoint. `overrides` (e.g. more `epochs`)
    /// go on top of its config.toml; the network must stay the same.
    pub fn resume(dir: &Path, overrides: &impl serde::Serialize) -> Result<Run> {
        let (run_dir, lock) = RunDir::open(dir)?;
        let config = Config::resolve(Some(&run_dir.file("config.toml")), overrides)?;
        let checkpoint = Checkpoint::load(&run_dir.file("last.safetensors"))?;
        let meta = &checkpoint.meta;
        if meta.steps_into_epoch > 0 {
            if let Some((flag, was, now)) = meta.config.batch_order_change(&config) {
                return Err(Error::InvalidConfig {
                    field: flag,
                    detail: format!(
                        "the run stopped {} steps into epoch {}, whose batches depend on --{flag}: it was {was}, now {now}; \
                         resume with the same value to finish that epoch where it stopped",
                        meta.steps_into_epoch,
                        meta.epoch + 1
                    ),
                });
            }
        }
        let mut run = Run::build(&config, Some(&checkpoint))?;
        run.backend
            .set_optimizer_state(&checkpoint.optimizer_state, checkpoint.meta.optimizer_steps)?;
        run.start_epoch = checkpoint.meta.epoch;
        run.start_step = checkpoint.meta.steps_into_epoch;
        run.start_metrics = checkpoint.meta.steps_so_far;
        let best = Checkpoint::load(&run_dir.file("best.safetensors")).ok();
        run.best_so_far = best.and_then(|b| {
            Some(Best {
                epoch: b.meta.epoch,
                val: b.meta.val?,
                params: b.params,
            })
        });
        run.history = run_dir.read_history()?;
        run.history.truncate(run.start_epoch);
        write_atomic(&run_dir.file("config.toml"), config.to_toml().as_bytes())?;
        run.dir = Some(run_dir);
        run._lock = Some(lock);
        Ok(run)
    }

    fn build(config: &Config, from: Option<&Checkpoint>) -> Result<Run> {
        let data = Arc::new(config.load_data()?);
        let spec = config.spec(data.train.dim, data.classes())?;
        check_model_fits(config, &spec)?;
        let params = match from {
            Some(c) if c.meta.spec()? != spec => {
                return Err(Error::Checkpoint {
                    path: "last.safetensors".into(),
                    detail: format!(
                        "holds a {} network, the config asks for {}",
                        c.meta.spec()?.describe(),
                        spec.describe()
                    ),
                })
            }
            Some(c) => c.params.clone(),
            None => initialize(&ParamLayout::new(&spec), config.init, config.seed),
        };
        let (backend, device_note) =
            create_backend(config.device, &spec, params, Arc::clone(&data), &config.train_options())?;
        Ok(Run {
            config: config.clone(),
            data,
            spec,
            backend,
            device_note,
            dir: None,
            start_epoch: 0,
            start_step: 0,
            start_metrics: StepMetrics::default(),
            best_so_far: None,
            history: Vec::new(),
            tick_every: None,
            moved_aside: None,
            _lock: None,
        })
    }

    /// Trains as configured, telling `observer` about ticks and epochs, and writing the run
    /// directory's files after every epoch.
    pub fn train(&mut self, observer: &mut dyn Observer) -> Result<Outcome> {
        let train_len = self.data.train.len();
        let base = self.config.train_config(train_len.div_ceil(self.config.batch_size));
        let cfg = crate::train::TrainConfig {
            start_epoch: self.start_epoch,
            start_step: self.start_step,
            start_metrics: self.start_metrics,
            best_so_far: self.best_so_far.clone(),
            log_every: base.log_every.or(self.tick_every),
            ..base
        };
        let mut recorder = Recorder {
            run_dir: self.dir.clone(),
            config: &self.config,
            spec: &self.spec,
            data: &self.data,
            history: &mut self.history,
            inner: observer,
        };
        train(
            self.backend.as_mut(),
            train_len,
            self.data.val.is_some(),
            &cfg,
            &mut recorder,
        )
    }
}

/// Refuses a network whose parameters, gradients, optimizer state and batch activations
/// (held once on the host even when training on the GPU) would not fit in memory.
fn check_model_fits(config: &Config, spec: &MlpSpec) -> Result<()> {
    let params = ParamLayout::new(spec).len as u128;
    let arrays = 2 + config.optimizer.state_per_param() as u128;
    let activations = 2 * config.batch_size as u128 * spec.sizes.iter().map(|&w| w as u128).sum::<u128>();
    let what = format!(
        "a {} network ({} parameters, batch {})",
        spec.describe(),
        params,
        config.batch_size
    );
    crate::memory::check_fits(
        "hidden",
        &what,
        4 * (params * arrays + activations),
        crate::memory::available_bytes(),
    )
}

/// Where training stands: epochs completed and steps done of the next.
#[derive(Clone, Copy)]
struct Position {
    epoch: usize,
    steps_into_epoch: usize,
    /// Summed metrics of those steps.
    steps_so_far: StepMetrics,
    /// Validation metrics at this position (end of an epoch with a validation split).
    val: Option<Metrics>,
}

fn checkpoint_of(
    config: &Config,
    spec: &MlpSpec,
    data: &Splits,
    at: Position,
    params: Vec<f32>,
    optimizer_state: Vec<f32>,
    optimizer_steps: u64,
) -> Checkpoint {
    Checkpoint {
        meta: Meta {
            format: FORMAT.into(),
            crate_version: env!("CARGO_PKG_VERSION").into(),
            sizes: spec.sizes.clone(),
            activations: spec.activations.clone(),
            loss: spec.loss,
            class_names: data.class_names.clone(),
            input_scale: data.train.transform.scale,
            input_shift: data.train.transform.shift,
            epoch: at.epoch,
            steps_into_epoch: at.steps_into_epoch,
            steps_so_far: at.steps_so_far,
            val: at.val,
            optimizer_steps,
            seed: config.seed,
            config: config.clone(),
        },
        params,
        optimizer_state,
    }
}

/// Passes events on, and keeps the run directory current after each epoch.
struct Recorder<'a> {
    run_dir: Option<RunDir>,
    config: &'a Config,
    spec: &'a MlpSpec,
    data: &'a Splits,
    history: &'a mut Vec<HistoryRow>,
    inner: &'a mut dyn Observer,
}

impl Observer for Recorder<'_> {
    fn tick(&mut self, tick: &Tick) {
        self.inner.tick(tick);
    }

    fn epoch(&mut self, backend: &mut dyn Backend, report: &EpochReport, improved: bool) -> Result<()> {
        self.history.push(HistoryRow::from(report));
        let at = Position {
            epoch: report.epoch,
            steps_into_epoch: 0,
            steps_so_far: StepMetrics::default(),
            val: report.val,
        };
        // Without a validation split the latest epoch is the best one we can name.
        let best = improved || self.data.val.is_none();
        self.save(backend, at, best)?;
        self.inner.epoch(backend, report, improved)
    }

    fn should_stop(&mut self) -> bool {
        self.inner.should_stop()
    }

    fn stopped(&mut self, backend: &mut dyn Backend, epoch: usize, steps: usize, so_far: StepMetrics) -> Result<()> {
        let at = Position {
            epoch: epoch - 1,
            steps_into_epoch: steps,
            steps_so_far: so_far,
            val: None,
        };
        self.save(backend, at, false)?;
        self.inner.stopped(backend, epoch, steps, so_far)
    }
}

impl Recorder<'_> {
    /// Writes last.safetensors (and best.safetensors when `best`), meta.json and the history.
    fn save(&mut self, backend: &mut dyn Backend, at: Position, best: bool) -> Result<()> {
        let Some(dir) = &self.run_dir else { return Ok(()) };
        let (optimizer_state, steps) = backend.optimizer_state()?;
        let checkpoint = checkpoint_of(
            self.config,
            self.spec,
            self.data,
            at,
            backend.parameters()?,
            optimizer_state,
            steps,
        );
        checkpoint.save(&dir.file("last.safetensors"))?;
        if best {
            checkpoint.save(&dir.file("best.safetensors"))?;
        }
        let meta = serde_json::to_string_pretty(&checkpoint.meta).map_err(|e| Error::Checkpoint {
            path: dir.file("meta.json"),
            detail: e.to_string(),
        })?;
        write_atomic(&dir.file("meta.json"), meta.as_bytes())?;
        dir.write_history(self.history)
    }
}

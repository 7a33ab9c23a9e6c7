//! A configured run: data, network and backend built from a [`Config`], trained, and — with a
//! run directory — leaving behind config.toml, history.csv/json, last/best checkpoints and
//! meta.json after every epoch, so it can be resumed.

pub mod artifacts;
pub mod board;
pub mod plots;
mod record;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checkpoint::Checkpoint;
use crate::checkpoint::{Position, RunRecord};
use crate::data::table::{Fitted, RawTable};
use crate::data::{arrays, Splits, StoredRange};
use crate::error::{Error, Result};
use crate::files::write_atomic;
use crate::files::Fingerprint;
use crate::insight::findings::findings;
use crate::nn::model::MlpSpec;
use crate::plan::start;
use crate::report::ExampleChoice;
use crate::run::artifacts::{RunDir, RunLock};
use crate::run::board::Board;
use crate::run::record::{Checkpoints, Events, Frames, History, Recorder};
use crate::settings::Config;
use crate::tensorboard::Status;
use crate::training::backend::{Backend, DispatchStats, EvalSplit, Metrics, StepMetrics};
use crate::training::history::HistoryRow;
use crate::training::train::{fit, Best, HeldOut, Observer, Outcome};

/// A run, stage by stage: build it ([`Run::new`], [`Run::with_dir`] or [`Run::resume`]), then
/// [`Run::train`], then [`Run::finish`].
pub struct Run {
    config: Config,
    data: Arc<Splits>,
    spec: MlpSpec,
    backend: Box<dyn Backend>,
    /// Which device was chosen and why.
    device_note: String,
    /// Where artifacts go (none: train in memory only).
    dir: Option<RunDir>,
    /// Where a resumed run continues (all zero for a new run).
    resumed: Resumed,
    /// Metrics of every epoch so far, resumed ones included.
    history: Vec<HistoryRow>,
    /// Where `--force` moved an earlier run that was in the run directory.
    moved_aside: Option<PathBuf>,
    /// Parameters at the epochs `boundary_every` picks, for boundary.gif.
    boundary_frames: Vec<(usize, Vec<f32>)>,
    /// The model the plots show: what best.safetensors holds (the best epoch with a validation
    /// split, else the latest), kept in memory as it is saved.
    shown: Option<Checkpoint>,
    /// The table files as the run first read them, saved with every checkpoint.
    data_files: Vec<Fingerprint>,
    /// The data came as arrays ([`Run::from_splits`]), not from `config`'s dataset.
    from_arrays: bool,
    /// What the training samples are stored as, for the checkpoints.
    stored: StoredRange,
    /// The run's TensorBoard event file, opened when training starts in a run directory.
    board: Option<Board>,
    /// Held while this process may write to the run directory.
    _lock: Option<RunLock>,
}

/// Where a resumed run picks up.
#[derive(Default)]
struct Resumed {
    /// Epochs already done, and steps done of the next one.
    epoch: usize,
    step: usize,
    /// The interrupted epoch's metrics before the break.
    metrics: StepMetrics,
    /// The best epoch so far (from best.safetensors).
    best: Option<Best>,
}

/// How the run ended, once the best epoch is restored and the plots are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The best epoch by the monitored metric (with a validation split), and its test metrics
    /// (measured when the model holds its weights: `restore_best`).
    pub best: Option<(Best, Option<Metrics>)>,
    /// Early stopping ended the run before its last epoch.
    pub stopped_early: bool,
    pub dispatches: DispatchStats,
    /// Epochs trained by this process.
    pub epochs: usize,
    /// The plots written to the run directory.
    pub plots: Vec<PathBuf>,
    /// What the diagnostics say went wrong, in plain language (empty when nothing did).
    pub findings: Vec<String>,
}

/// Progress ticks per epoch when the config asks for none: often enough that a stop signal
/// ends training within a twentieth of an epoch.
const TICKS_PER_EPOCH: usize = 20;

impl Run {
    /// Loads the data, builds and initializes the network, and opens the backend.
    pub fn new(config: &Config) -> Result<Run> {
        Run::build(config, None)
    }

    /// Like [`Run::new`], writing artifacts to `out` (or a new directory under `runs/`), which
    /// must not hold a run already unless `force` (which moves that run aside; see
    /// [`RunDir::create`]).
    pub fn with_dir(config: &Config, out: Option<&Path>, force: bool) -> Result<Run> {
        // The run directory's config (and each checkpoint's) is read later from anywhere:
        // `eval` and `predict` in another working directory must find the same files.
        let config = &config.with_absolute_paths();
        if let Some(out) = out {
            crate::run::artifacts::check_output_dir(out)?;
        }
        let mut run = Run::build(config, None)?;
        // After loading, which refused anything but a bounded regular file (a FIFO would block).
        run.data_files = config
            .table
            .data
            .iter()
            .chain(&config.table.test_data)
            .map(|path| Fingerprint::of(path))
            .collect::<Result<Vec<_>>>()?;
        run.open_dir(out, force)?;
        Ok(run)
    }

    /// Creates the run directory (`out`, or a new one named by the time and the data) and
    /// writes its config.toml (without `dataset` when the data came as arrays).
    fn open_dir(&mut self, out: Option<&Path>, force: bool) -> Result<()> {
        let (label, toml) = match self.from_arrays {
            true => ("arrays".to_string(), self.config.to_toml_for_arrays()),
            false => (self.config.data_label(), self.config.to_toml()),
        };
        let (dir, lock, moved) = RunDir::create(out, &label, force)?;
        write_atomic(&dir.file("config.toml"), toml.as_bytes())?;
        (self.dir, self.moved_aside, self._lock) = (Some(dir), moved, Some(lock));
        Ok(())
    }

    /// Continues the run in `dir` from its last checkpoint. `overrides` (e.g. more `epochs`)
    /// go on top of its config.toml; the network must stay the same.
    pub fn resume(dir: &Path, overrides: &toml::Table) -> Result<Run> {
        let (run_dir, lock) = RunDir::open(dir)?;
        let config = Config::resolve_run(&run_dir.file("config.toml"), overrides)?;
        let checkpoint = Checkpoint::load(&run_dir.file("last.safetensors"))?;
        let meta = &checkpoint.meta;
        if meta.from_arrays {
            return Err(Error::InvalidConfig {
                field: "resume",
                detail: format!(
                    "the run in {} trained on arrays from Python, which the command line does not have: train it again from Python",
                    dir.display()
                ),
            });
        }
        if let Some((key, was, now)) = meta.config.model_change(&config) {
            return Err(Error::InvalidConfig {
                field: "resume",
                detail: format!(
                    "(--{}) the run in {} trained with {was}, the resume asks for {now}: a resume keeps the \
                     network, its inputs and its optimizer; start a new run (--out) to change it",
                    key.replace('_', "-"),
                    dir.display()
                ),
            });
        }
        if meta.steps_into_epoch == 0 && meta.epoch >= config.training.epochs {
            return Err(Error::InvalidConfig {
                field: "epochs",
                detail: format!(
                    "(--epochs) the run in {} has finished: epoch {} was its last; resume with --epochs {} or \
                     more to train it further",
                    dir.display(),
                    meta.epoch,
                    meta.epoch + 1
                ),
            });
        }
        for file in &meta.data_files {
            file.check_unchanged()?;
        }
        if meta.steps_into_epoch > 0 {
            if let Some((key, was, now)) = meta.config.batch_order_change(&config) {
                return Err(Error::InvalidConfig {
                    field: key,
                    detail: format!(
                        "the run stopped {} steps into epoch {}, whose batches depend on --{}: it was {was}, now {now}; \
                         resume with the same value to finish that epoch where it stopped",
                        meta.steps_into_epoch,
                        meta.epoch + 1,
                        key.replace('_', "-")
                    ),
                });
            }
        }
        let mut run = Run::build(&config, Some(&checkpoint))?;
        run.backend
            .set_optimizer_state(&checkpoint.optimizer_state, checkpoint.meta.optimizer_steps)?;
        let best = Checkpoint::load(&run_dir.file("best.safetensors")).ok();
        run.shown = best.clone();
        run.resumed = Resumed {
            epoch: checkpoint.meta.epoch,
            step: checkpoint.meta.steps_into_epoch,
            metrics: checkpoint.meta.steps_so_far,
            best: best.and_then(|b| {
                Some(Best {
                    epoch: b.meta.epoch,
                    val: b.meta.val?,
                    params: b.params,
                })
            }),
        };
        run.data_files = checkpoint.meta.data_files.clone();
        run.history = run_dir.read_history()?;
        run.history.truncate(run.resumed.epoch);
        write_atomic(&run_dir.file("config.toml"), config.to_toml().as_bytes())?;
        run.dir = Some(run_dir);
        run._lock = Some(lock);
        Ok(run)
    }

    /// A run on samples given as arrays (from Python), prepared as loaded data are
    /// ([`Config::prepare`]; the dataset settings of `config` unused), writing its artifacts to
    /// `out` when given (which must not hold a run): config.toml without `dataset`, the test
    /// samples as [`arrays::TEST_ARRAYS`] for `eval` and `plot`, then what every run writes.
    /// `from`: train on from that model's weights, optimizer state and input transform (a
    /// Keras `fit` after a `fit`); its network must be the one these data and settings make.
    pub fn from_splits(config: &Config, splits: Splits, out: Option<&Path>, from: Option<&Checkpoint>) -> Result<Run> {
        if let Some(out) = out {
            crate::run::artifacts::check_output_dir(out)?;
        }
        let mut data = config.prepare(splits)?;
        if let Some(from) = from {
            data.set_transform(from.meta.input_transform());
        }
        let mut run = Run::build_on(config, from, Arc::new(data))?;
        if let Some(from) = from {
            run.backend
                .set_optimizer_state(&from.optimizer_state, from.meta.optimizer_steps)?;
        }
        run.from_arrays = true;
        if let Some(out) = out {
            run.open_dir(Some(out), false)?;
            if let (Some(dir), Some(test)) = (&run.dir, &run.data.test) {
                arrays::save(&dir.file(arrays::TEST_ARRAYS), test)?;
            }
        }
        Ok(run)
    }

    /// A run on `table`, a table given in memory (a DataFrame from Python), read and encoded
    /// as a `--data` file would be, in memory only. `from`: train on from that model (its
    /// codec, weights and optimizer state: scikit-learn's warm start); else a new network for
    /// the `classes` given (None: the target's values). `weights`: each row's weight in the
    /// training loss.
    pub fn from_table(
        config: &Config,
        table: RawTable,
        from: Option<&Checkpoint>,
        classes: Option<&[String]>,
        weights: Option<&[f32]>,
    ) -> Result<Run> {
        let fitted = match (from.and_then(|c| c.meta.table.as_ref()), classes) {
            (Some(codec), _) => Some(Fitted::Codec(codec)),
            (None, Some(classes)) => Some(Fitted::Classes(classes)),
            (None, None) => None,
        };
        let data = config.load_table_from(table, fitted, weights)?;
        let mut run = Run::build_on(config, from, Arc::new(data))?;
        if let Some(from) = from {
            run.backend
                .set_optimizer_state(&from.optimizer_state, from.meta.optimizer_steps)?;
        }
        Ok(run)
    }

    fn build(config: &Config, from: Option<&Checkpoint>) -> Result<Run> {
        let _nothing_to_save = crate::signals::exit_at_once();
        // A resumed table run encodes its rows as it first did (its codec is in the checkpoint).
        let data = Arc::new(match from.and_then(|c| c.meta.table.as_ref()) {
            Some(codec) => config.load_table(Some(codec))?,
            None => config.load_data()?,
        });
        Run::build_on(config, from, data)
    }

    fn build_on(config: &Config, from: Option<&Checkpoint>, data: Arc<Splits>) -> Result<Run> {
        let saved = match from {
            Some(c) => Some((c.meta.spec()?, c.params.as_slice())),
            None => None,
        };
        let network = start(config, &data, saved, 1)?;
        let stored = data.train.stored_range();
        let (backend, device_note) = network.backend(config, Arc::clone(&data))?;
        let spec = network.spec;
        Ok(Run {
            config: config.clone(),
            data,
            spec,
            backend,
            device_note,
            dir: None,
            resumed: Resumed::default(),
            history: Vec::new(),
            moved_aside: None,
            boundary_frames: Vec::new(),
            shown: None,
            data_files: Vec::new(),
            from_arrays: false,
            stored,
            board: None,
            _lock: None,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Starts at epoch `epochs + 1` (Keras' `initial_epoch`): the epochs before it count as
    /// done for the learning-rate schedule and the epoch numbers.
    pub fn start_after(&mut self, epochs: usize) -> Result<()> {
        if epochs >= self.config.training.epochs {
            return Err(Error::InvalidConfig {
                field: "epochs",
                detail: format!(
                    "(--epochs) is {}: training starts after epoch {epochs} (the initial epoch), so it must be more than {epochs}",
                    self.config.training.epochs
                ),
            });
        }
        self.resumed.epoch = epochs;
        Ok(())
    }

    /// The model as it stands (after [`Run::finish`], the best epoch's weights with a
    /// validation split), as a checkpoint at the end of the last epoch trained.
    pub fn checkpoint(&mut self) -> Result<Checkpoint> {
        let params = self.backend.parameters()?;
        let (optimizer_state, steps) = self.backend.optimizer_state()?;
        let at = Position {
            epoch: self.history.len(),
            steps_into_epoch: 0,
            steps_so_far: StepMetrics::default(),
            val: self.history.last().and_then(|r| {
                Some(Metrics {
                    loss: r.val_loss?,
                    accuracy: r.val_accuracy?,
                    samples: self.data.val.as_ref().map_or(0, |v| v.len()),
                })
            }),
        };
        let record = RunRecord {
            config: &self.config,
            data: &self.data,
            spec: &self.spec,
            data_files: &self.data_files,
            from_arrays: self.from_arrays,
            stored: self.stored,
        };
        Ok(record.checkpoint(at, params, optimizer_state, steps))
    }

    /// Every epoch so far.
    pub fn history(&self) -> &[HistoryRow] {
        &self.history
    }

    pub fn data(&self) -> &Splits {
        &self.data
    }

    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// The device trained on, and why it was chosen.
    pub fn device(&self) -> String {
        format!("{} ({})", self.backend.describe(), self.device_note)
    }

    /// The backend, e.g. to read or set the parameters.
    pub fn backend(&mut self) -> &mut dyn Backend {
        self.backend.as_mut()
    }

    /// The run directory, if the run writes one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(|d| d.path.as_path())
    }

    /// Epochs already done when this process took over (0 for a new run), and steps done of
    /// the next (a run stopped mid-epoch).
    pub fn resumed_after(&self) -> (usize, usize) {
        (self.resumed.epoch, self.resumed.step)
    }

    /// Where `--force` moved the run that was in the directory before.
    pub fn moved_aside(&self) -> Option<&Path> {
        self.moved_aside.as_deref()
    }

    /// Batches per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        crate::training::train::steps_per_epoch(self.data.train.len(), self.config.training.batch_size)
    }

    /// Trains as configured, telling `observer` about ticks (every `log_every` batches, else
    /// 20 times an epoch) and epochs, and writing the run directory's files after every epoch.
    /// A stop signal ([`crate::signals`]) or the observer's [`Observer::should_stop`] ends
    /// training between ticks: the position is saved, and a signal gives
    /// [`Error::TrainingStopped`].
    pub fn train(&mut self, observer: &mut dyn Observer) -> Result<Outcome> {
        let train_len = self.data.train.len();
        let steps = self.steps_per_epoch();
        let base = self.config.train_config(steps);
        let cfg = crate::training::train::TrainConfig {
            start_epoch: self.resumed.epoch,
            start_step: self.resumed.step,
            start_metrics: self.resumed.metrics,
            best_so_far: self.resumed.best.clone(),
            log_every: base.log_every.or(Some(steps.div_ceil(TICKS_PER_EPOCH).max(1))),
            ..base
        };
        if let (None, Some(dir)) = (&self.board, &self.dir) {
            let done_steps = self.resumed.epoch * steps + self.resumed.step;
            self.board = Some(Board::open(&dir.path, &self.config, steps, done_steps)?);
        }
        let mut recorder = Recorder {
            run: RunRecord {
                config: &self.config,
                data_files: &self.data_files,
                from_arrays: self.from_arrays,
                spec: &self.spec,
                data: &self.data,
                stored: self.stored,
            },
            history: History {
                rows: &mut self.history,
            },
            events: Events {
                board: self.board.as_mut(),
                error: None,
            },
            frames: Frames {
                every: self.config.run.boundary_every,
                kept: &mut self.boundary_frames,
            },
            checkpoints: Checkpoints {
                dir: self.dir.clone(),
                shown: &mut self.shown,
            },
            inner: observer,
        };
        let outcome = fit(
            self.backend.as_mut(),
            train_len,
            HeldOut::of(&self.data),
            &cfg,
            &mut recorder,
        )
        .map_err(|e| match e {
            Error::Diverged { epoch, detail, .. } => Error::Diverged {
                epoch,
                detail,
                findings: self.findings(),
            },
            e => e,
        });
        if let (Err(_), Some(board)) = (&outcome, &mut self.board) {
            // Best effort: the run's own error is the one to report.
            let _ = board.end(Status::Failure);
        }
        let outcome = outcome?;
        match (outcome.interrupted, crate::signals::requested()) {
            (Some((epoch, steps)), Some(signal)) => Err(Error::TrainingStopped {
                signal,
                epoch,
                steps,
                saved: self.dir().map(Path::to_path_buf),
            }),
            _ => Ok(outcome),
        }
    }

    /// What the history and the settings say went wrong.
    fn findings(&self) -> Vec<String> {
        let chance = crate::insight::findings::majority_fraction(&self.data.train.labels, self.data.classes());
        findings(&self.history, &self.config, chance)
    }

    /// After training: restores the best epoch's weights (with a validation split and
    /// `restore_best`) and measures them on the test split, and redraws the run directory's plots.
    pub fn finish(&mut self, outcome: &Outcome) -> Result<Summary> {
        let best = match &outcome.best {
            Some(best) if !self.config.training.restore_best => Some((best.clone(), None)),
            Some(best) => {
                self.backend.set_parameters(&best.params)?;
                let test = self.data.test.is_some().then(|| self.backend.evaluate(EvalSplit::Test));
                Some((best.clone(), test.transpose()?))
            }
            None => None,
        };
        // Drawn from memory: the history, the model best.safetensors holds and the test split. A
        // run stopped before its first epoch ended has nothing to draw yet.
        let test = self.data.test.as_ref();
        let mut plots = match (self.dir(), &self.shown, self.history.is_empty()) {
            (Some(dir), Some(model), false) => {
                crate::report::plot_model(dir, &self.history, model, test, &ExampleChoice::First)?
            }
            _ => Vec::new(),
        };
        let mut frames = None;
        if let (Some(dir), Some(model), Some(test), false) =
            (self.dir(), &self.shown, test, self.boundary_frames.is_empty())
        {
            frames = crate::report::boundary_frames(dir, model, test, &self.boundary_frames)?;
            if let Some(frames) = &frames {
                plots.push(crate::report::boundary_gif(dir, frames)?);
            }
        }
        if let (Some(board), Some(dir)) = (&mut self.board, &self.dir) {
            // The confusion matrix drawn is best.safetensors': the best epoch, or the last.
            let shown = best
                .as_ref()
                .map(|(b, _)| b.epoch)
                .or(self.history.last().map(|r| r.epoch));
            let frames = frames.as_deref().unwrap_or_default();
            board.finish(&dir.path, shown, frames, outcome.interrupted.is_some())?;
        }
        Ok(Summary {
            best,
            stopped_early: outcome.stopped_early,
            dispatches: self.backend.dispatch_stats(),
            epochs: outcome.reports.len(),
            plots,
            findings: self.findings(),
        })
    }
}

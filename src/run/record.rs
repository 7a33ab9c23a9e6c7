//! What a run keeps after each epoch, one small part each, all fed by one readback of the
//! parameters: the history (with a table's test AUC), TensorBoard, the boundary frames, and the
//! run directory's checkpoints and files. [`Recorder`] runs them in order as the training
//! loop's observer and passes every event on.

use crate::checkpoint::{Checkpoint, Position, RunRecord};
use crate::error::{Error, Result};
use crate::files::write_atomic;
use crate::insight::evaluate::{all_probabilities, auc_of, outputs_of};
use crate::nn::model::{MlpSpec, ParamLayout};
use crate::run::artifacts::RunDir;
use crate::run::board::Board;
use crate::training::backend::{Backend, StepMetrics};
use crate::training::history::HistoryRow;
use crate::training::train::{EpochReport, Observer, Tick};

/// The history: a row per epoch, with the test AUC of a table run (its test rows are few: one
/// CPU pass over them).
pub(super) struct History<'a> {
    pub rows: &'a mut Vec<HistoryRow>,
}

impl History<'_> {
    fn needs_params(run: &RunRecord<'_>) -> bool {
        run.data.table.is_some()
    }

    fn score(run: &RunRecord<'_>, row: &mut HistoryRow, params: Option<&[f32]>) {
        if let (Some(params), Some(_), Some(test)) = (params, &run.data.table, &run.data.test) {
            let outputs = outputs_of(run.spec, params, test);
            let probabilities = all_probabilities(run.spec.loss, &outputs, run.spec.outputs());
            row.test_auc = auc_of(&probabilities, &test.labels, run.data.classes());
        }
    }
}

/// The parameters at the epochs `boundary_every` picks (and the first), for boundary.gif.
pub(super) struct Frames<'a> {
    pub every: Option<usize>,
    pub kept: &'a mut Vec<(usize, Vec<f32>)>,
}

impl Frames<'_> {
    fn wants(&self, epoch: usize) -> bool {
        self.every
            .is_some_and(|every| epoch == 1 || epoch.is_multiple_of(every))
    }

    fn keep(&mut self, epoch: usize, params: Option<&[f32]>) {
        if let (true, Some(params)) = (self.wants(epoch), params) {
            self.kept.push((epoch, params.to_vec()));
        }
    }
}

/// The run's TensorBoard events: ticks as they come, each epoch's scalars and histograms.
pub(super) struct Events<'a> {
    pub board: Option<&'a mut Board>,
    /// The first failure to write a tick, reported at the end of the epoch.
    pub error: Option<Error>,
}

impl Events<'_> {
    fn tick(&mut self, tick: &Tick) {
        if let (Some(board), None) = (&mut self.board, &self.error) {
            self.error = board.tick(tick).err();
        }
    }

    fn epoch(
        &mut self,
        spec: &MlpSpec,
        row: &HistoryRow,
        params: Option<&[f32]>,
        backend: &mut dyn Backend,
    ) -> Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match (&mut self.board, params) {
            (Some(board), Some(params)) => board.epoch(row, &ParamLayout::new(spec), params, &backend.gradients()?),
            _ => Ok(()),
        }
    }
}

/// The run directory kept current: last.safetensors (and best.safetensors), meta.json and the
/// history files; the model best.safetensors holds also kept in memory for the plots.
pub(super) struct Checkpoints<'a> {
    pub dir: Option<RunDir>,
    pub shown: &'a mut Option<Checkpoint>,
}

impl Checkpoints<'_> {
    /// `params`: the backend's parameters if already read back.
    fn save(
        &mut self,
        run: &RunRecord<'_>,
        history: &[HistoryRow],
        backend: &mut dyn Backend,
        params: Option<Vec<f32>>,
        at: Position,
        best: bool,
    ) -> Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let params = match params {
            Some(params) => params,
            None => backend.parameters()?,
        };
        let (optimizer_state, steps) = backend.optimizer_state()?;
        let checkpoint = run.checkpoint(at, params, optimizer_state, steps);
        checkpoint.save(&dir.file("last.safetensors"))?;
        let meta = serde_json::to_string_pretty(&checkpoint.meta).map_err(|e| Error::Checkpoint {
            path: dir.file("meta.json"),
            detail: e.to_string(),
        })?;
        write_atomic(&dir.file("meta.json"), meta.as_bytes())?;
        dir.write_history(history)?;
        if best {
            checkpoint.save(&dir.file("best.safetensors"))?;
            *self.shown = Some(checkpoint);
        }
        Ok(())
    }
}

/// The run's records as the training loop's observer: each epoch's parameters read back once
/// for the parts that need them, then each part in turn; every event passed on to `inner`.
pub(super) struct Recorder<'a> {
    pub run: RunRecord<'a>,
    pub history: History<'a>,
    pub events: Events<'a>,
    pub frames: Frames<'a>,
    pub checkpoints: Checkpoints<'a>,
    pub inner: &'a mut dyn Observer,
}

impl Observer for Recorder<'_> {
    fn tick(&mut self, tick: &Tick) {
        self.events.tick(tick);
        self.inner.tick(tick);
    }

    fn epoch(&mut self, backend: &mut dyn Backend, report: &EpochReport, improved: bool) -> Result<()> {
        let mut row = HistoryRow::of(report);
        if report.diverged.is_some() {
            // Kept for the findings, never saved: the files keep the last good epoch.
            self.history.rows.push(row);
            return self.inner.epoch(backend, report, improved);
        }
        let wanted = History::needs_params(&self.run) || self.frames.wants(report.epoch) || self.events.board.is_some();
        let params = match wanted {
            true => Some(backend.parameters()?),
            false => None,
        };
        History::score(&self.run, &mut row, params.as_deref());
        self.events.epoch(self.run.spec, &row, params.as_deref(), backend)?;
        self.history.rows.push(row);
        self.frames.keep(report.epoch, params.as_deref());
        let at = Position {
            epoch: report.epoch,
            steps_into_epoch: 0,
            steps_so_far: StepMetrics::default(),
            val: report.val,
        };
        // Without a validation split the latest epoch is the best one we can name.
        let best = improved || self.run.data.val.is_none();
        self.checkpoints
            .save(&self.run, self.history.rows, backend, params, at, best)?;
        self.inner.epoch(backend, report, improved)
    }

    fn epoch_lr(&mut self, epoch: usize, lr: f32) -> f32 {
        self.inner.epoch_lr(epoch, lr)
    }

    fn should_stop(&mut self) -> bool {
        crate::signals::requested().is_some() || self.inner.should_stop()
    }

    fn stopped(&mut self, backend: &mut dyn Backend, epoch: usize, steps: usize, so_far: StepMetrics) -> Result<()> {
        let at = Position {
            epoch: epoch - 1,
            steps_into_epoch: steps,
            steps_so_far: so_far,
            val: None,
        };
        self.checkpoints
            .save(&self.run, self.history.rows, backend, None, at, false)?;
        self.inner.stopped(backend, epoch, steps, so_far)
    }
}

"""Keras-style callbacks for `MLP.fit(callbacks=[...])`.

A callback sees the fit as Keras' do: `on_train_begin(logs)`, `on_epoch_begin(epoch, logs)`,
`on_batch_end(batch, logs)`, `on_epoch_end(epoch, logs)` and `on_train_end(logs)`, with 0-based
epochs and `logs` named as Keras names them (`loss`, `accuracy`, `val_loss`, `val_accuracy`,
`test_loss`, `test_accuracy`, `lr`); `self.model` is the `MLP` being fitted, and setting
`self.model.stop_training = True` ends the fit after the current tick. `on_batch_end` is called
at each progress tick (about 20 per epoch; `log_every=1` makes it every batch), with `batch` the
index of the tick's last batch and the running mean since the previous tick.
"""

import os
import shutil

__all__ = ["Callback", "EarlyStopping", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint"]


class Callback:
    """Override any of the `on_…` methods; `self.model` and `self.params` are set by `fit`."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class LambdaCallback(Callback):
    """A callback from functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_end=None, on_train_begin=None,
                 on_train_end=None):
        super().__init__()
        for name, function in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                               ("on_batch_end", on_batch_end), ("on_train_begin", on_train_begin),
                               ("on_train_end", on_train_end)):
            if function is not None:
                setattr(self, name, function)


class EarlyStopping(Callback):
    """Stops when the monitored validation metric (`val_loss` or `val_accuracy`) has not
    improved for `patience` epochs; with `restore_best_weights=True` the model ends with the
    best epoch's weights (else the last epoch's, as in Keras). It is gpu-mlp's own early
    stopping (the `patience`, `monitor` and `restore_best` settings), so it needs validation
    data (`validation_split=` or `validation_data=`)."""

    _MONITORS = {"val_loss": "val-loss", "val_accuracy": "val-accuracy"}

    def __init__(self, monitor="val_loss", patience=0, restore_best_weights=False, min_delta=0, mode="auto",
                 verbose=0):
        super().__init__()
        if monitor not in self._MONITORS:
            raise ValueError(f"EarlyStopping(monitor={monitor!r}): gpu_mlp stops early on a validation metric, "
                             f"one of {', '.join(self._MONITORS)}")
        if min_delta:
            raise ValueError("EarlyStopping(min_delta=...): gpu_mlp counts any improvement (min_delta=0)")
        if mode not in ("auto", "min" if monitor == "val_loss" else "max"):
            raise ValueError(f"EarlyStopping(mode={mode!r}): {monitor} improves when it goes "
                             f"{'down' if monitor == 'val_loss' else 'up'}; leave mode='auto'")
        self.monitor, self.restore_best_weights = monitor, restore_best_weights
        # Keras' patience 0 stops after the first epoch without improvement, as gpu-mlp's 1 does.
        self.patience = max(int(patience), 1)

    def settings(self):
        """The gpu-mlp settings this callback stands for."""
        return {"patience": self.patience, "monitor": self._MONITORS[self.monitor],
                "restore_best": bool(self.restore_best_weights)}


class LearningRateScheduler(Callback):
    """Sets each epoch's learning rate to `schedule(epoch, lr)` (0-based epoch; `lr` the
    rate the previous epoch trained with, or the first epoch's by the `schedule` setting)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose, self._lr = schedule, verbose, None

    def learning_rate(self, epoch, lr):
        lr = float(self.schedule(epoch, self._lr if self._lr is not None else lr))
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")
        self._lr = lr
        return lr


class ModelCheckpoint(Callback):
    """After every epoch (or, with `save_best_only=True`, every epoch that improves the
    monitored validation metric) writes the model's checkpoint to `filepath`, which may name the
    epoch and logs as Keras' does (`"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"`). A path
    ending in `.safetensors` gets the weights and metadata file `gpu-mlp eval --checkpoint` and
    `gpu_mlp.load` read; any other path gets the whole run directory as `MLP.save` writes it."""

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, verbose=0):
        super().__init__()
        self.filepath, self.monitor, self.save_best_only, self.verbose = os.fspath(filepath), monitor, save_best_only, verbose
        self.best = None

    def _improved(self, logs):
        if self.monitor not in logs:
            raise ValueError(f"ModelCheckpoint(monitor={self.monitor!r}): the fit logs only {', '.join(logs)}")
        value, lower = logs[self.monitor], "loss" in self.monitor
        better = self.best is None or (value < self.best if lower else value > self.best)
        if better:
            self.best = value
        return better

    def on_train_begin(self, logs=None):
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only and not self._improved(logs):
            return
        path = self.filepath.format(epoch=epoch + 1, **logs)
        run_dir = self.model._fitting.path
        if path.endswith(".safetensors"):
            shutil.copyfile(os.path.join(run_dir, "last.safetensors"), path)
        else:
            if os.path.isdir(path):
                shutil.rmtree(path)
            shutil.copytree(run_dir, path, ignore=shutil.ignore_patterns("train.lock"))
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")

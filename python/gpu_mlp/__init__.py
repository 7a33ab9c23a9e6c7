"""gpu-mlp from Python: a Keras-like `MLP` on the same kernels, settings and checks as the
`gpu-mlp` command line.

    import gpu_mlp
    (x_train, y_train), (x_test, y_test) = gpu_mlp.datasets.fashion_mnist.load_data()
    model = gpu_mlp.MLP(hidden=[512], optimizer="adam", seed=42)
    history = model.fit(x_train, y_train, epochs=5, batch_size=128, validation_split=0.1)
    model.evaluate(x_test, y_test)

Every keyword of `MLP` is a setting of `gpu-mlp train`, with the same name and default: the
list comes from the settings' one declaration in the Rust library (`gpu_mlp.settings()`).
"""

import os

# Mesa's Vulkan device-select layer asks the display server for nothing gpu-mlp needs and, on a
# headless machine, prints "XDG_RUNTIME_DIR is invalid or not set" on every adapter probe. The
# command line skips it the same way; set before the Vulkan loader first reads it.
os.environ.setdefault("NODEVICE_SELECT", "1")

import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import weakref  # noqa: E402

import numpy as np  # noqa: E402

from . import _core, callbacks, datasets  # noqa: E402
from .callbacks import Callback as _Callback  # noqa: E402
from .callbacks import EarlyStopping as _EarlyStopping  # noqa: E402
from .callbacks import LearningRateScheduler as _LearningRateScheduler  # noqa: E402

__version__ = _core.__version__
__all__ = ["MLP", "MLPClassifier", "History", "Image", "callbacks", "datasets", "explain", "load", "settings"]


def settings():
    """Every setting: key, group, help, default (as the command line spells it), choices, range."""
    return _core.settings()


_SETTINGS = {s["key"]: s for s in settings()}

# Keras' and scikit-learn's names for what gpu_mlp has under another name: accepted, and named
# in messages as the caller spelled them.
ALIASES = {
    "learning_rate": "lr", "learning_rate_init": "lr", "hidden_layer_sizes": "hidden", "max_iter": "epochs",
    "random_state": "seed", "validation_fraction": "val_split", "n_iter_no_change": "patience",
    "solver": "optimizer", "beta_1": "beta1", "beta_2": "beta2", "epsilon": "eps",
    "nesterovs_momentum": "nesterov", "kernel_initializer": "init",
}
# Keras' and scikit-learn's names for what gpu_mlp does not have, and what to do instead.
NOT_HERE = {
    "steps_per_epoch": "gpu_mlp has no steps_per_epoch: an epoch is one pass over x (slice x, or set "
                       "train_samples=, to train on fewer samples)",
    "validation_steps": "gpu_mlp has no validation_steps: the whole validation set is scored every epoch",
    "validation_freq": "gpu_mlp has no validation_freq: validation data are scored after every epoch",
    "validation_batch_size": "gpu_mlp has no validation_batch_size: validation needs no batching choice",
    "workers": "gpu_mlp has no workers: the data are uploaded to the device once",
    "use_multiprocessing": "gpu_mlp has no use_multiprocessing: the data are uploaded to the device once",
    "max_queue_size": "gpu_mlp has no max_queue_size: the data are uploaded to the device once",
    "tol": "gpu_mlp has no tol: it trains the given epochs (stop earlier with patience= and validation data)",
    "early_stopping": "gpu_mlp has no early_stopping switch: set patience= (with validation_split=)",
    "alpha": "gpu_mlp has no alpha: weight_decay= is its L2 penalty",
    "power_t": "gpu_mlp has no power_t: schedules are schedule='constant', 'step' or 'cosine'",
    "learning_rate_schedule": "gpu_mlp calls it schedule= ('constant', 'step', 'cosine')",
    "units": "gpu_mlp calls it hidden= (a list of layer widths)",
}
# MLP.fit's own arguments, which are not settings of the model.
_FIT_ARGUMENTS = ("validation_split", "validation_data", "callbacks", "initial_epoch", "sample_weight",
                  "class_weight", "class_names", "restore_best_weights", "reinitialize", "test_data", "log_dir",
                  "verbose")


def _unknown(key, known):
    """The TypeError for keyword `key`, which is none of `known`."""
    if key in _FIT_ARGUMENTS:
        return TypeError(f"{key} is an argument of fit(), not a setting of the model")
    if key in NOT_HERE:
        return TypeError(f"{key}: {NOT_HERE[key]}")
    import difflib

    close = difflib.get_close_matches(key, list(known) + list(ALIASES), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return TypeError(f"unknown setting {key!r}{hint}; the settings are {', '.join(known)}")


def _keywords(given, known=_SETTINGS):
    """`given` keywords as setting keys (Keras' and scikit-learn's names mapped), and how the
    caller spelled each key."""
    settings, spelled = {}, {}
    for key, value in given.items():
        setting = ALIASES.get(key, key)
        if setting not in known:
            raise _unknown(key, known)
        settings[setting], spelled[setting] = value, key
    return settings, spelled


def _python_terms(error, spelled):
    """`error` (from the library) with its command-line spellings (`--val-split`, `invalid
    lr: (--lr) …`) as the keywords the caller wrote."""
    def keyword(key):
        return spelled.get(key, key)

    text = str(error)
    text = re.sub(r"^invalid ([a-z0-9_-]+): \(--[a-z0-9-]+\) ", lambda m: f"{keyword(m.group(1).replace('-', '_'))}: ",
                  text)
    text = re.sub(r"^invalid ([a-z0-9_-]+): ", lambda m: f"{keyword(m.group(1).replace('-', '_'))}: ", text)
    text = re.sub(r"--([a-z][a-z0-9-]*)", lambda m: f"{keyword(m.group(1).replace('-', '_'))}=", text)
    return type(error)(text)


def _resolved(spelled, call):
    """`call()`, its errors in the caller's terms."""
    try:
        return call()
    except (ValueError, TypeError) as e:
        raise _python_terms(e, spelled) from None


def explain(batch=0, **settings):
    """One mini-batch (`batch` of the first epoch) of the run these settings describe, through
    its freshly initialized network step by step: shapes, statistics, logits, softmax, losses,
    gradients and the update, the CPU reference's values beside the GPU kernel's (the text of
    `gpu-mlp explain`)."""
    settings, spelled = _keywords(settings)
    return _resolved(spelled, lambda: _core.explain(settings, batch))


def _rows(name, x):
    """`x` as a C-contiguous 2-D array of uint8 or float32, one sample per row."""
    x = np.asarray(x)
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"{name}: expected an array of samples, got shape {x.shape}")
    if x.dtype == np.uint8:
        kind = np.uint8
    elif x.dtype.kind in "fiu" and x.dtype != np.bool_:
        kind = np.float32
    else:
        raise ValueError(f"{name}: expected uint8, float32 or float64 values, got dtype {x.dtype}")
    return np.ascontiguousarray(x.reshape(x.shape[0], -1), dtype=kind)


def _positive_int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r}: expected a whole number ≥ 1")
    return int(value)


class Image:
    """A plot (PNG), shown inline by Jupyter; `save(path)` writes it elsewhere."""

    def __init__(self, png, name):
        self._png, self.name = png, name

    def _repr_png_(self):
        return self._png

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self._png)

    def __repr__(self):
        return f"<Image {self.name}>"


class _RunFolder:
    """A fit's run directory: a temporary one lives as long as the last object holding it (the
    model, its History), then is removed; one under `log_dir` is kept."""

    def __init__(self, path, temporary):
        self.path = path
        if temporary:
            weakref.finalize(self, shutil.rmtree, path, ignore_errors=True)

    def plot(self, kind):
        kinds = sorted(f[:-4] for f in os.listdir(self.path) if f.endswith(".png"))
        if kind not in kinds:
            raise ValueError(f"no {kind!r} plot for this run; it has: {', '.join(kinds) or 'none (it trained no epoch)'}")
        with open(os.path.join(self.path, kind + ".png"), "rb") as f:
            return Image(f.read(), f"{kind} of {self.path}")


# Keras' name of each history.json column History keeps.
_KERAS_NAMES = {"train_loss": "loss", "train_accuracy": "accuracy", "val_loss": "val_loss",
                "val_accuracy": "val_accuracy", "test_loss": "test_loss", "test_accuracy": "test_accuracy",
                "lr": "lr"}


class History:
    """What `fit` returns, as Keras' does: `history.history["loss"]`, `["val_accuracy"]`, …
    (per-epoch lists), `history.epoch`, `history.params` (verbose, epochs, steps) and
    `history.model`; `weights` says which epoch's weights the model holds after the fit,
    `continued` whether the fit trained on from earlier weights;
    `diagnostics` (per epoch, per layer: gradient and weight norms, update/weight ratio,
    activation statistics, dead units); `plot()` draws the curves (the run directory stays
    as long as the History does)."""

    def __init__(self, history_json, run=None, params=None, model=None, weights="", continued=False):
        rows = json.loads(history_json)
        self.epoch = [r["epoch"] - 1 for r in rows]
        self.diagnostics = [r["layers"] for r in rows]
        self.history = {keras: [_number(r[column]) for r in rows] for column, keras in _KERAS_NAMES.items()
                        if rows and rows[0][column] is not None}
        self.samples_per_second = [r["samples_per_second"] for r in rows]
        self.params = dict(params or {})
        self.model = model
        self.weights = weights
        # The fit trained on from the model's earlier weights (else a new network).
        self.continued = continued
        self._run = run

    def plot(self, metric="loss"):
        """The loss (or `metric="accuracy"`) curves per epoch."""
        if self._run is None:
            raise ValueError("this History has no run directory to draw from (a loaded or unpickled model's)")
        return self._run.plot(metric)

    def __repr__(self):
        return f"<History {len(self.epoch)} epochs: {', '.join(self.history)}; weights: {self.weights}>"


def _number(value):
    """A history value: JSON's null (a NaN written by serde) as NaN."""
    return float("nan") if value is None else value


def _logs(train, val, test, lr):
    logs = {"loss": train[0], "accuracy": train[1]}
    for name, metrics in (("val", val), ("test", test)):
        if metrics is not None:
            logs[f"{name}_loss"], logs[f"{name}_accuracy"] = metrics
    logs["lr"] = lr
    return logs


class _Progress:
    """What the engine reports during a fit: Keras' lines, written to this process's own
    `sys.stdout` (a notebook's cell output; verbose 1 a progress line per epoch redrawn at each
    tick, 2 one line per epoch, 0 nothing), and the callbacks."""

    def __init__(self, verbose, model=None, callbacks=()):
        self.verbose, self.model, self.callbacks = verbose, model, list(callbacks)
        self.schedulers = [c for c in self.callbacks if isinstance(c, _LearningRateScheduler)]
        self.params, self.best_epoch, self.last_epoch = {}, None, None

    @property
    def stop_training(self):
        return self.model is not None and self.model.stop_training

    def on_train_begin(self, start, epochs, steps, samples):
        self.epochs = epochs
        self.params = {"verbose": self.verbose, "epochs": epochs, "steps": steps, "samples": samples,
                       "initial_epoch": start}
        for c in self.callbacks:
            c.set_model(self.model)
            c.set_params(self.params)
            c.on_train_begin({})

    def on_epoch_begin(self, epoch, lr):
        for c in self.schedulers:
            lr = c.learning_rate(epoch - 1, lr)
        for c in self.callbacks:
            c.on_epoch_begin(epoch - 1, {})
        return lr

    def on_tick(self, epoch, batch, batches, loss, accuracy):
        if self.verbose == 1:
            done = int(30 * batch / max(batches, 1))
            bar = "━" * done + "─" * (30 - done)
            sys.stdout.write(f"\r{batch}/{batches} {bar} - accuracy: {accuracy:.4f} - loss: {loss:.4f}")
            sys.stdout.flush()
        for c in self.callbacks:
            c.on_batch_end(batch - 1, {"loss": loss, "accuracy": accuracy})

    def on_epoch(self, epoch, train, val, test, lr, seconds, improved):
        self.last_epoch = epoch
        if improved:
            self.best_epoch = epoch
        if self.verbose:
            parts = [f"accuracy: {train[1]:.4f}", f"loss: {train[0]:.4f}"]
            for name, metrics in (("val", val), ("test", test)):
                if metrics is not None:
                    parts += [f"{name}_accuracy: {metrics[1]:.4f}", f"{name}_loss: {metrics[0]:.4f}"]
            line = f"Epoch {epoch}/{self.epochs} - {seconds:.1f}s - " + " - ".join(parts)
            sys.stdout.write(("\r" if self.verbose == 1 else "") + line + "\n")
            sys.stdout.flush()
        logs = _logs(train, val, test, lr)
        for c in self.callbacks:
            c.on_epoch_end(epoch - 1, logs)

    def on_train_end(self, logs):
        for c in self.callbacks:
            c.on_train_end(logs)


class MLP:
    """A multi-layer perceptron trained by gpu-mlp's kernels (GPU) or its CPU reference.

    Keywords: any setting of `gpu-mlp train` (`hidden`, `activation`, `optimizer`, `lr`,
    `dropout`, `device`, `seed`, …; see `gpu_mlp.settings()`), with the same defaults; Keras'
    and scikit-learn's names for the same things (`learning_rate`, `hidden_layer_sizes`,
    `random_state`, …) are accepted. A bad value raises `ValueError` naming the keyword.

    As in Keras, `fit` after `fit` trains on from the current weights; a new network is built
    on the first fit, when a fit's settings change the network, its inputs or its optimizer
    (hidden, activation, loss, optimizer, normalize), or with `fit(..., reinitialize=True)`.
    """

    def __init__(self, **settings):
        self._settings, self._spelled = _keywords(settings)
        # A loaded run's settings, under the keywords (None: the declared defaults).
        self._base = None
        self._model = _resolved(self._spelled, lambda: _core.Model(self._settings))
        self._classes = None
        self._class_names = None
        self._run = None
        self._width = None
        self._fill = None
        self._fitting = None
        self.history = None
        self.stop_training = False

    def get_config(self):
        """The settings given (the others are their declared defaults)."""
        return dict(self._settings)

    def compile(self, optimizer=None, loss=None, metrics=None, **_):
        """gpu_mlp has no compile step: the optimizer, loss and learning rate are settings of
        the model (`MLP(optimizer="adam", lr=1e-3, loss="softmax-cross-entropy")`), and fit and
        evaluate always report loss and accuracy."""
        raise TypeError(
            "gpu_mlp.MLP has no compile(): give the optimizer, its learning rate and the loss when you build "
            "the model, e.g. MLP(optimizer='adam', lr=1e-3, loss='softmax-cross-entropy') (Keras' "
            "'sparse_categorical_crossentropy' from logits); fit and evaluate always report loss and accuracy"
        )

    # --- labels -------------------------------------------------------------------------------

    @staticmethod
    def _new_classes(y, class_names):
        """The classes a new network learns from `y` (sorted labels; a pandas Categorical's
        categories; `range(len(class_names))` when names are given) and their names."""
        if hasattr(y, "cat") or type(y).__name__ == "Categorical":
            categories = getattr(y, "cat", y).categories
            return np.arange(len(categories)), [str(c) for c in categories]
        y = np.asarray(y)
        if class_names is not None:
            names = [str(n) for n in class_names]
            if y.dtype.kind not in "iu":
                raise ValueError("class_names: names are for integer labels 0..n-1; y holds "
                                 f"{y.dtype} labels, which are their own names")
            return np.arange(len(names)), names
        classes = np.unique(y)
        return classes, [str(c) for c in classes]

    @staticmethod
    def _label_indices(name, y, n, classes):
        """`y` (one label per sample, as `classes` holds them, or a pandas Categorical) as
        indices into `classes`."""
        if hasattr(y, "cat") or type(y).__name__ == "Categorical":
            y = np.asarray(getattr(y, "cat", y).codes)
            if (y < 0).any():
                raise ValueError(f"{name}: row {int(np.argmax(y < 0))} has no label (a missing category)")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"{name}: expected {n} labels (one per sample), got shape {y.shape}")
        if classes.dtype.kind in "US" and y.dtype.kind in "iu":
            # A model with named classes (a loaded run) takes class indices too, as Keras does.
            if y.size and (y.min() < 0 or y.max() >= len(classes)):
                raise ValueError(f"{name}: class indices must be in 0..{len(classes) - 1}")
            return y.astype(np.uint32)
        index = np.searchsorted(classes, y)
        unknown = (index >= len(classes)) | (classes[np.minimum(index, len(classes) - 1)] != y)
        if unknown.any():
            raise ValueError(
                f"{name}: label {y[unknown][0].item()!r} is not one of the classes: {classes.tolist()}"
            )
        return index.astype(np.uint32)

    # --- inputs -------------------------------------------------------------------------------

    def _missing(self, settings):
        return settings.get("missing") or "error"

    def _training_rows(self, x, y, settings, weights, means):
        """x, y and the sample weights as a fit trains on them, with missing values dropped or
        filled as `missing` says; the column means to fill later samples with (missing="mean":
        `means`, the model's when it trains on, else this training data's)."""
        missing = self._missing(settings)
        if missing == "error" or x.dtype != np.float32:
            return x, y, None, weights
        if missing == "drop":
            keep = ~np.isnan(x).any(axis=1)
            return x[keep], np.asarray(y)[keep], None, None if weights is None else weights[keep]
        if means is None:
            with np.errstate(all="ignore"):
                means = np.nan_to_num(np.nanmean(x, axis=0), nan=0.0).astype(np.float32)
        return _fill_missing(x, means), y, means, weights

    # --- fit ----------------------------------------------------------------------------------

    def fit(self, x, y, epochs=None, batch_size=None, verbose=1, callbacks=None, validation_split=None,
            validation_data=None, shuffle=None, class_weight=None, sample_weight=None, initial_epoch=0,
            test_data=None, log_dir=None, class_names=None, restore_best_weights=None, reinitialize=False,
            **settings):
        """Trains on samples `x` (any shape per sample, flattened) and labels `y` (ints, strings
        or a pandas Categorical), as Keras' `fit` does, and returns a `History`.

        - Continues from the current weights unless this is the first fit, the settings change
          the network, or `reinitialize=True` (see the class's docstring).
        - `epochs`, `batch_size`, `shuffle` and any other setting given here are for this fit
          only. Epochs `initial_epoch + 1 … epochs` train (Keras' numbering).
        - `validation_split=0.1` holds out the last 10% of the samples (before shuffling), as
          Keras does; `validation_data=(x, y)` gives them instead; `val_split=0.1` (gpu-mlp's
          setting) holds out a seeded random 10%, as `gpu-mlp train --val-split` does.
        - After the fit the model holds the last epoch's weights, as in Keras; with
          `restore_best_weights=True` (or an `EarlyStopping(restore_best_weights=True)`), the
          best epoch's by `monitor`. `History.weights` says which.
        - `test_data=(x, y)` is scored after every epoch, as the command line scores its test
          split. `class_names=[...]` names integer labels 0..n-1 in plots and reports.
        - `callbacks`: Keras-style callbacks (`gpu_mlp.callbacks`: EarlyStopping,
          ModelCheckpoint, LearningRateScheduler, LambdaCallback, or your own Callback).
        - Missing values (NaN) and infinities are refused, naming the argument, row and column,
          unless `missing="mean"` (fill with the training means, also when predicting) or
          `missing="drop"` (drop those training rows).
        - Ctrl-C stops at the next tick, keeps the weights trained so far and raises
          KeyboardInterrupt.

        Like `gpu-mlp train`, a fit writes a run directory (config.toml, history, checkpoints,
        plots, TensorBoard's event file): a temporary one, which `save` copies, or with
        `log_dir="runs"` a new one under that folder, kept, as Keras' TensorBoard callback keeps
        its logs (`%tensorboard --logdir runs` then shows the fit live)."""
        given, spelled = _keywords(settings)
        spelled = {**self._spelled, **spelled}
        for key, value, keras in (("epochs", epochs, "epochs"), ("batch_size", batch_size, "batch_size"),
                                  ("shuffle", shuffle, "shuffle")):
            if value is not None:
                given[key], spelled[key] = value, keras
        callbacks = list(callbacks or [])
        for c in callbacks:
            if not isinstance(c, _Callback):
                raise TypeError(f"callbacks: {c!r} is not a gpu_mlp.callbacks.Callback")
            if isinstance(c, _EarlyStopping):
                given.update(c.settings())
                spelled.update({"patience": "EarlyStopping(patience=)", "monitor": "EarlyStopping(monitor=)"})
        if restore_best_weights is not None:
            given["restore_best"], spelled["restore_best"] = bool(restore_best_weights), "restore_best_weights"
        settings = {**self._settings, **given}
        # Keras keeps the last epoch's weights unless asked for the best.
        settings.setdefault("restore_best", False)
        x = _rows("x", x)
        # Keras' validation_split: the last fraction of the samples, before any shuffling.
        if validation_split is not None:
            if validation_data is not None:
                raise ValueError("validation_split: give validation_split or validation_data, not both")
            fraction = float(validation_split)
            if not 0.0 < fraction < 1.0:
                raise ValueError(f"validation_split={validation_split!r}: expected a fraction in (0, 1)")
            cut = int(x.shape[0] * (1.0 - fraction))
            if cut < 1 or cut >= x.shape[0]:
                raise ValueError(f"validation_split={validation_split!r} of {x.shape[0]} samples leaves "
                                 f"{x.shape[0] - cut} for validation: expected at least 1 and fewer than all")
            y_all = y.to_numpy() if hasattr(y, "to_numpy") and not hasattr(y, "cat") else y
            validation_data = (x[cut:], y_all[cut:])
            x, y = x[:cut], y_all[:cut]
            if sample_weight is not None:
                sample_weight = _weights_of("sample_weight", sample_weight, cut + validation_data[0].shape[0])[:cut]
        if settings.get("patience") is not None and validation_data is None and not settings.get("val_split"):
            raise ValueError(f"{spelled.get('patience', 'patience')}: early stopping watches a validation metric: "
                             "give validation_split= or validation_data= too")
        if sample_weight is not None:
            sample_weight = _weights_of("sample_weight", sample_weight, x.shape[0])
        keep = not reinitialize and _resolved(spelled, lambda: self._model.continues(settings, self._base))
        if keep and self._width != x.shape[1]:
            raise ValueError(f"x: the model takes {self._width} features per sample, got {x.shape[1]}: pass "
                             "reinitialize=True to build a new network for these data")
        x, y, fill, sample_weight = self._training_rows(x, y, settings, sample_weight, self._fill if keep else None)
        if keep:
            classes, names = self._classes, self._class_names
        else:
            classes, names = self._new_classes(y, class_names)
        labels = self._label_indices("y", y, x.shape[0], classes)
        weights = _loss_weights(sample_weight, class_weight, labels, classes, names)
        held_out = {}
        for name, data in (("test_data", test_data), ("validation_data", validation_data)):
            if data is not None:
                hx = _rows(f"{name}[0]", data[0])
                if fill is not None:
                    hx = _fill_missing(hx, fill)
                held_out[name] = (hx, self._label_indices(f"{name}[1]", data[1], hx.shape[0], classes))
        if len(classes) < 2:
            raise ValueError(f"y: needs at least 2 classes, got {len(classes)}")
        run = self._open_run(log_dir)
        # The run directory the fit writes as it goes (callbacks copy its checkpoints).
        self._fitting = run
        progress = _Progress(verbose, self, callbacks)
        self.stop_training = False
        before = self._model.generation
        try:
            _resolved(spelled, lambda: self._model.fit(
                x, labels, names, progress, settings, self._base, held_out.get("test_data"),
                held_out.get("validation_data"), run.path, keep, int(initial_epoch), weights))
        finally:
            # Kept after Ctrl-C too: the epochs trained so far.
            if self._model.generation != before:
                self._classes, self._class_names, self._width, self._fill, self._run = classes, names, x.shape[1], fill, run
                weights = self._weights_held(settings, progress)
                self.history = History(self._model.history(), run, progress.params, self, weights, continued=keep)
        progress.on_train_end({})
        if verbose and progress.best_epoch is not None:
            monitor = (settings.get("monitor") or "val-loss").replace("-", "_")
            also = "" if settings.get("restore_best") else (
                f"; the best by {monitor} was epoch {progress.best_epoch} (restore_best_weights=True keeps the best)")
            print(f"The model holds the weights of its {self.history.weights}{also}")
        return self.history

    def _weights_held(self, settings, progress):
        """Which epoch's weights the model holds after a fit, in words."""
        if progress.best_epoch is not None and settings.get("restore_best"):
            monitor = (settings.get("monitor") or "val-loss").replace("-", "_")
            return f"best epoch ({progress.best_epoch}, by {monitor})"
        return f"last epoch ({progress.last_epoch})"

    def _open_run(self, log_dir):
        if log_dir is None:
            return _RunFolder(tempfile.mkdtemp(prefix="gpu-mlp-"), temporary=True)
        return _RunFolder(str(_core.new_run_dir(str(log_dir))), temporary=False)

    @property
    def findings(self):
        """What the last fit's diagnostics say went wrong, in plain language (empty if healthy)."""
        return self._model.findings()

    def boundary(self):
        """The decision regions of a two-input model, with its test points."""
        return self.plot("boundary")

    def save(self, path):
        """Writes the run directory to `path` (which must not hold files): what `gpu-mlp train
        --out` writes, so `gpu-mlp eval`/`plot` and `gpu_mlp.load` read it."""
        if self._run is None:
            raise ValueError("this model has not been built yet: call fit() first")
        if os.path.isdir(path) and os.listdir(path):
            raise ValueError(f"{path} already holds files: save into a new directory")
        shutil.copytree(self._run.path, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("train.lock"))

    def plot(self, kind="confusion"):
        """One of the model's plots (loss, accuracy, confusion, examples, roc, boundary…), shown
        inline by Jupyter. After `evaluate(x, y)`, "confusion" is that evaluation's matrix."""
        if kind == "confusion":
            png = self._model.evaluated_confusion_png() if self._classes is not None else None
            if png is not None:
                return Image(png, "confusion of evaluate()")
            if self._run is None or not os.path.exists(os.path.join(self._run.path, "confusion.png")):
                raise ValueError("no confusion matrix yet: call evaluate(x_test, y_test) first (or fit with "
                                 "test_data=(x_test, y_test)), then plot('confusion')")
        if self._run is None:
            raise ValueError("this model has not been built yet: call fit() first")
        return self._run.plot(kind)

    def _built(self):
        if self._classes is None:
            raise ValueError("this model has not been built yet: call fit() first")

    def _inputs(self, name, x):
        self._built()
        x = _rows(name, x)
        return _fill_missing(x, self._fill) if self._fill is not None else x

    def predict(self, x, batch_size=None, verbose=0):
        """Class probabilities, shape (samples, classes), columns in the order of `classes_`.
        `batch_size` (default 32768) bounds how many samples are passed to the engine at once;
        the results do not depend on it. verbose=1 prints the samples and seconds."""
        batch = 32768 if batch_size is None else _positive_int("batch_size", batch_size)
        x = self._inputs("x", x)
        start = time.monotonic()
        parts = []
        for first in range(0, x.shape[0], batch):
            try:
                parts.append(self._model.predict(x[first:first + batch], "x"))
            except ValueError as e:
                raise ValueError(_offset_rows(str(e), first)) from None
        if verbose:
            print(f"{x.shape[0]}/{x.shape[0]} samples - {time.monotonic() - start:.1f}s")
        return np.concatenate(parts)

    @property
    def classes_(self):
        """The classes of the labels `fit` learned: column i of `predict` is class `classes_[i]`."""
        return self._classes

    @property
    def class_names(self):
        """What each class is called in plots and reports."""
        return self._class_names

    def evaluate(self, x, y, batch_size=None, verbose=1):
        """A dict: loss, accuracy, auc, confusion (rows: true class), per_class
        {name: (precision, recall, f1, support)}, macro_f1, samples. The scores are kept for
        `plot("confusion")`. `batch_size` is accepted as Keras takes it; the scores do not
        depend on it (the engine scores in batches that fit its memory). verbose=1 prints
        loss and accuracy."""
        if batch_size is not None:
            _positive_int("batch_size", batch_size)
        x = self._inputs("x", x)
        result = self._model.evaluate(x, self._label_indices("y", y, x.shape[0], self._classes))
        if verbose:
            print(f"{result['samples']}/{result['samples']} - accuracy: {result['accuracy']:.4f} - "
                  f"loss: {result['loss']:.4f}")
        return result

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_model"] = self._model.state()
        # The run directory is this object's own (temporary) one: a copy does not share it.
        state["_run"], state["_fitting"] = None, None
        state["history"] = None if self.history is None else _pickled_history(self.history)
        return state

    def __setstate__(self, state):
        state["_model"] = _core.Model.from_state(*state["_model"])
        self.__dict__.update(state)
        if self.history is not None:
            self.history.model = self

    def summary(self):
        """Prints the layer table, as Keras' `model.summary()` does."""
        print(self._model.summary(), end="")

    def get_weights(self):
        """Keras' order and shapes: each layer's kernel (inputs, units), then its bias (units)."""
        out = []
        for weight, bias in self._model.weights():
            out += [weight.T.copy(), bias]
        return out

    def count_params(self):
        return self._model.count_params()

    @property
    def device(self):
        """Where the last fit ran, and why."""
        return self._model.device()

    def config_toml(self):
        """The full settings as a `gpu-mlp train --config` file holds them."""
        return self._model.config_toml()


def _fill_missing(x, means):
    """`x` with each missing value (NaN) replaced by its column's training mean (missing="mean");
    other values are checked by the engine."""
    if x.dtype != np.float32:
        return x
    rows, columns = np.nonzero(np.isnan(x))
    if rows.size == 0:
        return x
    x = x.copy()
    x[rows, columns] = means[columns]
    return x


def _weights_of(name, weights, n):
    """`weights` as one float per sample."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n,):
        raise ValueError(f"{name}: expected {n} weights (one per sample), got shape {weights.shape}")
    return weights


def _loss_weights(sample_weight, class_weight, labels, classes, names=None):
    """Each sample's weight in the loss (float32), as Keras and scikit-learn combine them:
    `sample_weight` times the weight of the sample's class (`class_weight`: a dict from class,
    as y holds it or by its name, to weight — classes it leaves out weigh 1 — or "balanced": n_samples /
    (n_classes · count of the class)); None when neither is given."""
    if sample_weight is None and class_weight is None:
        return None
    weights = np.ones(labels.shape[0]) if sample_weight is None else np.array(sample_weight, dtype=np.float64)
    if class_weight is not None:
        counts = np.bincount(labels, minlength=len(classes))
        if isinstance(class_weight, str) and class_weight == "balanced":
            per_class = labels.shape[0] / (len(classes) * np.maximum(counts, 1))
        elif isinstance(class_weight, dict):
            per_class = np.ones(len(classes))
            known = classes.tolist()
            for label, weight in class_weight.items():
                label = label.item() if hasattr(label, "item") else label
                where = [i for i, c in enumerate(known) if c == label or (names and names[i] == label)]
                if not where:
                    raise ValueError(f"class_weight: {label!r} is not one of the classes: {known}")
                per_class[where[0]] = float(weight)
        else:
            raise ValueError(f"class_weight: expected a dict {{class: weight}} or 'balanced', got {class_weight!r}")
        weights = weights * per_class[labels]
    return weights.astype(np.float32)


def _pickled_history(history):
    copy = History.__new__(History)
    copy.__dict__.update(history.__dict__)
    copy._run, copy.model = None, None
    return copy


def _offset_rows(message, first):
    """An engine message about `row N` of a chunk that starts at row `first`, as a row of the
    whole array."""
    return re.sub(r"row (\d+)", lambda m: f"row {int(m.group(1)) + first}", message, count=1)


def load(path):
    """The model of a run directory written by `gpu-mlp train` or `MLP.save`: its best weights
    (else its last), settings and history. Its `classes_` are the run's class names; `evaluate`
    takes class indices too."""
    core = _core.Model.load(str(path))
    model = MLP.__new__(MLP)
    model._settings, model._spelled, model._model = {}, {}, core
    model._run = _RunFolder(str(path), temporary=False) if os.path.isdir(path) else None
    model._base = core.config_toml()
    model._width, class_names = core.shape()
    model._classes = np.array(class_names)
    model._class_names = list(class_names)
    model._fill, model._fitting = None, None
    model.stop_training = False
    model.history = History(core.history(), model._run, model=model, weights="as saved")
    return model


def __getattr__(name):
    # MLPClassifier needs scikit-learn, which gpu_mlp.MLP does not: imported on first use.
    if name == "MLPClassifier":
        from .sklearn import MLPClassifier

        return MLPClassifier
    raise AttributeError(f"module 'gpu_mlp' has no attribute {name!r}")

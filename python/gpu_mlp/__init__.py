"""gpu-mlp from Python: a Keras-like `MLP` on the same kernels, settings and checks as the
`gpu-mlp` command line.

    import gpu_mlp
    (x_train, y_train), (x_test, y_test) = gpu_mlp.datasets.fashion_mnist.load_data()
    model = gpu_mlp.MLP(hidden=[512], optimizer="adam", seed=42)
    history = model.fit(x_train, y_train, epochs=5, batch_size=128, validation_split=0.1)
    model.evaluate(x_test, y_test)

Every keyword of `MLP` is a setting of `gpu-mlp train`, with the same name and default: the
list comes from the settings' one declaration in the Rust library (`MLP.settings()`).
"""

import json
import os
import shutil
import sys
import tempfile
import time
import weakref

import numpy as np

from . import _core, datasets

__version__ = _core.__version__
__all__ = ["MLP", "MLPClassifier", "History", "Image", "datasets", "explain", "load", "settings"]


def explain(batch=0, **settings):
    """One mini-batch (`batch` of the first epoch) of the run these settings describe, through
    its freshly initialized network step by step: shapes, statistics, logits, softmax, losses,
    gradients and the update, the CPU reference's values beside the GPU kernel's (the text of
    `gpu-mlp explain`)."""
    _check_keywords(settings)
    return _core.explain(settings, batch)


def settings():
    """Every setting: key, group, help, default (as the command line spells it), choices."""
    return _core.settings()


_SETTINGS = {s["key"]: s for s in settings()}
# Keras' names for the settings `fit` takes, and which setting each one is.
_FIT_KEYWORDS = {"epochs": "epochs", "batch_size": "batch_size", "validation_split": "val_split"}


def _nearest(key):
    import difflib

    close = difflib.get_close_matches(key, list(_SETTINGS), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keywords(given):
    for key in given:
        if key not in _SETTINGS:
            raise TypeError(f"unknown setting {key!r}{_nearest(key)}; the settings are {', '.join(_SETTINGS)}")


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


class Image:
    """A plot of a run (PNG), shown inline by Jupyter; `save(path)` writes it elsewhere."""

    def __init__(self, path):
        self.path = path

    def _repr_png_(self):
        with open(self.path, "rb") as f:
            return f.read()

    def save(self, path):
        shutil.copyfile(self.path, path)

    def __repr__(self):
        return f"<Image {self.path}>"


def _plot(run_dir, kind):
    """The run directory's plot `kind` (loss, accuracy, confusion, examples, …)."""
    kinds = sorted(f[:-4] for f in os.listdir(run_dir) if f.endswith(".png")) if run_dir else []
    if kind not in kinds:
        raise ValueError(f"no {kind!r} plot for this run; it has: {', '.join(kinds) or 'none (fit it first)'}")
    return Image(os.path.join(run_dir, kind + ".png"))


# Keras' name of each history.json column History keeps.
_KERAS_NAMES = {"train_loss": "loss", "train_accuracy": "accuracy", "val_loss": "val_loss",
                "val_accuracy": "val_accuracy", "test_loss": "test_loss", "test_accuracy": "test_accuracy",
                "lr": "lr"}


class History:
    """What `fit` returns, as Keras' does: `history.history["loss"]`, `["val_accuracy"]`, …
    (per-epoch lists), and `history.epoch`; `diagnostics` (per epoch, per layer: gradient and
    weight norms, update/weight ratio, activation statistics, dead units); `plot()` draws the
    curves."""

    def __init__(self, history_json, run_dir=None):
        rows = json.loads(history_json)
        self.epoch = [r["epoch"] - 1 for r in rows]
        self.diagnostics = [r["layers"] for r in rows]
        self.history = {keras: [r[column] for r in rows] for column, keras in _KERAS_NAMES.items()
                        if rows and rows[0][column] is not None}
        self.samples_per_second = [r["samples_per_second"] for r in rows]
        self._run_dir = run_dir

    def plot(self, metric="loss"):
        """The loss (or `metric="accuracy"`) curves per epoch, as the run directory has them."""
        return _plot(self._run_dir, metric)

    def __repr__(self):
        return f"<History {len(self.epoch)} epochs: {', '.join(self.history)}>"


class _Progress:
    """Keras' lines, written to this process's own `sys.stdout` (a notebook's cell output):
    verbose 1 a progress line per epoch redrawn at each tick, 2 one line per epoch, 0 nothing."""

    def __init__(self, verbose, epochs):
        self.verbose, self.epochs = verbose, epochs
        self.started = time.monotonic()

    def on_tick(self, epoch, batch, batches, loss, accuracy):
        if self.verbose == 1:
            done = int(30 * batch / max(batches, 1))
            bar = "━" * done + "─" * (30 - done)
            sys.stdout.write(f"\r{batch}/{batches} {bar} - accuracy: {accuracy:.4f} - loss: {loss:.4f}")
            sys.stdout.flush()

    def on_epoch(self, epoch, train, val, test, lr, seconds):
        if self.verbose == 0:
            return
        parts = [f"accuracy: {train[1]:.4f}", f"loss: {train[0]:.4f}"]
        for name, metrics in (("val", val), ("test", test)):
            if metrics is not None:
                parts += [f"{name}_accuracy: {metrics[1]:.4f}", f"{name}_loss: {metrics[0]:.4f}"]
        line = f"Epoch {epoch}/{self.epochs} - {seconds:.1f}s - " + " - ".join(parts)
        sys.stdout.write(("\r" if self.verbose == 1 else "") + line + "\n")
        sys.stdout.flush()


class MLP:
    """A multi-layer perceptron trained by gpu-mlp's kernels (GPU) or its CPU reference.

    Keywords: any setting of `gpu-mlp train` (`hidden`, `activation`, `optimizer`, `lr`,
    `dropout`, `device`, `seed`, …; see `gpu_mlp.settings()`), with the same defaults. A bad
    value raises `ValueError` naming the setting, as the command line does.
    """

    def __init__(self, **settings):
        _check_keywords(settings)
        self._settings = dict(settings)
        # A loaded run's settings, under the keywords (None: the declared defaults).
        self._base = None
        self._model = _core.Model(self._settings)
        self._classes = None
        self._run_dir = None
        self.history = None

    def get_config(self):
        """The settings given (the others are their declared defaults)."""
        return dict(self._settings)

    def _labels(self, name, y, n, fit):
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"{name}: expected {n} labels (one per sample), got shape {y.shape}")
        if fit:
            self._classes = np.unique(y)
        elif self._classes.dtype.kind in "US" and y.dtype.kind in "iu":
            # A model with named classes (a loaded run) takes class indices too, as Keras does.
            if y.size and (y.min() < 0 or y.max() >= len(self._classes)):
                raise ValueError(f"{name}: class indices must be in 0..{len(self._classes) - 1}")
            return y.astype(np.uint32)
        index = np.searchsorted(self._classes, y)
        unknown = (index >= len(self._classes)) | (self._classes[np.minimum(index, len(self._classes) - 1)] != y)
        if unknown.any():
            raise ValueError(
                f"{name}: label {y[unknown][0].item()!r} is not one of the classes fitted: {self._classes.tolist()}"
            )
        return index.astype(np.uint32)

    def _class_names(self):
        return [str(c) for c in self._classes]

    def fit(self, x, y, epochs=None, batch_size=None, validation_split=None, verbose=1, test_data=None,
            log_dir=None, **settings):
        """Trains a new network on samples `x` (any shape per sample, flattened) and labels `y`
        (ints or strings). `epochs`, `batch_size`, `validation_split` and any other setting
        given here override the model's for this fit. `test_data=(x, y)` is scored after every
        epoch, as the command line scores its test split. Returns a `History`. Ctrl-C stops at
        the next tick, keeps the weights trained so far and raises KeyboardInterrupt.

        Like `gpu-mlp train`, the fit writes a run directory (config.toml, history, checkpoints,
        plots, TensorBoard's event file): a temporary one, which `save` copies, or with
        `log_dir="runs"` a new one under that folder, kept, as Keras' TensorBoard callback keeps
        its logs (`%tensorboard --logdir runs` then shows the fit live)."""
        given = {_FIT_KEYWORDS[k]: v for k, v in
                 (("epochs", epochs), ("batch_size", batch_size), ("validation_split", validation_split))
                 if v is not None}
        _check_keywords(settings)
        given.update(settings)
        self._model = _core.Model({**self._settings, **given}, self._base)
        x = _rows("x", x)
        labels = self._labels("y", y, x.shape[0], fit=True)
        test = None
        if test_data is not None:
            tx = _rows("test_data[0]", test_data[0])
            test = (tx, self._labels("test_data[1]", test_data[1], tx.shape[0], fit=False))
            self._check_width("test_data[0]", tx, x.shape[1])
        self._width = x.shape[1]
        if log_dir is None:
            self._run_dir = tempfile.mkdtemp(prefix="gpu-mlp-")
            weakref.finalize(self, shutil.rmtree, self._run_dir, ignore_errors=True)
        else:
            self._run_dir = str(_core.new_run_dir(str(log_dir)))
        try:
            self._model.fit(x, labels, self._class_names(), _Progress(verbose, self._model.epochs()), test, self._run_dir)
        finally:
            # Kept after Ctrl-C too: the epochs trained so far.
            self.history = History(self._model.history(), self._run_dir)
        return self.history

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
        if self._run_dir is None:
            raise ValueError("this model has not been built yet: call fit() first")
        if os.path.isdir(path) and os.listdir(path):
            raise ValueError(f"{path} already holds files: save into a new directory")
        shutil.copytree(self._run_dir, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("train.lock"))

    def plot(self, kind="confusion"):
        """One of the run's plots (loss, accuracy, confusion, examples, roc, boundary…), shown
        inline by Jupyter."""
        return _plot(self._run_dir, kind)

    def _check_width(self, name, x, width):
        if x.shape[1] != width:
            raise ValueError(f"{name}: expected {width} features per sample, got {x.shape[1]} (shape {x.shape})")

    def _built_rows(self, name, x):
        if self._classes is None:
            raise ValueError("this model has not been built yet: call fit() first")
        x = _rows(name, x)
        self._check_width(name, x, self._width)
        return x

    def predict(self, x):
        """Class probabilities, shape (samples, classes), columns in the order of `classes_`."""
        return self._model.predict(self._built_rows("x", x))

    @property
    def classes_(self):
        """The labels seen by `fit`, sorted: column i of `predict` is class `classes_[i]`."""
        return self._classes

    def evaluate(self, x, y):
        """A dict: loss, accuracy, auc, confusion (rows: true class), per_class
        {name: (precision, recall, f1, support)}, macro_f1, samples."""
        x = self._built_rows("x", x)
        return self._model.evaluate(x, self._labels("y", y, x.shape[0], fit=False))

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_model"] = self._model.state()
        # The run directory is this object's own (temporary) one: a copy does not share it.
        state["_run_dir"] = None
        return state

    def __setstate__(self, state):
        state["_model"] = _core.Model.from_state(*state["_model"])
        self.__dict__.update(state)

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


def load(path):
    """The model of a run directory written by `gpu-mlp train` or `MLP.save`: its best weights
    (else its last), settings and history. Its `classes_` are the run's class names; `evaluate`
    takes class indices too."""
    core = _core.Model.load(str(path))
    model = MLP.__new__(MLP)
    model._settings, model._model, model._run_dir = {}, core, str(path)
    model._base = core.config_toml()
    model._width, class_names = core.shape()
    model._classes = np.array(class_names)
    model.history = History(core.history(), model._run_dir)
    return model


def __getattr__(name):
    # MLPClassifier needs scikit-learn, which gpu_mlp.MLP does not: imported on first use.
    if name == "MLPClassifier":
        from .sklearn import MLPClassifier

        return MLPClassifier
    raise AttributeError(f"module 'gpu_mlp' has no attribute {name!r}")

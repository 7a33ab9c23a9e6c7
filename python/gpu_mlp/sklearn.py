"""`MLPClassifier`: gpu-mlp as a scikit-learn estimator. Tables (a pandas DataFrame with numeric,
categorical and missing values, or a numeric array) are encoded by the same table codec as
`gpu-mlp train --data` (fitted on the training rows, kept with the model), so `Pipeline`,
`cross_val_score` and `GridSearchCV` work on a course table unchanged."""

import csv
import inspect
import os
import tempfile

import numpy as np

from . import _SETTINGS, History, _Progress, _core

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as e:  # pragma: no cover - scikit-learn is optional for gpu_mlp.MLP
    raise ImportError("gpu_mlp.MLPClassifier needs scikit-learn: pip install scikit-learn") from e

# Settings that name where the data come from: `fit(X, y)` gives the data, and all of it trains.
_DATA_SOURCE = {"dataset", "data_dir", "samples", "strict_data", "data", "target", "test_data", "test_split"}
PARAMS = [key for key in _SETTINGS if key not in _DATA_SOURCE]
# The target's column in the table handed to the codec (named so it cannot clash).
_TARGET = "__gpu_mlp_target__"


def _cell(value):
    """One value as the table reader reads it: missing (None, NaN) as an empty cell."""
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return ""
    return str(value)


def _write_table(path, X, names, target=None):
    """Writes the rows of `X` (and the class indices `target`) as the CSV the codec reads."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names + ([_TARGET] if target is not None else []))
        for i, row in enumerate(X):
            cells = [_cell(v) for v in row]
            if target is not None:
                cells.append(str(target[i]))
            writer.writerow(cells)


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """A multi-layer perceptron classifier on gpu-mlp's kernels (GPU) or its CPU reference.

    Every keyword is a setting of `gpu-mlp train` with the same name (`hidden`, `activation`,
    `optimizer`, `lr`, `epochs`, `batch_size`, `missing`, `categorical`, `device`, `seed`, …;
    see `gpu_mlp.settings()`); None means the declared default. The settings that say where
    data come from (dataset, data, target, test_data, test_split, …) are not keywords: `fit`
    takes the data, all of it trains.
    """

    def __init__(self, **params):
        unknown = set(params) - set(PARAMS)
        if unknown:
            raise TypeError(f"unknown setting(s) {sorted(unknown)}; the settings are {', '.join(PARAMS)}")
        for key in PARAMS:
            setattr(self, key, params.get(key))

    def _settings(self):
        settings = {key: getattr(self, key) for key in PARAMS if getattr(self, key) is not None}
        # A tuple of widths is as good as a list (GridSearchCV grids often hold tuples).
        return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}

    def _rows(self, X, reset, y=None):
        """X (and y) checked as scikit-learn checks them (NaN only when `missing` fills or drops it),
        any column type kept (the codec one-hot encodes text); the column names."""
        nan = "allow-nan" if self.missing in ("mean", "drop") else True
        kept = dict(accept_sparse=False, ensure_all_finite=nan, dtype=None, reset=reset)
        if y is None:
            X = validate_data(self, X, **kept)
        else:
            X, y = validate_data(self, X, y, **kept)
        names = getattr(self, "feature_names_in_", None)
        names = [str(n) for n in names] if names is not None else [f"x{i}" for i in range(X.shape[1])]
        return X, y, names

    def fit(self, X, y):
        X, y, names = self._rows(X, reset=True, y=y)
        check_classification_targets(y)
        self.classes_, target = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y: needs at least 2 classes, got {len(self.classes_)} class")
        model = _core.Model({**self._settings(), "test_split": 0.0})
        with tempfile.TemporaryDirectory(prefix="gpu-mlp-") as tmp:
            path = os.path.join(tmp, "train.csv")
            _write_table(path, X, names, target)
            model.fit_table(path, _TARGET, _Progress(0, model.epochs()))
        self.model_ = model
        self.history_ = History(model.history())
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X, _, names = self._rows(X, reset=False)
        with tempfile.TemporaryDirectory(prefix="gpu-mlp-") as tmp:
            path = os.path.join(tmp, "rows.csv")
            _write_table(path, X, names)
            return self.model_.predict_table(path)

    def predict(self, X):
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def __getstate__(self):
        state = dict(self.__dict__)
        if "model_" in state:
            state["model_"] = self.model_.state()
        return state

    def __setstate__(self, state):
        if "model_" in state:
            state["model_"] = _core.Model.from_state(*state["model_"])
        self.__dict__.update(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Missing values are refused unless `missing` fills or drops them.
        tags.input_tags.allow_nan = self.missing in ("mean", "drop")
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags


# scikit-learn reads an estimator's parameters from its __init__ signature: one keyword per
# declared setting, each defaulting to None (the declared default).
MLPClassifier.__init__.__signature__ = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=None) for key in PARAMS]
)

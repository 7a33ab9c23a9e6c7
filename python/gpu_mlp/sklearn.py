"""`MLPClassifier`: gpu-mlp as a scikit-learn estimator. Tables (a pandas DataFrame with numeric,
categorical and missing values, or a numeric array) are handed column by column to the same
table codec as `gpu-mlp train --data` (fitted on the training rows, kept with the model), so
`Pipeline`, `cross_val_score` and `GridSearchCV` work on a course table unchanged."""

import inspect
import json

import numpy as np

from . import _SETTINGS, ALIASES, NOT_HERE, History, _core, _loss_weights, _Progress, _python_terms

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as e:  # pragma: no cover - scikit-learn is optional for gpu_mlp.MLP
    raise ImportError("gpu_mlp.MLPClassifier needs scikit-learn: pip install scikit-learn") from e

# Every setting but those that name where the data come from (their declared role): `fit(X, y)`
# gives the data, and all of it trains.
PARAMS = [key for key, s in _SETTINGS.items() if "data_source" not in s["roles"]]
# scikit-learn's own MLPClassifier parameters that mean what a setting means.
_SKLEARN_NAMES = {k: v for k, v in ALIASES.items() if v in PARAMS}


def _is_numeric(dtype):
    return dtype.kind in "fiu"


def _text_column(values):
    """A column of any values as the codec's cells: None for a missing value, else its text."""
    import pandas as pd

    return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values]


def _columns(X_given, X):
    """The columns of the table `X_given` (as the caller gave it; `X` as scikit-learn checked
    it): a float64 array per numeric column (NaN missing), a list of text per other one."""
    if hasattr(X_given, "columns") and hasattr(X_given, "dtypes"):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        columns = []
        for position in range(X_given.shape[1]):
            series = X_given.iloc[:, position]
            if is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype):
                columns.append(series.to_numpy(dtype=np.float64, na_value=np.nan))
            else:
                columns.append(_text_column(series.to_numpy(dtype=object)))
        return columns
    if _is_numeric(X.dtype):
        return [np.ascontiguousarray(X[:, j], dtype=np.float64) for j in range(X.shape[1])]
    columns = []
    for j in range(X.shape[1]):
        try:
            columns.append(X[:, j].astype(np.float64))
        except (TypeError, ValueError):
            columns.append(_text_column(X[:, j]))
    return columns


def _where_missing(X):
    """ " (X: row r, column `c`)" for the first missing value of the table X, where it can be told."""
    import pandas as pd

    frame = X if hasattr(X, "columns") else pd.DataFrame(np.asarray(X, dtype=object))
    missing = frame.isna().to_numpy()
    if not missing.any():
        return ""
    row, column = np.argwhere(missing)[0]
    return f" (X: row {row}, column `{frame.columns[column]}`)"


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """A multi-layer perceptron classifier on gpu-mlp's kernels (GPU) or its CPU reference.

    Every keyword is a setting of `gpu-mlp train` with the same name (`hidden`, `activation`,
    `optimizer`, `lr`, `epochs`, `batch_size`, `missing`, `categorical`, `device`, `seed`, …;
    see `gpu_mlp.settings()`); None means the declared default. The settings that say where
    data come from (dataset, data, target, test_data, test_split, …) are not keywords: `fit`
    takes the data, all of it trains.

    As scikit-learn's own MLPClassifier: `fit` trains a new network each call unless
    `warm_start=True` (then it trains on from the fitted weights, with the fitted encoding and
    classes); `partial_fit(X, y, classes=...)` trains one epoch on from the current weights.
    `fit(X, y, sample_weight=...)` and `class_weight` ({class: weight} or "balanced") weight
    each sample's loss.
    After fitting: `classes_`, `n_iter_` (epochs trained), `loss_curve_` (training loss per
    epoch), `best_loss_`, and with a `val_split` `validation_scores_` (validation accuracy per
    epoch) and `best_validation_score_`.
    """

    def __init__(self, warm_start=False, class_weight=None, **params):
        unknown = set(params) - set(PARAMS)
        if unknown:
            key = sorted(unknown)[0]
            if key in _SKLEARN_NAMES:
                raise TypeError(f"{key}: gpu_mlp.MLPClassifier calls it {_SKLEARN_NAMES[key]}=")
            if key in NOT_HERE:
                raise TypeError(f"{key}: {NOT_HERE[key]}")
            raise TypeError(f"unknown setting(s) {sorted(unknown)}; the settings are {', '.join(PARAMS)}")
        self.warm_start, self.class_weight = warm_start, class_weight
        for key in PARAMS:
            setattr(self, key, params.get(key))

    def _settings(self):
        return {key: getattr(self, key) for key in PARAMS if getattr(self, key) is not None}

    def _core_model(self):
        settings = {**self._settings(), "test_split": 0.0}
        try:
            return _core.Model(settings)
        except (ValueError, TypeError) as e:
            raise _python_terms(e, {}) from None

    def _rows(self, X, reset, y=None):
        """X (and y) checked as scikit-learn checks them (NaN only when `missing` fills or drops
        it), any column type kept (the codec one-hot encodes text); the column names and the
        columns."""
        nan = "allow-nan" if self.missing in ("mean", "drop") else True
        kept = dict(accept_sparse=False, ensure_all_finite=nan, dtype=None, reset=reset)
        given = X
        try:
            if y is None:
                X = validate_data(self, X, **kept)
            else:
                X, y = validate_data(self, X, y, **kept)
        except ValueError as e:
            if "NaN" not in str(e):
                raise
            raise ValueError(f"{e}{_where_missing(given)}: MLPClassifier(missing='mean') fills missing values with "
                             "the training mean (most frequent category), missing='drop' drops those rows") from None
        names = getattr(self, "feature_names_in_", None)
        names = [str(n) for n in names] if names is not None else [f"x{i}" for i in range(X.shape[1])]
        return _columns(given, X), y, names

    def fit(self, X, y, sample_weight=None):
        """Trains on the table X (a DataFrame or array) and labels y: a new network, or with
        `warm_start=True` from the fitted one. Returns self."""
        return self._fit(X, y, keep=self.warm_start and hasattr(self, "model_"), sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on (X, y) from the current weights (the first call builds the network, for
        `classes`: every class y may hold in any call). Returns self."""
        first = not hasattr(self, "model_")
        if first and classes is None:
            raise ValueError("classes: the first partial_fit needs every class the labels may hold "
                             "(e.g. classes=np.unique(y_all))")
        return self._fit(X, y, keep=not first, epochs=1, classes=classes, sample_weight=sample_weight)

    def _fit(self, X, y, keep, epochs=None, classes=None, sample_weight=None):
        columns, y, names = self._rows(X, reset=not keep, y=y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, np.empty((len(y), 0)), dtype=np.float64)
        check_classification_targets(y)
        if keep:
            known = self.classes_
        elif classes is not None:
            known = np.unique(np.asarray(classes))
        else:
            known = np.unique(y)
        index = np.searchsorted(known, y)
        unknown = (index >= len(known)) | (known[np.minimum(index, len(known) - 1)] != y)
        if unknown.any():
            raise ValueError(f"y: label {y[unknown][0]!r} is not one of the classes: {known.tolist()}")
        if len(known) < 2:
            raise ValueError(f"y: needs at least 2 classes, got {len(known)} class")
        model = self.model_ if keep else self._core_model()
        labels = index.astype(np.uint32)
        weights = _loss_weights(sample_weight, self.class_weight, labels, known)
        try:
            model.fit_frame(names, columns, labels, len(known), _Progress(0), keep, epochs, weights)
        except (ValueError, TypeError) as e:
            raise _python_terms(e, {}) from None
        self.classes_, self.model_ = known, model
        self._record(model, keep)
        return self

    def _record(self, model, continued):
        """scikit-learn's fitted attributes: of this fit, after those it continued."""
        rows = json.loads(model.history())
        self.history_ = History(model.history())
        earlier = self.loss_curve_ if continued else []
        self.loss_curve_ = list(earlier) + [r["train_loss"] for r in rows]
        self.n_iter_ = len(self.loss_curve_)
        self.best_loss_ = min(self.loss_curve_)
        if rows and rows[0]["val_accuracy"] is not None:
            earlier = (self.validation_scores_ or []) if continued else []
            self.validation_scores_ = list(earlier) + [r["val_accuracy"] for r in rows]
            self.best_validation_score_ = max(self.validation_scores_)
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def predict_proba(self, X):
        check_is_fitted(self)
        columns, _, names = self._rows(X, reset=False)
        try:
            return self.model_.predict_frame(names, columns)
        except (ValueError, TypeError) as e:
            raise _python_terms(e, {}) from None

    def predict(self, X):
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def __getstate__(self):
        state = dict(self.__dict__)
        if "model_" in state:
            state["model_"] = self.model_.state()
        state.pop("history_", None)
        return state

    def __setstate__(self, state):
        if "model_" in state:
            state["model_"] = _core.Model.from_state(*state["model_"])
            state["history_"] = History(state["model_"].history())
        self.__dict__.update(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Missing values are refused unless `missing` fills or drops them.
        tags.input_tags.allow_nan = self.missing in ("mean", "drop")
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags


# scikit-learn reads an estimator's parameters from its __init__ signature: warm_start and
# class_weight (scikit-learn's), then one
# keyword per declared setting, each defaulting to None (the declared default).
MLPClassifier.__init__.__signature__ = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
     inspect.Parameter("warm_start", inspect.Parameter.KEYWORD_ONLY, default=False),
     inspect.Parameter("class_weight", inspect.Parameter.KEYWORD_ONLY, default=None)]
    + [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=None) for key in PARAMS]
)

"""What a Keras or scikit-learn user expects of gpu_mlp, item by item (issue 26): never a silent
wrong answer, Keras' fit semantics for MLP and scikit-learn's for MLPClassifier, errors in
Python's terms."""

import gc
import os
import pathlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import gpu_mlp
from gpu_mlp.callbacks import Callback, EarlyStopping, LambdaCallback, LearningRateScheduler, ModelCheckpoint

from conftest import ROOT, skip_unless_ci


def quick(**settings):
    return gpu_mlp.MLP(hidden=[8], device="cpu", seed=1, **settings)


def points(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = (rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)).astype(np.float32)
    return x, y


def fitted(**fit):
    x, y = points()
    model = quick()
    model.fit(x, y, epochs=2, verbose=0, **fit)
    return model, x, y


# --- 1, 3: missing and infinite values ---------------------------------------------------------

def test_predict_and_evaluate_refuse_nan_and_inf_naming_argument_row_and_column():
    model, x, y = fitted()
    rows = x[:4].copy()
    rows[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"x: row 2, column 1 is NaN"):
        model.predict(rows)
    rows[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"x: row 2, column 1 is inf"):
        model.evaluate(rows, y[:4], verbose=0)
    # In a later chunk of a batched predict, the row is still the caller's.
    many = np.repeat(x[:1], 10, axis=0)
    many[8, 0] = np.nan
    with pytest.raises(ValueError, match=r"x: row 8, column 0"):
        model.predict(many, batch_size=3)


def test_fit_refuses_nan_and_inf_up_front_blaming_the_data():
    x, y = points()
    bad = x.copy()
    bad[5, 0] = np.nan
    with pytest.raises(ValueError, match=r"x: row 5, column 0 is NaN.*missing=\"mean\"") as e:
        quick().fit(bad, y, verbose=0)
    assert "history" not in str(e.value) and "/tmp" not in str(e.value)
    bad[5, 0] = np.inf
    with pytest.raises(ValueError, match=r"x: row 5, column 0 is inf") as e:
        quick().fit(bad, y, verbose=0)
    assert "learning rate" not in str(e.value)
    with pytest.raises(ValueError, match=r"test_data\[0\]: row 0, column 1 is NaN"):
        quick().fit(x, y, verbose=0, test_data=(np.array([[0.0, np.nan]]), [0]))


def test_missing_mean_fills_what_it_was_trained_to_fill():
    x, y = points()
    gappy = x.copy()
    gappy[::10, 0] = np.nan
    model = quick(missing="mean")
    model.fit(gappy, y, epochs=2, verbose=0)
    mean = np.nanmean(gappy[:, 0])
    row = np.array([[np.nan, 0.3]], np.float32)
    np.testing.assert_array_equal(model.predict(row), model.predict(np.array([[mean, 0.3]], np.float32)))
    dropped = quick(missing="drop")
    dropped.fit(gappy, y, epochs=1, verbose=0)
    assert dropped.history.params["samples"] == len(x) - len(x[::10])


# --- 2: inputs on another scale than training's ------------------------------------------------

def test_a_model_trained_on_uint8_refuses_floats_scaled_differently(fashion):
    (x, y), (xt, yt) = fashion
    model = gpu_mlp.MLP(hidden=[32], device="cpu", seed=2)
    model.fit(x[:3000], y[:3000], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"trained on uint8 values 0–255.*not x / 255"):
        model.predict(xt[:10] / 255.0)
    # The same values as floats are the same images: accepted, the same answer.
    np.testing.assert_array_equal(model.predict(xt[:10].astype(np.float64)), model.predict(xt[:10]))
    # And the other way: trained on floats in [0, 1], raw bytes are refused.
    scaled = gpu_mlp.MLP(hidden=[32], device="cpu", seed=2)
    scaled.fit(x[:3000] / 255.0, y[:3000], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"trained on values in \[0, 1\]; got uint8 values in \[0, 255\]"):
        scaled.evaluate(xt[:10], yt[:10], verbose=0)
    assert scaled.evaluate(xt[:500] / 255.0, yt[:500], verbose=0)["accuracy"] > 0.5


# --- 4: a refused fit leaves the model as it was -----------------------------------------------

def test_a_refused_fit_leaves_the_model_as_it_was():
    model, x, y = fitted()
    before, history = model.predict(x[:5]), model.history
    for bad in (lambda: model.fit(x, y[:10], verbose=0),
                lambda: model.fit(x, y, lr=-1.0, verbose=0),
                lambda: model.fit(np.full_like(x, np.nan), y, verbose=0)):
        with pytest.raises(ValueError):
            bad()
        np.testing.assert_array_equal(model.predict(x[:5]), before)
        assert model.history is history


# --- 5: the table notebook never passes stand-in data off as the real set -----------------------

def test_the_table_notebook_stops_loudly_without_the_csv(tmp_path):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(ROOT / "examples" / "your-own-table.ipynb", as_version=4)
    where = tmp_path / "examples"
    where.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PENGUINS_CSV"}
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(where)}})
    os.environ.pop("PENGUINS_CSV", None)
    try:
        with pytest.raises(CellExecutionError, match="penguins.csv not found"):
            client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env)


# --- 6: a History outlives its model's temporary run directory ---------------------------------

def test_a_history_plots_after_its_model_is_gone():
    x, y = points()
    history = quick().fit(x, y, epochs=2, verbose=0)
    gc.collect()
    assert history.plot("loss")._repr_png_().startswith(b"\x89PNG")
    assert history.params["epochs"] == 2 and history.params["steps"] == 3
    assert isinstance(history.model, gpu_mlp.MLP)


# --- 7: fit after fit ----------------------------------------------------------------------------

def test_fit_continues_from_the_current_weights_as_keras_does():
    x, y = points()
    model = quick(lr=0.05)
    first = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    second = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    assert second < first and model.history.continued
    fresh = model.fit(x, y, epochs=1, verbose=0, reinitialize=True).history["loss"][0]
    assert fresh == pytest.approx(first, rel=1e-6) and not model.history.continued
    # A settings change that makes another network builds a new one.
    model.fit(x, y, epochs=1, verbose=0, hidden=[5])
    assert not model.history.continued and model.count_params() == 2 * 5 + 5 + 5 * 2 + 2


def test_sklearn_fit_restarts_and_warm_start_and_partial_fit_continue():
    X, y = points()
    clf = gpu_mlp.MLPClassifier(hidden=[8], device="cpu", epochs=2, seed=3)
    a = clf.fit(X, y).predict_proba(X[:5])
    b = clf.fit(X, y).predict_proba(X[:5])
    np.testing.assert_array_equal(a, b)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2 and clf.best_loss_ == min(clf.loss_curve_)
    warm = gpu_mlp.MLPClassifier(hidden=[8], device="cpu", epochs=2, seed=3, warm_start=True)
    warm.fit(X, y)
    warm.fit(X, y)
    assert warm.n_iter_ == 4 and warm.loss_curve_[2] < warm.loss_curve_[0]
    online = gpu_mlp.MLPClassifier(hidden=[8], device="cpu", seed=3)
    with pytest.raises(ValueError, match="classes"):
        online.partial_fit(X[:50], y[:50])
    online.partial_fit(X[:50], np.zeros(50, int), classes=[0, 1])
    online.partial_fit(X, y)
    assert online.n_iter_ == 2 and list(online.classes_) == [0, 1]
    assert online.predict(X).shape == (len(X),)


# --- 8: which weights the model holds, and Keras' validation split ------------------------------

def test_validation_split_takes_the_last_fraction_and_keeps_the_last_weights(capsys):
    x, y = points()
    model = quick(lr=0.05)
    history = model.fit(x, y, epochs=3, validation_split=0.2, verbose=2)
    assert history.weights == "last epoch (3)"
    said = capsys.readouterr().out
    assert "The model holds the weights of its last epoch (3)" in said
    held_out = model.evaluate(x[240:], y[240:], verbose=0)
    assert held_out["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    assert held_out["samples"] == 60


def test_restore_best_weights_keeps_the_best_epoch_and_says_so():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    noise = rng.integers(0, 2, 200)  # validation loss rises as the net memorizes
    model = gpu_mlp.MLP(hidden=[64], device="cpu", seed=1, lr=0.5)
    history = model.fit(x, noise, epochs=6, validation_split=0.3, restore_best_weights=True, verbose=0)
    best = int(np.argmin(history.history["val_loss"]))
    assert history.weights == f"best epoch ({best + 1}, by val_loss)"
    held_out = model.evaluate(x[140:], noise[140:], verbose=0)
    assert held_out["loss"] == pytest.approx(history.history["val_loss"][best], rel=1e-5)


# --- 9: Keras' fit arguments and callbacks ------------------------------------------------------

def test_validation_data_initial_epoch_and_shuffle():
    x, y = points()
    model = quick()
    history = model.fit(x[:200], y[:200], epochs=3, initial_epoch=1, validation_data=(x[200:], y[200:]), verbose=0)
    assert history.epoch == [1, 2] and len(history.history["val_loss"]) == 2
    # Without shuffling, the seed decides nothing a continued fit does: the same weights.
    base = quick()
    base.fit(x, y, epochs=1, verbose=0)
    import pickle

    results = {}
    for shuffle in (False, True):
        for seed in (1, 2):
            copy = pickle.loads(pickle.dumps(base))
            copy.fit(x, y, epochs=1, shuffle=shuffle, seed=seed, verbose=0)
            assert copy.history.continued
            results[shuffle, seed] = copy.get_weights()[0]
    np.testing.assert_array_equal(results[False, 1], results[False, 2])
    assert not np.array_equal(results[True, 1], results[True, 2])


def test_sample_weight_and_class_weight_weight_the_loss():
    x, y = points()
    plain = quick().fit(x, y, epochs=2, verbose=0).model.get_weights()
    ones = quick().fit(x, y, epochs=2, verbose=0, sample_weight=np.ones(len(x))).model.get_weights()
    for a, b in zip(plain, ones):
        np.testing.assert_array_equal(a, b)
    # Class 0 weighing nothing: the model learns to call everything class 1.
    ignored = quick(lr=0.2)
    ignored.fit(x, y, epochs=30, verbose=0, class_weight={0: 0.0})
    assert (ignored.predict(x).argmax(axis=1) == 1).mean() > 0.85 > (y == 1).mean()
    balanced = quick().fit(x, y, epochs=1, verbose=0, class_weight="balanced")
    assert len(balanced.history["loss"]) == 1
    with pytest.raises(ValueError, match=r"sample_weight: sample 3 has weight -1"):
        quick().fit(x, y, verbose=0, sample_weight=np.where(np.arange(len(x)) == 3, -1.0, 1.0))
    with pytest.raises(ValueError, match=r"class_weight: 7 is not one of the classes"):
        quick().fit(x, y, verbose=0, class_weight={7: 2.0})
    clf = gpu_mlp.MLPClassifier(hidden=[8], device="cpu", epochs=30, lr=0.2, class_weight={0: 0.0})
    assert (clf.fit(x, y).predict(x) == 1).mean() > 0.85
    clf = gpu_mlp.MLPClassifier(hidden=[8], device="cpu", epochs=30, lr=0.2)
    assert (clf.fit(x, y, sample_weight=(y == 1).astype(float)).predict(x) == 1).mean() > 0.85


def test_callbacks_see_the_fit_as_keras_callbacks_do(tmp_path):
    x, y = points()
    seen = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            seen.append(("begin", self.params["epochs"]))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(("epoch", epoch, sorted(logs)))

        def on_batch_end(self, batch, logs=None):
            seen.append(("batch", batch))

    schedule = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    checkpoint = ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}.safetensors"))
    history = quick().fit(x, y, epochs=3, validation_split=0.2, verbose=0, callbacks=[Recorder(), schedule, checkpoint])
    assert seen[0] == ("begin", 3)
    epochs = [s for s in seen if s[0] == "epoch"]
    assert [e[1] for e in epochs] == [0, 1, 2]
    assert epochs[0][2] == ["accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert any(s[0] == "batch" for s in seen)
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01.safetensors", "ckpt-02.safetensors", "ckpt-03.safetensors"]
    assert gpu_mlp.load(tmp_path / "ckpt-03.safetensors").predict(x[:3]).shape == (3, 2)


def test_early_stopping_and_stop_training():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    noise = rng.integers(0, 2, 200)
    model = gpu_mlp.MLP(hidden=[64], device="cpu", seed=1, lr=0.5)
    history = model.fit(x, noise, epochs=30, validation_split=0.3, verbose=0,
                        callbacks=[EarlyStopping(patience=2, restore_best_weights=True)])
    assert len(history.epoch) < 30 and history.weights.startswith("best epoch")
    with pytest.raises(ValueError, match="validation_split= or validation_data="):
        model.fit(x, noise, epochs=3, verbose=0, callbacks=[EarlyStopping(patience=2)])

    def stop(epoch, logs):
        model.stop_training = epoch == 1

    history = model.fit(x, noise, epochs=10, verbose=0, callbacks=[LambdaCallback(on_epoch_end=stop)])
    assert history.epoch == [0, 1]


def test_evaluate_and_predict_take_keras_arguments(capsys):
    model, x, y = fitted()
    np.testing.assert_array_equal(model.predict(x, batch_size=7, verbose=0), model.predict(x))
    assert model.evaluate(x, y, batch_size=16, verbose=0) == model.evaluate(x, y, verbose=0)
    capsys.readouterr()
    model.evaluate(x, y, verbose=1)
    assert "accuracy: " in capsys.readouterr().out
    with pytest.raises(ValueError, match="batch_size=0: expected a whole number ≥ 1"):
        model.predict(x, batch_size=0)
    with pytest.raises(TypeError, match=r"no compile\(\).*MLP\(optimizer='adam'"):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def test_sklearn_validation_scores():
    X, y = points()
    clf = gpu_mlp.MLPClassifier(hidden=[8], device="cpu", epochs=3, val_split=0.2).fit(X, y)
    assert len(clf.validation_scores_) == 3 and clf.best_validation_score_ == max(clf.validation_scores_)


# --- 10, 11, 12: keywords, errors in Python terms, numpy values ---------------------------------

@pytest.mark.parametrize("keyword, says", [
    ("sample_weight", "sample_weight is an argument of fit()"),
    ("steps_per_epoch", "gpu_mlp has no steps_per_epoch"),
    ("validation_split", "validation_split is an argument of fit()"),
    ("bach_size", "did you mean 'batch_size'"),
])
def test_unknown_keywords_say_what_gpu_mlp_has_instead(keyword, says):
    with pytest.raises(TypeError, match=says):
        gpu_mlp.MLP(**{keyword: 1})


def test_keras_and_sklearn_names_map_to_the_settings():
    x, y = points()
    model = gpu_mlp.MLP(learning_rate=0.05, hidden_layer_sizes=[4], random_state=3, device="cpu")
    assert model.get_config() == {"lr": 0.05, "hidden": [4], "seed": 3, "device": "cpu"}
    model.fit(x, y, epochs=1, verbose=0, shuffle=False)
    assert model.count_params() == 2 * 4 + 4 + 4 * 2 + 2
    with pytest.raises(TypeError, match="calls it lr="):
        gpu_mlp.MLPClassifier(learning_rate_init=0.1)


@pytest.mark.parametrize("settings, says", [
    ({"batch_size": -1}, r"^batch_size=-1: expected a whole number in 1..=65535$"),
    ({"batch_size": 2**64}, r"^batch_size=18446744073709551616: expected a whole number in 1..=65535$"),
    ({"epochs": 2.5}, r"^epochs=2.5: expected a whole number ≥ 1$"),
    ({"batch_size": 0}, r"^batch_size: must be ≥ 1, got 0"),
    ({"lr": "fast"}, r"^lr='fast': expected a finite number > 0, got the text \"fast\"$"),
    ({"optimizer": "adamx"}, r"optimizer='adamx': expected one of sgd, momentum, adam, adamw"),
    ({"learning_rate": -1.0}, r"^learning_rate: must be a finite number > 0"),
])
def test_bad_values_are_named_as_the_caller_wrote_them(settings, says):
    with pytest.raises(ValueError, match=says) as e:
        gpu_mlp.MLP(**settings)
    assert "command line" not in str(e.value) and "--" not in str(e.value)


def test_patience_without_validation_names_the_keywords():
    x, y = points()
    with pytest.raises(ValueError, match=r"^patience: .*give validation_split= or validation_data="):
        quick().fit(x, y, patience=1, verbose=0)


def test_numpy_values_are_values():
    from sklearn.model_selection import GridSearchCV

    X, y = points()
    model = gpu_mlp.MLP(hidden=np.array([8]), epochs=np.int64(2), lr=np.float32(0.1), device="cpu")
    assert model.fit(X, y, verbose=0, batch_size=np.int32(50)).params["steps"] == 6
    grid = GridSearchCV(gpu_mlp.MLPClassifier(device="cpu", hidden=[4]), {"epochs": np.arange(1, 3)}, cv=2)
    assert grid.fit(X, y).best_params_["epochs"] in (1, 2)


# --- 13: table errors name the caller's rows and columns ----------------------------------------

def test_table_errors_name_the_dataframe_row_and_column_not_a_temporary_file():
    X = pd.DataFrame({"island": ["Dream", "Biscoe", "Dream", "Biscoe"] * 10, "mass": np.arange(40.0)})
    y = np.array([0, 1] * 20)
    clf = gpu_mlp.MLPClassifier(hidden=[4], device="cpu", epochs=1).fit(X, y)
    new = pd.DataFrame({"island": ["Dream", "Atlantis"], "mass": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"^X: row 1, column `island`: category `Atlantis` was not seen") as e:
        clf.predict(new)
    assert "/tmp" not in str(e.value) and ".csv" not in str(e.value)
    gappy = X.assign(mass=np.where(np.arange(40) == 6, np.nan, X["mass"]))
    with pytest.raises(ValueError, match=r"missing='mean'") as e:
        gpu_mlp.MLPClassifier(hidden=[4], device="cpu", epochs=1).fit(gappy, y)
    assert "row 6" in str(e.value) and "mass" in str(e.value)


# --- 14: class names, dataset names, History.params ----------------------------------------------

def test_class_names_reach_reports_and_saved_runs(tmp_path):
    x, y = points()
    model = quick()
    model.fit(x, y, epochs=1, verbose=0, class_names=["cat", "dog"])
    assert set(model.evaluate(x, y, verbose=0)["per_class"]) == {"cat", "dog"}
    model.save(tmp_path / "run")
    assert gpu_mlp.load(tmp_path / "run").class_names == ["cat", "dog"]
    categorical = pd.Series(pd.Categorical.from_codes(y, ["small", "large"]))
    model.fit(x, categorical, epochs=1, verbose=0, reinitialize=True)
    assert model.class_names == ["small", "large"]
    assert gpu_mlp.datasets.fashion_mnist.class_names[0] == "T-shirt/top"
    assert gpu_mlp.datasets.mnist.class_names[3] == "3"


# --- 15: no loader noise in a notebook ------------------------------------------------------------

def test_importing_and_fitting_prints_no_xdg_runtime_dir_noise():
    script = ("import numpy as np, gpu_mlp\n"
              "x = np.random.default_rng(0).normal(size=(64, 2)).astype('float32')\n"
              "m = gpu_mlp.MLP(hidden=[4], device='gpu')\n"
              "m.fit(x, (x[:, 0] > 0).astype(int), epochs=1, verbose=0)\n"
              "print(m.device)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "NODEVICE_SELECT")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "adapter" in done.stderr:
        skip_unless_ci(f"no GPU adapter: {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr
    assert "XDG_RUNTIME_DIR" not in done.stderr, done.stderr


# --- 16: the confusion plot after evaluate ----------------------------------------------------------

def test_the_confusion_plot_comes_from_evaluate():
    model, x, y = fitted()
    with pytest.raises(ValueError, match=r"call evaluate\(x_test, y_test\) first"):
        model.plot("confusion")
    model.evaluate(x, y, verbose=0)
    assert model.plot("confusion")._repr_png_().startswith(b"\x89PNG")

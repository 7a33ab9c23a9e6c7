"""gpu_mlp.MLP as a Keras user calls it: settings as keywords, fit / evaluate / predict,
History, errors that name the argument, Ctrl-C, the GIL released while training, and the same
numbers as `gpu-mlp train` for the same settings and seed."""

import csv
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import gpu_mlp

from conftest import skip_unless_ci


def test_every_setting_is_a_keyword_with_the_declared_default():
    keys = [s["key"] for s in gpu_mlp.settings()]
    assert {"hidden", "activation", "optimizer", "lr", "epochs", "batch_size", "device", "seed"} <= set(keys)
    by_key = {s["key"]: s for s in gpu_mlp.settings()}
    assert by_key["batch_size"]["default"] == "128"
    assert by_key["lr"]["default"] == "0.1 for sgd and momentum, 0.001 for adam and adamw"
    assert by_key["optimizer"]["choices"] == ["sgd", "momentum", "adam", "adamw"]
    assert "batch_size = 128" in gpu_mlp.MLP().config_toml()


def test_fit_evaluate_predict_on_blobs(blobs):
    (x, y), (xt, yt) = blobs
    model = gpu_mlp.MLP(hidden=[16], device="cpu", seed=1)
    history = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.2, verbose=0)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = model.evaluate(xt, yt)
    assert result["accuracy"] > 0.9 and result["samples"] == 100
    assert len(result["confusion"]) == 2 and set(result["per_class"]) == {"0", "1"}
    probabilities = model.predict(xt[:5])
    assert probabilities.shape == (5, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.count_params() == 2 * 16 + 16 + 16 * 2 + 2


def test_string_labels_and_float64_inputs(blobs):
    (x, y), (xt, yt) = blobs
    names = np.array(["cat", "dog"])
    model = gpu_mlp.MLP(hidden=[8], device="cpu", seed=2)
    model.fit(x.astype(np.float64), names[y], epochs=2, verbose=0)
    assert list(model.classes_) == ["cat", "dog"]
    assert set(model.evaluate(xt, names[yt])["per_class"]) == {"cat", "dog"}


def test_images_of_any_shape_are_flattened(fashion):
    (x, y), _ = fashion
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    model = gpu_mlp.MLP(hidden=[16], device="cpu")
    model.fit(x[:500], y[:500], epochs=1, verbose=0)
    assert model.predict(x[:3]).shape == (3, 10)
    assert model.get_weights()[0].shape == (784, 16)


def test_the_gpu_trains_the_same_model(blobs):
    (x, y), (xt, yt) = blobs
    model = gpu_mlp.MLP(hidden=[16], device="gpu", seed=1)
    try:
        model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    except RuntimeError as e:
        skip_unless_ci(f"no GPU adapter: {e}")
    assert "cpu" not in model.device.split()[0]
    assert model.evaluate(xt, yt)["accuracy"] > 0.9


@pytest.mark.parametrize(
    "settings, says",
    [
        ({"lr": -1.0}, "lr"),
        ({"optimizer": "adamx"}, "optimizer"),
        ({"hidden": [64, 0]}, "hidden"),
        ({"batch_size": "many"}, "batch_size"),
    ],
)
def test_a_bad_setting_raises_value_error_naming_it(settings, says):
    with pytest.raises(ValueError, match=says):
        gpu_mlp.MLP(**settings)


def test_an_unknown_keyword_suggests_the_nearest():
    with pytest.raises(TypeError, match="did you mean 'batch_size'"):
        gpu_mlp.MLP(bach_size=32)


def test_bad_arrays_name_the_argument_and_the_shapes(blobs):
    (x, y), _ = blobs
    model = gpu_mlp.MLP(hidden=[4], device="cpu")
    with pytest.raises(ValueError, match=r"y: expected 400 labels .* got shape \(399,\)"):
        model.fit(x, y[:399], verbose=0)
    with pytest.raises(ValueError, match="x: expected uint8, float32 or float64"):
        model.fit(x.astype(str), y, verbose=0)
    with pytest.raises(ValueError, match="not been built"):
        model.predict(x)
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"x: expected 2 features per sample, got 3"):
        model.predict(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="label 7 is not one of the classes"):
        model.evaluate(x[:2], np.array([0, 7]))


def test_verbose_lines_go_to_python_stdout(blobs, capsys):
    (x, y), _ = blobs
    gpu_mlp.MLP(hidden=[4], device="cpu").fit(x, y, epochs=2, validation_split=0.25, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Epoch 1/2 - ") and "val_accuracy: " in lines[0]
    assert lines[1].startswith("Epoch 2/2 - ")
    gpu_mlp.MLP(hidden=[4], device="cpu").fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_the_gil_is_released_while_training(fashion):
    (x, y), _ = fashion
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.005)

    counter = threading.Thread(target=count)
    counter.start()
    start = time.monotonic()
    gpu_mlp.MLP(hidden=[256], device="cpu").fit(x[:20000], y[:20000], epochs=1, verbose=0)
    end = time.monotonic()
    done.set()
    counter.join()
    during = [t for t in ticks if start < t < end]
    # With the GIL held by fit the counter could not run at all until fit returned; released, it
    # ticks throughout (fewer than every 5 ms when training's threads fill the cores).
    assert len(during) >= 10 and max(during) - min(during) > 0.5 * (end - start), (len(during), end - start)


class _InterruptAt(gpu_mlp.callbacks.Callback):
    """Sends this process SIGINT (Ctrl-C) at a chosen point of a fit: deterministic, unlike a
    timer, so every window of a fit is tried on every run."""

    def __init__(self, when):
        super().__init__()
        self.when = when

    def _interrupt(self, point):
        if point == self.when:
            os.kill(os.getpid(), signal.SIGINT)

    def on_train_begin(self, logs=None):
        self._interrupt("train_begin")

    def on_batch_end(self, batch, logs=None):
        if batch >= 5:
            self._interrupt("batch")

    def on_epoch_end(self, epoch, logs=None):
        self._interrupt(f"epoch_end_{epoch}")


@pytest.mark.parametrize("when", ["train_begin", "batch", "epoch_end_0", "epoch_end_2"])
def test_ctrl_c_always_raises_and_keeps_the_weights(fashion, when):
    """Ctrl-C anywhere in a fit (before the first step, mid-epoch, at an epoch's end, at the
    last epoch's end while the plots and files are written) raises KeyboardInterrupt, and
    the model keeps the weights trained so far."""
    (x, y), (xt, yt) = fashion
    model = gpu_mlp.MLP(hidden=[64], device="cpu", seed=3)
    model.fit(x[:3000], y[:3000], epochs=1, verbose=0)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x[:6000], y[:6000], epochs=3, verbose=0, callbacks=[_InterruptAt(when)], log_every=2)
    assert time.monotonic() - start < 60
    assert model.evaluate(xt[:500], yt[:500], verbose=0)["accuracy"] > 0.5, "the weights trained so far are kept"


def test_ctrl_c_from_another_thread_stops_a_long_fit(fashion):
    (x, y), (xt, yt) = fashion
    model = gpu_mlp.MLP(hidden=[256], device="cpu", seed=3)
    started = threading.Event()
    trainer_says = gpu_mlp.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: started.set())
    threading.Thread(target=lambda: started.wait(60) and os.kill(os.getpid(), signal.SIGINT)).start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=50, verbose=0, callbacks=[trainer_says])
    assert time.monotonic() - start < 30, "stopped at a tick, not after 50 epochs"
    assert model.evaluate(xt[:500], yt[:500], verbose=0)["accuracy"] > 0.5, "the weights trained so far are kept"


def read_history(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_the_same_run_as_the_command_line(fashion, cli, tmp_path):
    """`gpu-mlp train` and `MLP.fit` with the same settings and seed: the same history (to the
    digits history.csv prints) and bit-identical weights."""
    from safetensors.numpy import load_file

    (x, y), (xt, yt) = fashion
    out = tmp_path / "run"
    subprocess.run(
        [str(cli), "train", "--dataset", "fashion", "--train-samples", "2000", "--hidden", "32", "--epochs", "2",
         "--val-split", "0.1", "--optimizer", "adam", "--device", "cpu", "--seed", "7", "--quiet", "--out", str(out)],
        check=True,
    )
    model = gpu_mlp.MLP(hidden=[32], optimizer="adam", device="cpu", seed=7)
    # The command line's --val-split: a seeded random 10%, the best epoch's weights restored.
    history = model.fit(x[:2000], y[:2000], epochs=2, val_split=0.1, restore_best_weights=True, test_data=(xt, yt),
                        verbose=0)
    rows = read_history(out / "history.csv")
    for column, key in [("train_loss", "loss"), ("train_accuracy", "accuracy"), ("val_loss", "val_loss"),
                        ("val_accuracy", "val_accuracy"), ("test_loss", "test_loss"),
                        ("test_accuracy", "test_accuracy")]:
        assert [r[column] for r in rows] == [f"{v:.6f}" for v in history.history[key]], column
    saved = load_file(str(out / "last.safetensors"))
    weights = model.get_weights()
    for layer in range(2):
        np.testing.assert_array_equal(weights[2 * layer], saved[f"layers.{layer}.weight"].T)
        np.testing.assert_array_equal(weights[2 * layer + 1], saved[f"layers.{layer}.bias"])


def test_save_writes_a_run_the_command_line_reads(blobs, cli, tmp_path):
    (x, y), (xt, yt) = blobs
    model = gpu_mlp.MLP(hidden=[8], device="cpu", seed=4)
    model.fit(x, y, epochs=2, test_data=(xt, yt), verbose=0)
    assert model.plot("loss")._repr_png_().startswith(b"\x89PNG")
    assert model.history.plot("accuracy")._repr_png_().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="no 'nope' plot"):
        model.plot("nope")
    run = tmp_path / "run"
    model.save(run)
    assert (run / "config.toml").is_file() and (run / "test.safetensors").is_file()
    assert "dataset" not in (run / "config.toml").read_text()
    with pytest.raises(ValueError, match="already holds files"):
        model.save(run)
    said = subprocess.run([str(cli), "eval", "--checkpoint", str(run), "--json"], check=True,
                          capture_output=True, text=True).stdout
    import json
    assert json.loads(said)["accuracy"] == pytest.approx(model.evaluate(xt, yt)["accuracy"])
    loaded = gpu_mlp.load(run)
    np.testing.assert_array_equal(loaded.predict(xt), model.predict(xt))
    assert loaded.history.history["loss"] == model.history.history["loss"]
    resumed = subprocess.run([str(cli), "train", "--resume", str(run)], capture_output=True, text=True)
    assert resumed.returncode == 2 and "arrays from Python" in resumed.stderr


def test_load_reads_a_command_line_run(fashion, cli, tmp_path):
    (_, _), (xt, yt) = fashion
    out = tmp_path / "run"
    subprocess.run([str(cli), "train", "--dataset", "fashion", "--train-samples", "1000", "--hidden", "16",
                    "--epochs", "1", "--device", "cpu", "--quiet", "--out", str(out)], check=True)
    model = gpu_mlp.load(out)
    assert model.classes_[0] == "T-shirt/top"
    said = subprocess.run([str(cli), "eval", "--checkpoint", str(out), "--json"], check=True,
                          capture_output=True, text=True).stdout
    import json
    assert model.evaluate(xt, yt)["accuracy"] == pytest.approx(json.loads(said)["accuracy"])


def test_diagnostics_findings_explain_and_the_boundary(blobs):
    (x, y), (xt, yt) = blobs
    model = gpu_mlp.MLP(hidden=[8], device="cpu", seed=4)
    history = model.fit(x, y, epochs=2, test_data=(xt, yt), verbose=0)
    assert len(history.diagnostics) == 2 and len(history.diagnostics[0]) == 2
    assert {"weight_grad_norm", "update_ratio", "dead_fraction"} <= set(history.diagnostics[0][0])
    assert model.findings == []
    assert model.boundary()._repr_png_().startswith(b"\x89PNG")
    # Labels that are noise: the network cannot beat guessing, and the findings say so.
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 2, 400)
    lost = gpu_mlp.MLP(hidden=[8], device="cpu", seed=4)
    lost.fit(x, noise, epochs=2, test_data=(xt, rng.integers(0, 2, 100)), verbose=0)
    assert any("not learning" in f for f in lost.findings), lost.findings
    text = gpu_mlp.explain(dataset="blobs", hidden=[4], batch_size=8, device="cpu")
    assert "softmax" in text and "optimizer_step" in text, text[:500]
    with pytest.raises(TypeError, match="did you mean 'hidden'"):
        gpu_mlp.explain(hiden=[4])


def test_a_pickled_model_predicts_the_same(blobs):
    import pickle

    (x, y), (xt, _) = blobs
    model = gpu_mlp.MLP(hidden=[8], device="cpu", seed=6)
    model.fit(x, y, epochs=1, verbose=0)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(xt), model.predict(xt))
    assert again.history.history == model.history.history and list(again.classes_) == [0, 1]


def test_a_loaded_model_refits_with_its_runs_settings(blobs, tmp_path):
    (x, y), _ = blobs
    model = gpu_mlp.MLP(hidden=[6], device="cpu", seed=6)
    model.fit(x, y, epochs=1, verbose=0)
    model.fit(x, y, verbose=0)
    assert len(model.history.epoch) == 5, "a setting given to one fit is for that fit only"
    model.save(tmp_path / "run")
    loaded = gpu_mlp.load(tmp_path / "run")
    loaded.fit(x, y, epochs=2, verbose=0)
    assert loaded.count_params() == 2 * 6 + 6 + 6 * 2 + 2, "the run's hidden=[6], not the default"

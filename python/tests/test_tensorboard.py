"""TensorBoard reads what gpu-mlp writes: checked with TensorBoard's own readers (the event
accumulator for scalars, histograms and images; the HParams plugin's handlers for a sweep)."""

import csv
import math
import subprocess

import pytest

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

EVERYTHING = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}


def scalar_tag(column):
    """history.csv's column `layer<N>_<name>` is `layer<N>/<name>`, any other is `epoch/<name>`."""
    head, _, rest = column.partition("_")
    if head.startswith("layer") and head[5:].isdigit():
        return f"{head}/{rest}"
    return f"epoch/{column}"


def printed_precision(text):
    """Half a unit in the last digit history.csv printed (`0.123456`, `1.234567e-2`, `0.1`)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def same_number(logged, text):
    """An f32 TensorBoard scalar equals history.csv's cell: both roundings allowed for."""
    return abs(logged - float(text)) <= printed_precision(text) + 1e-6 * abs(float(text))


def events(run_dir):
    accumulator = EventAccumulator(str(run_dir), size_guidance=EVERYTHING)
    accumulator.Reload()
    return accumulator


def train(cli, out, *flags):
    subprocess.run([str(cli), "train", "--out", str(out), "--quiet", *flags], check=True, capture_output=True)


@pytest.fixture(scope="module")
def circle_run(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("tb") / "circle"
    train(cli, out, "--dataset", "circle", "--hidden", "16", "--epochs", "3", "--val-split", "0.2",
          "--boundary-every", "1", "--device", "cpu", "--seed", "5")
    return out


def test_every_history_column_is_a_scalar_equal_to_history_csv(circle_run):
    board = events(circle_run)
    with open(circle_run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    checked = 0
    for column in rows[0]:
        if column == "epoch":
            continue
        cells = [(int(r["epoch"]), r[column]) for r in rows if r[column] != ""]
        tag = scalar_tag(column)
        if not cells:
            assert tag not in board.Tags()["scalars"], f"{tag} has no values in history.csv"
            continue
        logged = {e.step: e.value for e in board.Scalars(tag)}
        assert sorted(logged) == [epoch for epoch, _ in cells], tag
        for epoch, text in cells:
            # TensorBoard keeps f32; history.csv rounds to the digits it prints.
            assert same_number(logged[epoch], text), (tag, epoch, text, logged[epoch])
            checked += 1
    assert checked >= 3 * 20


def test_ticks_histograms_and_images(circle_run):
    board = events(circle_run)
    tags = board.Tags()
    # 3 epochs of 5 batches (640 training points, batch 128), a tick per batch.
    loss = board.Scalars("batch/train_loss")
    assert [e.step for e in loss] == list(range(1, 16))
    assert all(math.isfinite(e.value) for e in loss)
    for layer in (1, 2):
        for name in ("weight", "bias", "weight_grad", "bias_grad"):
            histograms = board.Histograms(f"layer{layer}/{name}")
            assert [h.step for h in histograms] == [1, 2, 3]
    weights = board.Histograms("layer1/weight")[-1].histogram_value
    assert weights.num == 2 * 16 and sum(weights.bucket) == weights.num
    assert set(tags["images"]) == {"confusion_matrix", "decision_boundary"}
    frames = board.Images("decision_boundary")
    assert [f.step for f in frames] == [1, 2, 3]
    assert frames[0].encoded_image_string.startswith(b"\x89PNG")
    confusion = board.Images("confusion_matrix")
    assert len(confusion) == 1 and confusion[0].width > 100


def test_the_run_is_an_hparams_session_with_its_settings(circle_run):
    board = events(circle_run)
    content = board.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["hidden"].string_value == "16"
    assert hparams["val_split"].number_value == 0.2
    assert hparams["dataset"].string_value == "circle"
    end = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_end_info"])
    assert end.session_end_info.status == 1  # STATUS_SUCCESS


def test_a_sweep_shows_each_run_with_its_settings_and_final_metrics_in_hparams(cli, tmp_path):
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups

    sweep = tmp_path / "sweep"
    train(cli, sweep, "--dataset", "circle", "--epochs", "2", "--device", "cpu", "--val-split", "0.2",
          "--sweep", "lr=0.1,0.01", "--sweep", "hidden=8,16:8")
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(sweep))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(sweep))
    tb = backend_context.Context(base_plugin.TBContext(logdir=str(sweep), data_provider=provider, multiplexer=multiplexer))
    ctx = context.RequestContext()
    experiment = get_experiment.Handler(ctx, tb, "", api_pb2.GetExperimentRequest()).run()
    assert sorted(h.name for h in experiment.hparam_infos) == ["hidden", "lr"]
    metrics = [m.name.tag for m in experiment.metric_infos]
    assert "epoch/val_accuracy" in metrics and "epoch/test_accuracy" in metrics
    request = api_pb2.ListSessionGroupsRequest(start_index=0, slice_size=10, allowed_statuses=[api_pb2.STATUS_SUCCESS])
    for info in experiment.hparam_infos:
        request.col_params.add(hparam=info.name)
    for info in experiment.metric_infos:
        request.col_params.add(metric=info.name)
    groups = list_session_groups.Handler(ctx, tb, "", request).run().session_groups
    assert len(groups) == 4
    for group in groups:
        run_dir = sweep / group.name
        with open(run_dir / "history.csv") as f:
            last = list(csv.DictReader(f))[-1]
        hidden = group.hparams["hidden"].string_value
        assert group.name == f"lr={group.hparams['lr'].number_value:g}_hidden={hidden.replace(',', ':')}"
        final = {m.name.tag: m.value for m in group.metric_values}
        for column in ("train_loss", "val_accuracy", "test_accuracy"):
            text = last[column]
            assert same_number(final[f"epoch/{column}"], text), (group.name, column)


def test_a_running_job_shows_up_and_a_killed_one_leaves_a_readable_file(cli, tmp_path):
    import signal
    import time

    out = tmp_path / "killed"
    job = subprocess.Popen([str(cli), "train", "--out", str(out), "--quiet", "--dataset", "circle", "--samples", "50000",
                            "--hidden", "64,64", "--epochs", "1000", "--device", "cpu"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        ticks = []
        while time.monotonic() < deadline and len(ticks) < 30:
            time.sleep(0.2)
            if list(out.glob("events.out.tfevents.*")):
                ticks = events(out).Tags()["scalars"] and events(out).Scalars("batch/train_loss")
        assert len(ticks) >= 30, "the running job's ticks never showed up"
        assert job.poll() is None, "the job ended before it was killed"
    finally:
        job.send_signal(signal.SIGKILL)
        job.wait()
    board = events(out)
    steps = [e.step for e in board.Scalars("batch/train_loss")]
    assert len(steps) >= 30 and steps == sorted(steps)
    # Resumed for one more epoch: what the killed process logged past its last checkpoint is
    # logged again, and TensorBoard keeps only the new values (no step twice).
    import json
    done = json.loads((out / "meta.json").read_text())["epoch"]
    subprocess.run([str(cli), "train", "--resume", str(out), "--epochs", str(done + 1), "--quiet"],
                   check=True, capture_output=True)
    board = events(out)
    steps = [e.step for e in board.Scalars("batch/train_loss")]
    assert steps == sorted(set(steps)), "a step logged twice"
    assert [e.step for e in board.Scalars("epoch/train_loss")] == list(range(1, done + 2))
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    last = {e.step: e.value for e in board.Scalars("epoch/train_loss")}
    assert same_number(last[done + 1], rows[-1]["train_loss"])


def test_a_notebook_fit_with_log_dir_shows_in_tensorboard(blobs, tmp_path):
    import gpu_mlp

    (x, y), (xt, yt) = blobs
    model = gpu_mlp.MLP(hidden=[8], device="cpu", seed=2)
    history = model.fit(x, y, epochs=2, test_data=(xt, yt), verbose=0, log_dir=tmp_path / "runs")
    (run_dir,) = list((tmp_path / "runs").iterdir())
    assert run_dir.name.endswith("-arrays")
    board = events(run_dir)
    logged = [e.value for e in board.Scalars("epoch/test_accuracy")]
    assert len(logged) == 2
    for value, expected in zip(logged, history.history["test_accuracy"]):
        assert abs(value - expected) < 1e-6

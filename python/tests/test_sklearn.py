"""gpu_mlp.MLPClassifier under scikit-learn's contract: check_estimator, pandas tables with
numeric, categorical and missing values encoded as `gpu-mlp train --data` encodes them, pickle
and clone, GridSearchCV in parallel processes and on a Dask cluster."""

import csv
import pickle
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import check_estimator

import gpu_mlp

# Checks scikit-learn skips by itself here, and why.
EXPECTED_SKIPS = {"check_array_api_input": "needs SCIPY_ARRAY_API=1 and an array-API library"}


def quick(**settings):
    return gpu_mlp.MLPClassifier(device="cpu", hidden=[16], epochs=20, **settings)


# Checks that cannot pass, and why (scikit-learn's own MLPClassifier fails the same one).
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": "mini-batch SGD over shuffled batches: a sample of "
    "weight 2 is not the same as the sample twice (another batch composition, another trajectory)",
}


def test_check_estimator_passes():
    results = check_estimator(quick(), on_fail=None, expected_failed_checks=EXPECTED_FAILURES)
    failed = {r["check_name"]: str(r["exception"]) for r in results if r["status"] == "failed"}
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
    assert failed == {}
    assert xfailed <= set(EXPECTED_FAILURES)
    assert skipped <= set(EXPECTED_SKIPS), skipped - set(EXPECTED_SKIPS)


def test_every_setting_but_the_data_source_is_a_parameter():
    params = gpu_mlp.MLPClassifier().get_params()
    keys = {s["key"] for s in gpu_mlp.settings()}
    # scikit-learn's own two, then the settings.
    assert set(params) == {"warm_start", "class_weight"} | keys - {
        "dataset", "data_dir", "samples", "noise", "strict_data", "data", "target", "test_data", "test_split"}
    assert {"epochs", "missing", "categorical", "hidden", "lr"} <= set(params)
    assert params.pop("warm_start") is False
    assert all(v is None for v in params.values()), "None: the declared default"


def penguins_like():
    """A small table with a numeric column with gaps, a text column and a numeric-coded category."""
    rng = np.random.default_rng(0)
    n = 120
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], n)
    mass = np.where(species == "Gentoo", 5000.0, 3700.0) + rng.normal(0, 300, n)
    mass[::17] = np.nan
    island = np.where(species == "Gentoo", "Biscoe", rng.choice(["Dream", "Torgersen"], n))
    year = rng.choice([2007, 2008, 2009], n)
    return pd.DataFrame({"body_mass_g": mass, "island": island, "year": year}), species


def test_a_dataframe_trains_as_the_command_line_trains_its_csv(cli, tmp_path):
    X, y = penguins_like()
    table = X.assign(species=y)
    path = tmp_path / "penguins.csv"
    table.to_csv(path, index=False, na_rep="")
    out = tmp_path / "run"
    subprocess.run(
        [str(cli), "train", "--data", str(path), "--target", "species", "--test-split", "0", "--missing", "mean",
         "--categorical", "year", "--hidden", "8", "--epochs", "3", "--device", "cpu", "--seed", "5", "--quiet",
         "--out", str(out)],
        check=True,
    )
    clf = gpu_mlp.MLPClassifier(missing="mean", categorical=["year"], hidden=[8], epochs=3, device="cpu", seed=5)
    clf.fit(X, y)
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["train_loss"] for r in rows] == [f"{v:.6f}" for v in clf.history_.history["loss"]]
    assert rows[0]["test_loss"] == "", "no test split"
    assert list(clf.classes_) == ["Adelie", "Chinstrap", "Gentoo"]
    assert clf.score(X, y) > 0.6
    assert list(clf.feature_names_in_) == ["body_mass_g", "island", "year"]


def test_missing_values_are_refused_unless_filled():
    X, y = penguins_like()
    with pytest.raises(ValueError, match="NaN"):
        quick().fit(X, y)


def test_pickle_and_clone_keep_what_they_should():
    X, y = load_iris(return_X_y=True)
    clf = quick(seed=2).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "model_")


def test_pipeline_and_cross_validation():
    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("double", FunctionTransformer(lambda x: 2 * x)), ("mlp", quick(lr=0.05))])
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.6


GRID = {"hidden": [(8,), (16,)], "lr": [0.1, 0.05]}


def grid_search(n_jobs):
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(gpu_mlp.MLPClassifier(device="cpu", epochs=10, seed=3), GRID, cv=3, n_jobs=n_jobs)
    return search.fit(X, y).cv_results_["mean_test_score"]


def test_grid_search_in_parallel_processes_scores_as_sequentially():
    np.testing.assert_array_equal(grid_search(2), grid_search(1))


def test_grid_search_on_a_dask_cluster_scores_as_sequentially():
    import joblib
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
        with joblib.parallel_backend("dask"):
            on_dask = grid_search(-1)
    np.testing.assert_array_equal(on_dask, grid_search(1))

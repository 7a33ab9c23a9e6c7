"""The table hand-off's cost: `MLPClassifier.fit` on a numeric pandas DataFrame (20,000 rows ×
20 columns, handed column by column to the table codec) against `MLP.fit` on the same values
as a float32 array, the same network and settings, alternating, ROUNDS times; the median wall
time of each and their ratio (the overhead of the DataFrame path). scikit-learn's own
MLPClassifier on the same table, same width, epochs and batch, is timed beside them for
reference.

    python python/benches/table_fit.py [--rounds 5] [--device cpu] [--epochs 10]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd

import gpu_mlp

ROWS, COLUMNS = 20_000, 20


def table(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(ROWS, COLUMNS))
    y = (x[:, :3].sum(axis=1) + 0.5 * rng.normal(size=ROWS) > 0).astype(int)
    return pd.DataFrame(x, columns=[f"c{i}" for i in range(COLUMNS)]), y


def timed(fit):
    start = time.perf_counter()
    fit()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    frame, y = table()
    array = frame.to_numpy(dtype=np.float32)
    settings = dict(hidden=[64], epochs=args.epochs, batch_size=128, device=args.device, seed=1)
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    runs = {
        "MLP.fit (float32 array)": lambda: gpu_mlp.MLP(**settings).fit(array, y, verbose=0),
        "MLPClassifier.fit (DataFrame)": lambda: gpu_mlp.MLPClassifier(**settings).fit(frame, y),
        "scikit-learn MLPClassifier.fit": lambda: SklearnMLP(
            hidden_layer_sizes=(64,), max_iter=args.epochs, batch_size=128, solver="sgd", learning_rate_init=0.1,
            random_state=1).fit(frame, y),
    }
    times = {name: [] for name in runs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(args.rounds):
            for name, fit in runs.items():
                times[name].append(timed(fit))
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["MLP.fit (float32 array)"]
    print(f"{ROWS} x {COLUMNS} numeric table, hidden 64, {args.epochs} epochs, batch 128, device {args.device}, "
          f"median of {args.rounds} alternating rounds:")
    for name, median in medians.items():
        print(f"  {name:32s} {median:7.3f} s   {median / base:5.2f}x MLP.fit")


if __name__ == "__main__":
    main()

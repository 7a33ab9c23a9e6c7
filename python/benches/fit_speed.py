"""Python's `MLP.fit` against `gpu-mlp train` on the same configuration, side by side: both
train Fashion-MNIST 784-512-10 (batch 128, SGD lr 0.1, seed 42) for EPOCHS epochs, ROUNDS
times alternating, and the median of every epoch's training samples/s (history's
samples_per_second: the training steps alone, as the command line reports them) is compared.

    python python/benches/fit_speed.py [--device cpu|gpu] [--rounds 3] [--epochs 2]
"""

import argparse
import csv
import pathlib
import statistics
import subprocess
import tempfile

import gpu_mlp

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cli_rates(device, epochs):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [str(ROOT / "target/release/gpu-mlp"), "train", "--dataset", "fashion", "--hidden", "512", "--epochs",
             str(epochs), "--device", device, "--quiet", "--out", f"{tmp}/run"],
            check=True, capture_output=True,
        )
        with open(f"{tmp}/run/history.csv") as f:
            return [float(r["samples_per_second"]) for r in csv.DictReader(f)]


def python_rates(device, epochs, data):
    (x, y), (xt, yt) = data
    model = gpu_mlp.MLP(hidden=[512], device=device)
    return model.fit(x, y, epochs=epochs, test_data=(xt, yt), verbose=0).samples_per_second


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    data = gpu_mlp.datasets.fashion_mnist.load_data()
    cli, python = [], []
    for _ in range(args.rounds):
        cli += cli_rates(args.device, args.epochs)
        python += python_rates(args.device, args.epochs, data)
    c, p = statistics.median(cli), statistics.median(python)
    print(f"{args.device}: gpu-mlp train {c:,.0f} samples/s, MLP.fit {p:,.0f} samples/s "
          f"(median of {len(cli)} epochs each): Python/CLI = {p / c:.3f}")


if __name__ == "__main__":
    main()

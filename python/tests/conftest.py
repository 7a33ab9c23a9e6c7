"""Shared fixtures: small data that trains in a second, and the gpu-mlp binary built by cargo."""

import os
import pathlib
import subprocess

import numpy as np
import pytest

import gpu_mlp

ROOT = pathlib.Path(__file__).resolve().parents[2]


def skip_unless_ci(why):
    """Under CI (CI=true) a missing prerequisite fails the test; elsewhere it is skipped, saying why."""
    if os.environ.get("CI") in ("true", "1"):
        pytest.fail(f"CI must run this test, but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def blobs():
    """Two Gaussian clouds in 2-D, 400 train and 100 test points, labels 0/1."""
    rng = np.random.default_rng(3)
    def points(n):
        y = rng.integers(0, 2, n)
        x = rng.normal(size=(n, 2)).astype(np.float32) + np.where(y[:, None] == 1, 2.0, -2.0).astype(np.float32)
        return x, y
    return points(400), points(100)


@pytest.fixture(scope="session")
def fashion():
    try:
        return gpu_mlp.datasets.fashion_mnist.load_data()
    except (ValueError, RuntimeError) as e:
        skip_unless_ci(f"Fashion-MNIST is not installed: {e}")


@pytest.fixture(scope="session")
def cli():
    """The path of the gpu-mlp binary (built by `cargo build --release` if it is missing)."""
    binary = ROOT / "target" / "release" / "gpu-mlp"
    if not binary.exists():
        subprocess.run(["cargo", "build", "--release", "--bin", "gpu-mlp"], cwd=ROOT, check=True)
    return binary

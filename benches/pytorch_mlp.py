"""PyTorch side of the comparison in BENCHMARKS.md (not a project dependency).

The same job as `gpu-mlp train --device cpu`: 784-512-10 ReLU MLP, softmax cross-entropy, plain
SGD lr 0.1, batch 128, Fashion-MNIST pixels scaled to [0, 1], shuffled every epoch. Prints one line
per epoch with the seconds spent in training steps and samples/s, then the test accuracy.

    pip install torch numpy
    python3 benches/pytorch_mlp.py --threads 2 --epochs 3
"""

import argparse
import gzip
import time

import numpy as np
import torch


def read_idx(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)

    def split(prefix):
        x = read_idx(f"{args.data}/{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 784)
        y = read_idx(f"{args.data}/{prefix}-labels-idx1-ubyte.gz", 8)
        return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))

    x_train, y_train = split("train")
    x_test, y_test = split("t10k")
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x_train.shape[0]
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(n)
        start = time.perf_counter()
        for i in range(0, n, 128):
            idx = order[i : i + 128]
            opt.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        with torch.no_grad():
            acc = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch} threads {args.threads}: {seconds:.2f} s, {n / seconds:.0f} samples/s, test acc {100 * acc:.2f}%")


if __name__ == "__main__":
    main()

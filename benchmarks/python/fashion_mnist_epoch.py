#!/usr/bin/python3
"""Train the 784-256-128-10 network on Fashion-MNIST in PyTorch, from Kiln's initial weights.

The same settings as dev.kiln.benchmarks.FashionMnistEpoch: batch 128, Adam with lr 1e-3,
a new shuffled order every epoch, the last partial batch dropped, pixels divided by 255.
Prints and writes the seconds of each epoch and the test accuracy at the end.

Run: /usr/bin/python3 benchmarks/python/fashion_mnist_epoch.py DATA_DIR INIT_WEIGHTS RESULT_JSON
       [--epochs 2] [--threads 1]
"""

import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn

from kiln_weights import FashionMlp, load_model, set_threads

BATCH = 128
ADAM_LR = 1e-3
SHUFFLE_SEED = 1


def read_idx(path):
    """Return an IDX file of unsigned bytes as a numpy array of its shape."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def read_split(data_dir, split):
    images = read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", help="folder with the four Fashion-MNIST IDX files")
    parser.add_argument("init_weights", help="initial weights written by FashionMnistEpoch")
    parser.add_argument("result_json", help="where to write the result")
    parser.add_argument("--epochs", type=int, default=2, help="number of epochs")
    parser.add_argument("--threads", type=int, default=1, help="thread count for PyTorch and OpenBLAS")
    args = parser.parse_args()

    set_threads(args.threads)
    train_x, train_y = read_split(args.data_dir, "train")
    test_x, test_y = read_split(args.data_dir, "t10k")
    model = load_model(FashionMlp(), args.init_weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LR)
    generator = torch.Generator().manual_seed(SHUFFLE_SEED)
    steps = len(train_x) // BATCH

    seconds, mean_losses = [], []
    for epoch in range(args.epochs):
        loss_sum = 0.0
        start = time.perf_counter()
        order = torch.randperm(len(train_x), generator=generator)
        for step in range(steps):
            rows = order[step * BATCH:(step + 1) * BATCH]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(train_x[rows]), train_y[rows])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
        seconds.append(time.perf_counter() - start)
        mean_losses.append(loss_sum / steps)
        print(f"epoch {epoch + 1}: {seconds[-1]:.2f} s, mean training loss {mean_losses[-1]:.4f}")

    with torch.no_grad():
        logits = model(test_x)
        test_loss = nn.functional.cross_entropy(logits, test_y).item()
        accuracy = (logits.argmax(dim=1) == test_y).float().mean().item()
    print(f"test accuracy after {args.epochs} epochs: {accuracy:.4f}")
    with open(args.result_json, "w") as out:
        json.dump({"engine": "torch", "threads": args.threads, "batch": BATCH, "epochs": args.epochs,
                   "steps_per_epoch": steps, "epoch_seconds": seconds, "mean_losses": mean_losses,
                   "test_loss": test_loss, "test_accuracy": accuracy}, out)
        out.write("\n")


if __name__ == "__main__":
    main()

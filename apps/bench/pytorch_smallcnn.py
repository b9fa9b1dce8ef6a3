#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch-in-Python counterpart of the C++ trainer's SmallCNN epoch, for bench_training.

Same architecture (apps/fmnist/src/models.cpp), batch size, optimizer (Adam, lr 1e-3), thread counts and
training loop as apps/fmnist/src/trainer.cpp (zero_grad, forward, cross entropy, backward, step, then the
running loss and accuracy read back per batch). The images are read from the same IDX files and normalised
with the same mean/std before any timing. Which 48k of the 60k training images form the split differs (a
seeded torch permutation here, the trainer's own shuffle there): that does not change the cost of an epoch.

Prints one JSON object on stdout: versions, settings and, per repetition, the epoch's seconds and images/s.
Run with Debian's /usr/bin/python3 and python3-torch (the same libtorch 1.13.1 the C++ build links).
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

# apps/fmnist/include/fmnist/fmnist_data.h: kFmnistPixelMean, kFmnistPixelStd, kFmnistDefaultDir.
PIXEL_MEAN = 0.2860406
PIXEL_STD = 0.3530242
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
WARMUP_BATCHES = 5


def read_idx(path, magic):
    """The payload of an IDX file (gzip'd or not) after its header, and its dimensions."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    found, = struct.unpack(">I", data[:4])
    if found != magic:
        sys.exit(f"pytorch_smallcnn.py: {path}: IDX magic {found:#x}, expected {magic:#x}")
    ndims = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    return data[4 + 4 * ndims:], dims


def load_training_split(data_dir, fraction, seed):
    """Normalised float images N x 1 x 28 x 28 and int64 labels of round(60000 * fraction) training images."""
    pixels, (n, rows, cols) = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), 0x803)
    labels, (n_labels,) = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"), 0x801)
    if n_labels != n:
        sys.exit(f"pytorch_smallcnn.py: {n} images but {n_labels} labels in {data_dir}")
    images = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).view(n, 1, rows, cols)
    images = (images.float() / 255.0 - PIXEL_MEAN) / PIXEL_STD
    labels = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    keep = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: round(n * fraction)]
    return images.index_select(0, keep).contiguous(), labels.index_select(0, keep).contiguous()


class Classifier(nn.Module):
    """SmallCNN as the C++ ClassifierImpl builds it: backbone (two conv-bn-relu-pool blocks, 3136 features)
    then head (Linear-ReLU-Dropout-Linear). PyTorch's default init is LibTorch's."""

    def __init__(self, dropout=0.25, classes=10):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten())
        self.head = nn.Sequential(nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, classes))

    def forward(self, x):
        return self.head(self.backbone(x))


def train_epoch(model, optimizer, images, labels, batch_size, seed, batches=None):
    """One epoch as the C++ trainer runs it; returns (seconds, images, mean loss, accuracy)."""
    start = time.perf_counter()
    order = torch.randperm(labels.size(0), generator=torch.Generator().manual_seed(seed))
    model.train()
    loss_sum, correct, count = 0.0, 0, 0
    for i, begin in enumerate(range(0, labels.size(0), batch_size)):
        if batches is not None and i >= batches:
            break
        index = order[begin:begin + batch_size]
        x, y = images.index_select(0, index), labels.index_select(0, index)
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        n = y.size(0)
        loss_sum += loss.detach().item() * n
        correct += logits.detach().argmax(1).eq(y).sum().item()
        count += n
    return time.perf_counter() - start, count, loss_sum / max(count, 1), correct / max(count, 1)


def fresh_model(seed, lr):
    torch.manual_seed(seed)
    model = Classifier()
    return model, torch.optim.Adam(model.parameters(), lr=lr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="intra-op and inter-op threads (default 2)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train-val-split", type=float, default=0.8)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training images (0 = all)")
    parser.add_argument("--reps", type=int, default=1, help="epochs to time, each with a fresh model")
    parser.add_argument("--data-dir", default=os.environ.get("MLFLOW_CPP_FMNIST_DIR") or DEFAULT_DATA_DIR)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    load_start = time.perf_counter()
    images, labels = load_training_split(args.data_dir, args.train_val_split, args.seed)
    if 0 < args.limit < labels.size(0):
        images, labels = images[: args.limit], labels[: args.limit]
    load_seconds = time.perf_counter() - load_start

    # First batches of a process pay one-time costs (thread pool start, allocator growth): not an epoch's.
    model, optimizer = fresh_model(args.seed, args.lr)
    train_epoch(model, optimizer, images, labels, args.batch_size, args.seed, batches=WARMUP_BATCHES)

    reps = []
    for rep in range(args.reps):
        model, optimizer = fresh_model(args.seed, args.lr)
        seconds, count, loss, accuracy = train_epoch(model, optimizer, images, labels, args.batch_size,
                                                     args.seed + 1 + rep)
        reps.append({"seconds": seconds, "images": count, "images_per_second": count / seconds,
                     "train_loss": loss, "train_accuracy": accuracy})
    json.dump({"torch_version": torch.__version__, "python_version": sys.version.split()[0],
               "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
               "batch_size": args.batch_size, "images": labels.size(0), "load_seconds": load_seconds,
               "warmup_batches": WARMUP_BATCHES, "parallel_info": torch.__config__.parallel_info(),
               "reps": reps}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

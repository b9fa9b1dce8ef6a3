#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fashion-MNIST test images as the servers' payload: {"inputs": N x 1 x 28 x 28 floats in the training
scale (pixel/255)}, the body of POST /invocations. Run it to write a body file; import it for the images."""
import argparse
import gzip
import json
import os
import struct
import sys

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"  # fmnist/fmnist_data.h: kFmnistDefaultDir


def data_dir():
    return os.environ.get("MLFLOW_CPP_FMNIST_DIR") or DEFAULT_DIR


def _idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if struct.unpack(">I", data[:4])[0] != magic:
        raise ValueError(f"{path}: not an IDX file of the expected kind (magic {magic:#x})")
    return data


def test_images(count, offset=0, directory=None):
    """`count` test images from `offset` as nested lists (1 x 28 x 28 each, pixel/255) and their labels."""
    d = directory or data_dir()
    images = _idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"), 0x803)
    labels = _idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), 0x801)
    n = struct.unpack(">I", images[4:8])[0]
    if offset < 0 or count < 1 or offset + count > n:
        raise ValueError(f"images {offset}..{offset + count - 1} are outside the test set's {n}")
    out = []
    for i in range(offset, offset + count):
        px = images[16 + i * 784:16 + (i + 1) * 784]
        out.append([[[p / 255.0 for p in px[r * 28:(r + 1) * 28]] for r in range(28)]])
    return out, list(labels[8 + offset:8 + offset + count])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=1, help="images per request (default 1)")
    ap.add_argument("--offset", type=int, default=0, help="first test image (default 0)")
    ap.add_argument("--out", required=True, help="file to write the JSON body to")
    a = ap.parse_args()
    images, _ = test_images(a.images, a.offset)
    with open(a.out, "w") as f:
        json.dump({"inputs": images}, f, separators=(",", ":"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

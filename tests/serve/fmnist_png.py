#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes one Fashion-MNIST test image as a 28x28 greyscale PNG and prints its class name.

Standard library only (the IDX files are gzip-compressed; PNG is zlib with a few chunks), so the
browser tests need nothing beyond Debian's python3. Test image 0 is an ankle boot.
"""
import argparse
import gzip
import os
import struct
import sys
import zlib

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
# As the C++ apps (fmnist_data_dir): $MLFLOW_CPP_FMNIST_DIR, else Debian's dataset-fashion-mnist.
DEFAULT_DIR = os.environ.get("MLFLOW_CPP_FMNIST_DIR") or "/usr/share/datasets/fashion-mnist"


def read_idx(path, magic):
    """(dimensions, payload) of a gzip-compressed IDX file whose magic must be `magic`."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    found, count = struct.unpack(">II", data[:8])
    if found != magic:
        raise ValueError(f"{path}: IDX magic {found:#x}, expected {magic:#x}")
    dims = [count]
    if magic == 0x803:
        dims += struct.unpack(">II", data[8:16])
    offset = 8 + 4 * (len(dims) - 1)
    return dims, data[offset:]


def test_image(data_dir, index):
    """(28*28 grey bytes, label) of test image `index`."""
    dims, pixels = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"), 0x803)
    _, labels = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"), 0x801)
    count, rows, cols = dims
    if not 0 <= index < count:
        raise ValueError(f"test image index {index} is outside 0..{count - 1}")
    size = rows * cols
    return pixels[index * size:(index + 1) * size], labels[index], (cols, rows)


def png(grey, width, height):
    """An 8-bit greyscale PNG of `grey` (row-major bytes)."""
    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload +
                struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + grey[y * width:(y + 1) * width] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=int, default=0, help="test image index (default 0)")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--data-dir", default=DEFAULT_DIR,
                        help="the IDX files (default: $MLFLOW_CPP_FMNIST_DIR, else "
                        "/usr/share/datasets/fashion-mnist)")
    args = parser.parse_args()
    try:
        grey, label, (width, height) = test_image(args.data_dir, args.index)
    except (OSError, ValueError) as e:
        print(f"fmnist_png: {e}", file=sys.stderr)
        return 1
    with open(args.out, "wb") as f:
        f.write(png(grey, width, height))
    print(CLASSES[label])
    return 0


if __name__ == "__main__":
    sys.exit(main())

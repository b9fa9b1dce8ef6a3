#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""LibTorch against onnxruntime on the same Fashion-MNIST test images.

Writes the first --count test images (pixel / 255) for onnx_parity_dump, which exports each
architecture (or the logged model in --model) and writes LibTorch's logits; then runs every
exported model in onnxruntime and fails unless the largest absolute difference of the logits is at
most --tolerance and every image gets the same class.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort


def test_images(data_dir, count):
    path = os.path.join(data_dir, "t10k-images-idx3-ubyte.gz")
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    if count > n:
        sys.exit(f"check_parity.py: {path} holds {n} images, fewer than {count}")
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16, count=count * 784)
    return (pixels.astype(np.float32) / 255.0).reshape(count, 1, 28, 28)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dump", required=True, help="the onnx_parity_dump program")
    ap.add_argument("--data-dir", default=os.environ.get("MLFLOW_CPP_FMNIST_DIR",
                                                         "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--model", help="a model directory as fmnist_train logs it (default: every "
                    "architecture, random weights)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="onnx-parity-") as work:
        images = test_images(args.data_dir, args.count)
        images_path = os.path.join(work, "images.f32")
        images.tofile(images_path)
        cmd = [args.dump, images_path, str(args.count), work] + ([args.model] if args.model else [])
        subprocess.run(cmd, check=True)
        with open(os.path.join(work, "parity.json")) as f:
            manifest = json.load(f)
        failed = []
        print(f"{'model':<28} {'max |diff|':>11} {'classes differ':>15}  opset  operators")
        for m in manifest["models"]:
            torch_logits = np.fromfile(m["logits"], dtype=np.float32).reshape(args.count, -1)
            session = ort.InferenceSession(m["onnx"], providers=["CPUExecutionProvider"])
            (onnx_logits,) = session.run(None, {session.get_inputs()[0].name: images})
            diff = float(np.abs(onnx_logits - torch_logits).max())
            differ = int((onnx_logits.argmax(1) != torch_logits.argmax(1)).sum())
            # The Python package's full checker too (with shape inference), and what it holds.
            model = onnx.load(m["onnx"])
            onnx.checker.check_model(model, full_check=True)
            ops = sorted({n.op_type for n in model.graph.node})
            opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
            print(f"{m['name']:<28} {diff:>11.2e} {differ:>15}  {opset:>5}  {' '.join(ops)}")
            if not diff <= args.tolerance or differ:
                failed.append(m["name"])
        if failed:
            sys.exit(f"check_parity.py: LibTorch and onnxruntime disagree for {', '.join(failed)} "
                     f"(tolerance {args.tolerance})")
        print(f"all {len(manifest['models'])} models agree on {args.count} test images")


if __name__ == "__main__":
    main()

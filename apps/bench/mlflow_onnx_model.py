#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The serving benchmark's copy of a model directory for its `mlflow` contender (`mlflow models serve` on the
ONNX flavour). Checks that MLmodel has an `onnx` flavour and a `python_function` flavour loaded by mlflow.onnx,
both on a file that exists, then copies the directory to --out and sets the copy's
flavors.onnx.onnx_session_options to one intra-op and one inter-op thread, sequential: left to itself,
onnxruntime starts a second inference thread even when pinned to one core, and it does not read
OMP_NUM_THREADS (mlflow/onnx/__init__.py: _OnnxModelWrapper passes these options to its InferenceSession).
The source directory is never written. Run with mlflow/.venv's Python; prints the copy's path."""
import argparse
import os
import shutil
import sys

from mlflow.models import Model

ONE_THREAD = {"intra_op_num_threads": 1, "inter_op_num_threads": 1, "execution_mode": "sequential"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, help="model directory (MLmodel, model.onnx)")
    ap.add_argument("--out", required=True, help="where the copy goes (must not exist)")
    a = ap.parse_args()
    mlmodel = os.path.join(a.model, "MLmodel")

    def fail(what):
        print(f"mlflow_onnx_model.py: {mlmodel}: {what}", file=sys.stderr)
        return 2

    try:
        model = Model.load(mlmodel)
    except Exception as e:  # noqa: BLE001 - any unreadable MLmodel is reported the same way
        return fail(f"cannot read: {e}")
    flavors = model.flavors
    onnx, pyfunc = flavors.get("onnx"), flavors.get("python_function")
    if not onnx or not onnx.get("data"):
        return fail(f"no `onnx` flavour with `data` (flavours: {', '.join(flavors) or 'none'}); the mlflow "
                    "contender serves the ONNX export (model.onnx) that fmnist_train logs beside model.pt")
    if not pyfunc or pyfunc.get("loader_module") != "mlflow.onnx":
        return fail("no `python_function` flavour with `loader_module: mlflow.onnx`, which "
                    "`mlflow models serve` needs to load the ONNX flavour")
    for key, data in (("onnx", onnx["data"]), ("python_function", pyfunc.get("data"))):
        if not data or not os.path.isfile(os.path.join(a.model, data)):
            return fail(f"flavors.{key}.data '{data}' is not a file in {a.model}")
    before = onnx.get("onnx_session_options")
    shutil.copytree(a.model, a.out)
    onnx["onnx_session_options"] = {**(before or {}), **ONE_THREAD}
    model.save(os.path.join(a.out, "MLmodel"))
    print(f"mlflow_onnx_model.py: {a.out}: a copy of {a.model} with flavors.onnx.onnx_session_options "
          f"{onnx['onnx_session_options']} (was {before})", file=sys.stderr)
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

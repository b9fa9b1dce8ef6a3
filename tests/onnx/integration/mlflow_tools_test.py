#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""MLflow's own tools on a model fmnist_train logged and registered (the test server's fixture).

Trains a small model, registers it as fmnist-classifier@champion, and checks that:
  * its MLmodel has the libtorch, onnx and python_function flavours and model.onnx beside model.pt,
    and an input example MLflow reads (one test image, which the server answers too);
  * LibTorch and onnxruntime agree on its logits (check_parity.py --model);
  * mlflow.pyfunc.load_model("models:/fmnist-classifier@champion").predict() gives the classes
    fmnist_evaluate gives, on all 10,000 test images;
  * `mlflow models serve -m models:/fmnist-classifier@champion --env-manager local` answers
    /invocations with the same classes for 1,000 of them.
"""
import argparse
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
import yaml

MODEL = "fmnist-classifier"
URI = f"models:/{MODEL}@champion"


def fail(what):
    sys.exit(f"mlflow_tools_test.py: FAIL: {what}")


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def test_images(data_dir):
    with gzip.open(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    return (np.frombuffer(raw, np.uint8, offset=16).astype(np.float32) / 255).reshape(-1, 1, 28, 28)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_json(url, payload):
    req = urllib.request.Request(url, json.dumps(payload).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def post(url, images):
    return post_json(url, {"inputs": images.tolist()})


def serve_classes(venv_bin, images, serving_example, work):
    port = free_port()
    env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ["PATH"])
    log = open(os.path.join(work, "serve.log"), "w")
    server = subprocess.Popen(
        [os.path.join(venv_bin, "mlflow"), "models", "serve", "-m", URI, "--env-manager", "local",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                fail(f"mlflow models serve exited {server.returncode}: "
                     f"{open(log.name).read()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    fail("mlflow models serve did not answer /ping within 120 s")
                time.sleep(0.5)
        # The model's own serving example is answered too.
        answer = post_json(f"http://127.0.0.1:{port}/invocations", serving_example)
        if np.asarray(answer["predictions"]["logits"]).shape != (1, 10):
            fail(f"the serving input example gave {answer!r:.200}")
        classes = []
        for chunk in np.array_split(images, 4):
            answer = post(f"http://127.0.0.1:{port}/invocations", chunk)
            logits = np.asarray(answer["predictions"]["logits"], dtype=np.float32)
            classes.append(logits.argmax(1))
        return np.concatenate(classes)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", required=True)
    ap.add_argument("--evaluate", required=True)
    ap.add_argument("--dump", required=True, help="onnx_parity_dump")
    ap.add_argument("--data-dir", default=os.environ.get("MLFLOW_CPP_FMNIST_DIR",
                                                         "/usr/share/datasets/fashion-mnist"))
    args = ap.parse_args()
    with open(os.environ["MLFLOW_CPP_TEST_SERVER_FILE"]) as f:
        os.environ["MLFLOW_TRACKING_URI"] = f.read().strip()
    venv_bin = os.path.dirname(sys.executable)
    import mlflow  # after MLFLOW_TRACKING_URI

    with tempfile.TemporaryDirectory(prefix="onnx-tools-") as work:
        run_id = run([args.train, "--experiment", f"onnx-tools-{os.getpid()}", "--train_limit",
                      "3000", "--max_epochs", "1", "--threads", "2", "--register", MODEL,
                      "--alias", "champion", "--feature-cache-dir", "", "--quiet"],
                     cwd=work).split()[-1]
        version = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "champion")
        if version.run_id != run_id:
            fail(f"{URI} is version {version.version} of run {version.run_id}, not run {run_id}")

        model_dir = mlflow.artifacts.download_artifacts(URI, dst_path=os.path.join(work, "model"))
        with open(os.path.join(model_dir, "MLmodel")) as f:
            mlmodel = yaml.safe_load(f)
        flavors = mlmodel["flavors"]
        for name in ("libtorch", "onnx", "python_function"):
            if name not in flavors:
                fail(f"the MLmodel has no {name} flavour: {sorted(flavors)}")
        if flavors["python_function"].get("loader_module") != "mlflow.onnx":
            fail(f"python_function's loader is {flavors['python_function']}")
        if flavors["onnx"].get("data") != "model.onnx":
            fail(f"the onnx flavour's data is {flavors['onnx'].get('data')}, not model.onnx")
        for f in ("model.pt", "model.onnx"):
            if not os.path.isfile(os.path.join(model_dir, f)):
                fail(f"the model directory lacks {f}: {os.listdir(model_dir)}")
        print(f"{URI}: version {version.version}, flavours {', '.join(sorted(flavors))}")
        example = mlflow.models.Model.load(model_dir).load_input_example(model_dir)
        if getattr(example, "shape", None) != (1, 1, 28, 28) or not 0 <= example.min() <= \
                example.max() <= 1:
            fail(f"the input example is not one image in the signature's scale: {example!r:.200}")
        with open(os.path.join(model_dir, "serving_input_example.json")) as f:
            serving_example = json.load(f)

        parity = run([sys.executable, os.path.join(os.path.dirname(__file__), "..",
                                                   "check_parity.py"),
                      "--dump", args.dump, "--model", model_dir, "--data-dir", args.data_dir])
        print(parity, end="")

        predictions = os.path.join(work, "predictions.txt")
        accuracy = run([args.evaluate, URI, "--predictions", predictions, "-q"]).strip()
        expected = np.loadtxt(predictions, dtype=np.int64)
        images = test_images(args.data_dir)
        if expected.shape != (len(images),):
            fail(f"fmnist_evaluate wrote {expected.shape} predictions for {len(images)} images")

        out = mlflow.pyfunc.load_model(URI).predict(images)
        classes = np.asarray(out["logits"]).argmax(1)
        differ = int((classes != expected).sum())
        print(f"mlflow.pyfunc: {len(images) - differ} of {len(images)} test images get "
              f"fmnist_evaluate's class (test accuracy {accuracy})")
        if differ:
            fail(f"mlflow.pyfunc and fmnist_evaluate disagree on {differ} images")

        served = serve_classes(venv_bin, images[:1000], serving_example, work)
        differ = int((served != expected[:1000]).sum())
        print(f"mlflow models serve: {1000 - differ} of 1000 answers are fmnist_evaluate's class")
        if differ:
            fail(f"mlflow models serve and fmnist_evaluate disagree on {differ} images")


if __name__ == "__main__":
    main()

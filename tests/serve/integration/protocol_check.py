#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Real clients against a running fmnist_serve: MLflow's own scoring client (numpy and pandas
inputs), plain requests with the payloads MLflow documents (dataframe_split, dataframe_records,
instances, inputs), Open Inference Protocol v2, /classes, /metrics, and bad input.

Usage: protocol_check.py URL MODEL_NAME MODEL_VERSION. Exits non-zero with a message on the first
failed check. Run with the pinned MLflow venv's Python (it has mlflow, numpy, pandas, requests).
"""
import gzip
import os
import struct
import sys
import zlib
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import requests
from mlflow.pyfunc.scoring_server.client import ScoringServerClient

DATA_DIR = os.environ.get("MLFLOW_CPP_FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
N = 200


def test_images():
    with gzip.open(os.path.join(DATA_DIR, "t10k-images-idx3-ubyte.gz")) as f:
        pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    with gzip.open(os.path.join(DATA_DIR, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    images = pixels[: N * 784].reshape(N, 1, 28, 28).astype(np.float32) / 255.0
    return images, labels[:N]


def png(width, height, rows):
    """A greyscale 8-bit PNG; `rows` is the filtered image data, or None for a header only."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    body = chunk(b"IDAT", zlib.compress(rows)) if rows is not None else b""
    return b"\x89PNG\r\n\x1a\n" + header + body + chunk(b"IEND", b"")


def upscaled_png(image, factor):
    """A 28x28 [0, 1] image as a PNG `factor` times larger, dark garment on white (a photo)."""
    pixels = (255 - np.rint(image[0] * 255)).astype(np.uint8)
    big = np.kron(pixels, np.ones((factor, factor), dtype=np.uint8))
    rows = b"".join(b"\x00" + row.tobytes() for row in big)
    return png(big.shape[1], big.shape[0], rows)


def check(condition, message):
    if not condition:
        sys.exit("FAILED: " + message)


CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def main():
    url, name, version = sys.argv[1], sys.argv[2], sys.argv[3]
    images, labels = test_images()
    parts = urlparse(url)
    client = ScoringServerClient(parts.hostname, parts.port)
    client.wait_server_ready(timeout=30)
    client.ping()
    check(client.get_version().strip() != "", "/version is empty")

    # MLflow's client: a numpy array goes as {"inputs": ...}, a DataFrame as dataframe_split.
    by_numpy = np.asarray(client.invoke(images).get_predictions(predictions_format="ndarray"))
    check(by_numpy.shape == (N, 10), f"numpy invoke answered shape {by_numpy.shape}")
    check(np.allclose(by_numpy.sum(axis=1), 1, atol=1e-4), "probabilities do not sum to 1")
    accuracy = float((by_numpy.argmax(axis=1) == labels).mean())
    check(accuracy > 0.6, f"accuracy {accuracy} on {N} test images")
    frame = pd.DataFrame(images.reshape(N, 784), columns=[f"pixel{i}" for i in range(784)])
    by_frame = np.asarray(client.invoke(frame).get_predictions(predictions_format="ndarray"))
    check(np.allclose(by_frame, by_numpy, atol=1e-5), "dataframe_split answers differ")

    post = lambda body, **kw: requests.post(url + "/invocations", json=body, **kw)
    few = images[:3]
    payloads = {
        "dataframe_split": {"dataframe_split": frame.iloc[:3].to_dict(orient="split")},
        "dataframe_records": {"dataframe_records": frame.iloc[:3].to_dict(orient="records")},
        "instances": {"instances": few.tolist()},
        "inputs": {"inputs": few.tolist()},
    }
    for form, body in payloads.items():
        r = post(body)
        check(r.status_code == 200, f"{form}: HTTP {r.status_code} {r.text[:200]}")
        got = np.asarray(r.json()["predictions"])
        check(np.allclose(got, by_numpy[:3], atol=1e-5), f"{form}: predictions differ")

    # Open Inference Protocol v2, as KServe's and Triton's clients send it.
    check(requests.get(url + "/v2/health/live").json()["live"] is True, "/v2/health/live")
    check(requests.get(url + "/v2/health/ready").status_code == 200, "/v2/health/ready")
    check("name" in requests.get(url + "/v2").json(), "GET /v2 has no name")
    meta = requests.get(f"{url}/v2/models/{name}/versions/{version}").json()
    check(meta["inputs"][0]["shape"] == [-1, 1, 28, 28], f"v2 metadata {meta}")
    check(requests.get(f"{url}/v2/models/{name}/ready").json()["ready"] is True, "model ready")
    infer = requests.post(
        f"{url}/v2/models/{name}/infer",
        json={"id": "q1", "inputs": [{"name": "images", "shape": [3, 1, 28, 28], "datatype": "FP32",
                                      "data": few.reshape(-1).tolist()}]},
    )
    check(infer.status_code == 200, f"v2 infer: HTTP {infer.status_code} {infer.text[:200]}")
    out = infer.json()
    check(out["id"] == "q1" and out["model_version"] == version, f"v2 answer {out}")
    got = np.asarray(out["outputs"][0]["data"]).reshape(out["outputs"][0]["shape"])
    check(np.allclose(got, by_numpy[:3], atol=1e-5), "v2 predictions differ")

    # /predict: test images uploaded as 84x84 photos (dark garment on white) get the classes the
    # tensors got, for almost all of them.
    agree = 0
    for i in range(20):
        r = requests.post(url + "/predict",
                          files={"file": (f"test{i}.png", upscaled_png(images[i], 3), "image/png")})
        check(r.status_code == 200, f"/predict: HTTP {r.status_code} {r.text[:200]}")
        answer = r.json()
        check(answer["input"]["inverted"] is True, f"/predict did not invert: {answer['input']}")
        check(len(answer["probabilities"]) == 10 and answer["class_name"] == CLASS_NAMES[answer["class"]], f"/predict answer {answer}")
        agree += answer["class"] == int(by_numpy[i].argmax())
    check(agree >= 17, f"/predict agreed with the tensors on {agree} of 20 upscaled images")

    classes = requests.get(url + "/classes").json()["classes"]
    check(len(classes) == 10 and classes[9] == "Ankle boot", f"/classes {classes}")
    health = requests.get(url + "/health").json()
    check(health["model"]["name"] == name and health["model"]["version"] == version,
          f"/health {health}")

    # Bad input: a 4xx with a JSON error naming what is wrong, and the server keeps serving.
    bad = [
        ("empty body", lambda: requests.post(url + "/invocations", data=b"",
                                             headers={"Content-Type": "application/json"}),
         400, "empty"),
        ("malformed JSON", lambda: requests.post(url + "/invocations", data=b"{\"inputs\": [",
                                                 headers={"Content-Type": "application/json"}),
         400, "malformed JSON"),
        ("both instances and inputs", lambda: post({"instances": few.tolist(),
                                                    "inputs": few.tolist()}), 400, "exactly one"),
        ("wrong shape", lambda: post({"inputs": images[:1, :, :20, :].tolist()}), 400, "shape"),
        ("wrong dtype", lambda: post({"inputs": [[["a"] * 28] * 28]}), 400, "float32"),
        ("wrong content type", lambda: requests.post(url + "/invocations", data="1,2",
                                                     headers={"Content-Type": "text/csv"}),
         415, "application/json"),
        ("unknown model", lambda: requests.post(url + "/v2/models/nope/infer", json={}), 404,
         "nope"),
        ("v2 dtype", lambda: requests.post(f"{url}/v2/models/{name}/infer", json={"inputs": [
            {"name": "images", "shape": [1, 784], "datatype": "INT64", "data": [0] * 784}]}),
         400, "FP32"),
        ("non-image upload", lambda: requests.post(url + "/predict", files={
            "file": ("notes.txt", b"hello, not an image", "text/plain")}), 400, "not a PNG"),
        ("truncated image", lambda: requests.post(url + "/predict", data=upscaled_png(
            images[0], 2)[:300], headers={"Content-Type": "image/png"}), 400, "image"),
        ("50-megapixel image", lambda: requests.post(url + "/predict", data=png(
            10000, 5000, None), headers={"Content-Type": "image/png"}), 400, "10000x5000"),
        ("too large", lambda: requests.post(url + "/invocations", data=b"x" * (17 << 20),
                                            headers={"Content-Type": "application/json"}),
         413, "larger"),
    ]
    for what, send, status, words in bad:
        r = send()
        check(r.status_code == status, f"{what}: HTTP {r.status_code}, expected {status}")
        body = r.json()
        text = body.get("message", body.get("error", ""))
        check(words in text, f"{what}: error {body} does not say '{words}'")
    check(client.invoke(images[:1]).get_predictions() is not None, "serving after bad input")

    metrics = requests.get(url + "/metrics").text
    for needle in ['fmnist_serve_requests_total{code="400",route="/invocations"}',
                   "fmnist_serve_batch_images_count", f'version="{version}"',
                   "fmnist_serve_request_seconds_bucket"]:
        check(needle in metrics, f"/metrics lacks {needle}")
    print(f"protocol checks passed; accuracy {accuracy:.3f} on {N} test images")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drift monitoring of a running fmnist_serve, checked from outside: clean test windows stay under
the alert threshold, a window of inverted images crosses it; /health, /metrics and the MLflow
monitoring run show each window.

Usage: drift_check.py URL MONITOR_EXPERIMENT (MLFLOW_TRACKING_URI names the tracking server). Run
with the pinned MLflow venv's Python. The model must have been logged with drift_reference.json.
"""
import gzip
import os
import sys
import time

import numpy as np
import requests
from mlflow.tracking import MlflowClient

DATA_DIR = os.environ.get("MLFLOW_CPP_FMNIST_DIR", "/usr/share/datasets/fashion-mnist")


def check(condition, message):
    if not condition:
        sys.exit("FAILED: " + message)


def test_images(count):
    with gzip.open(os.path.join(DATA_DIR, "t10k-images-idx3-ubyte.gz")) as f:
        pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return pixels[: count * 784].reshape(count, 1, 28, 28).astype(np.float32) / 255.0


def send(url, images):
    for start in range(0, len(images), 100):
        r = requests.post(url + "/invocations", json={"inputs": images[start:start + 100].tolist()})
        check(r.status_code == 200, f"/invocations: HTTP {r.status_code} {r.text[:200]}")


def main():
    url, experiment = sys.argv[1], sys.argv[2]
    drift = requests.get(url + "/health").json()["drift"]
    check(drift["watching"] is False and "no request yet" in drift["note"], f"before: {drift}")
    send(url, test_images(1)[:1])  # the first pass opens the model's reference
    drift = requests.get(url + "/health").json()["drift"]
    check(drift["watching"] is True, f"/health drift {drift}")
    size = drift["window_size"]
    images = test_images(2 * size + 1)[1:]

    send(url, images[:2 * size - 1])  # two clean windows (with the first image)
    drift = requests.get(url + "/health").json()["drift"]
    check(drift["windows"] == 2, f"after two clean windows: {drift}")
    check(drift["last"]["alert"] is False, f"a clean test window alerts: {drift['last']}")

    send(url, 1.0 - images[:size])  # inverted: a light background, a dark garment
    drift = requests.get(url + "/health").json()["drift"]
    check(drift["windows"] == 3, f"after the inverted window: {drift}")
    check(drift["last"]["alert"] is True and drift["last"]["crossed"],
          f"the inverted window does not alert: {drift['last']}")
    metrics = requests.get(url + "/metrics").text
    for needle in ['fmnist_serve_drift{statistic="alert"} 1',
                   'fmnist_serve_drift{statistic="window_index"} 2']:
        check(needle in metrics, f"/metrics lacks {needle}")

    client = MlflowClient()
    deadline = time.time() + 60
    history = []
    while time.time() < deadline:
        exp = client.get_experiment_by_name(experiment)
        runs = client.search_runs([exp.experiment_id]) if exp else []
        if runs:
            history = client.get_metric_history(runs[0].info.run_id, "drift_alert")
            if len(history) == 3:
                break
        time.sleep(0.5)
    check([(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] ==
          [(0, 0.0), (1, 0.0), (2, 1.0)], f"the monitoring run's drift_alert history: {history}")
    print(f"drift checks passed; inverted window crossed {drift['last']['crossed']}")


if __name__ == "__main__":
    main()

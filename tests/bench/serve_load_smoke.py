#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench_serve_load_smoke: the serving benchmark's parts work together, quickly. A SmallCNN with random
weights is saved as a model directory (MLmodel and a TorchScript model.pt, as fmnist_train logs one),
served by apps/bench/serve_fastapi.py; bench_serve_load sends 20 requests/s for 2 s and its JSON must
show every request answered; serve_report.py must render the run; a non-loopback URL must be refused.
Usage: serve_load_smoke.py BENCH_SERVE_LOAD REPO"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

load_bin, repo = sys.argv[1], sys.argv[2]
bench = os.path.join(repo, "apps", "bench")
sys.path.insert(0, bench)
import torch  # noqa: E402
from serve_fastapi import Classifier  # noqa: E402

work = tempfile.mkdtemp(prefix="serve-load-smoke-")
config = {"architecture": "small_cnn", "width_multiplier": 1.0, "num_classes": 10, "dropout": 0.25,
          "layout": "small", "head": "mlp"}
model_dir = os.path.join(work, "model")
os.makedirs(model_dir)
torch.jit.trace(Classifier(config).eval(), torch.zeros(1, 1, 28, 28)).save(os.path.join(model_dir, "model.pt"))
with open(os.path.join(model_dir, "MLmodel"), "w") as f:
    f.write("flavors:\n  libtorch:\n    weights_file: model.pt\n    config: " + json.dumps(config) + "\n")
body = os.path.join(work, "body.json")
with open(body, "w") as f:
    json.dump({"inputs": [[[[0.5] * 28] * 28]]}, f)

with socket.socket() as s:  # a free port (released again for the server)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = subprocess.Popen([sys.executable, os.path.join(bench, "serve_fastapi.py"), "--model", model_dir,
                           "--port", str(port)])
try:
    for _ in range(300):
        assert server.poll() is None, "serve_fastapi.py exited"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    raw = os.path.join(work, "raw")
    os.makedirs(raw)
    out = os.path.join(raw, "small_cnn-fastapi-r1.json")
    subprocess.run([load_bin, "--url", f"http://127.0.0.1:{port}/invocations", "--body", body, "--rate", "20",
                    "--duration", "2", "--warmup", "0.5", "--out", out], check=True, timeout=60)
finally:
    server.terminate()
    server.wait(timeout=30)

result = json.load(open(out))
run = result["runs"][0]
print(json.dumps(run))
assert run["rate_asked"] == 20 and run["completed"] >= 30, run
assert run["ok"] == run["completed"] == run["sent"] and run["dropped"] == 0 and run["errors"] == {}, run
assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["p99"] <= run["latency_ms"]["max"], run
assert 10 <= run["rate_achieved"] <= 25, run

with open(os.path.join(raw, "small_cnn-fastapi-r1.cpu.json"), "w") as f:
    json.dump({"model": "small_cnn", "contender": "fastapi", "rep": 1, "user_s": 1.0, "sys_s": 0.1}, f)
subprocess.run([sys.executable, os.path.join(bench, "serve_report.py"), "--raw", raw, "--out", work], check=True)
md = open(os.path.join(work, "serve.md")).read()
assert "## Serving under load" in md and "| 20 | " in md, md

refused = subprocess.run([load_bin, "--url", "http://192.0.2.1/invocations", "--body", body, "--rate", "1"],
                         capture_output=True, text=True)
assert refused.returncode == 2 and "not loopback" in refused.stderr, refused
print("bench_serve_load_smoke: ok")

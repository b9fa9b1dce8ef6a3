#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench_serve_mlflow_onnx_smoke: the serving benchmark's `mlflow` contender works, quickly. A SmallCNN with
random weights is exported to ONNX by Debian's PyTorch (input `input` float32 N x 1 x 28 x 28, output
`logits`) into a model directory with the onnx and python_function flavours and fmnist_train's signature;
apps/bench/mlflow_onnx_model.py must copy it with onnxruntime held to one thread (read back through
mlflow.pyfunc) and refuse a directory without an onnx flavour, naming it; `mlflow models serve` on the
copy must answer bench_serve_load's payload (20 requests/s for 2 s) without an error; serve_report.py must
render the contender and the ratio line against fmnist_serve.
Usage: serve_mlflow_onnx_smoke.py BENCH_SERVE_LOAD REPO (run with /usr/bin/python3: torch)"""
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
venv_bin = os.path.join(repo, "mlflow", ".venv", "bin")
sys.path.insert(0, bench)
import torch  # noqa: E402
from fmnist_payload import test_images  # noqa: E402
from serve_fastapi import Classifier  # noqa: E402

work = tempfile.mkdtemp(prefix="serve-mlflow-onnx-smoke-")
config = {"architecture": "small_cnn", "width_multiplier": 1.0, "num_classes": 10, "dropout": 0.25,
          "layout": "small", "head": "mlp"}
model_dir = os.path.join(work, "model")
os.makedirs(model_dir)
torch.onnx.export(Classifier(config).eval(), torch.zeros(1, 1, 28, 28), os.path.join(model_dir, "model.onnx"),
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)
tensor = '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [%s]}}]'
with open(os.path.join(model_dir, "MLmodel"), "w") as f:
    json.dump({"flavors": {"onnx": {"data": "model.onnx", "providers": ["CPUExecutionProvider"]},
                           "python_function": {"loader_module": "mlflow.onnx", "data": "model.onnx"}},
               "signature": {"inputs": tensor % "-1, 1, 28, 28", "outputs": tensor % "-1, 10"}}, f)  # JSON is YAML
body = os.path.join(work, "body.json")
with open(body, "w") as f:
    json.dump({"inputs": test_images(1)[0]}, f)  # what run_serve_bench.sh sends (fmnist_payload.py)

# A model directory without the ONNX export is refused, naming its MLmodel.
torch_only = os.path.join(work, "torch_only")
os.makedirs(torch_only)
with open(os.path.join(torch_only, "MLmodel"), "w") as f:
    f.write("flavors:\n  libtorch:\n    weights_file: model.pt\n")
refused = subprocess.run([os.path.join(venv_bin, "python"), os.path.join(bench, "mlflow_onnx_model.py"),
                          "--model", torch_only, "--out", os.path.join(work, "refused")],
                         capture_output=True, text=True)
assert refused.returncode == 2 and os.path.join(torch_only, "MLmodel") in refused.stderr, refused
assert "no `onnx` flavour" in refused.stderr and not os.path.exists(os.path.join(work, "refused")), refused

copy = os.path.join(work, "copy")
subprocess.run([os.path.join(venv_bin, "python"), os.path.join(bench, "mlflow_onnx_model.py"), "--model", model_dir,
                "--out", copy], check=True)
threads = subprocess.run([os.path.join(venv_bin, "python"), "-c",
                          "import sys, mlflow.pyfunc; o = mlflow.pyfunc.load_model(sys.argv[1]).get_raw_model()"
                          ".get_session_options(); print(o.intra_op_num_threads, o.inter_op_num_threads)", copy],
                         check=True, capture_output=True, text=True).stdout.split()
assert threads == ["1", "1"], threads
assert "onnx_session_options" not in open(os.path.join(model_dir, "MLmodel")).read(), "the source was written"

with socket.socket() as s:  # a free port (released again for the server)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""), UVICORN_ACCESS_LOG="false")
# Its log goes to a file: stopped through its child, it ends with a traceback that is no failure.
server_log = os.path.join(work, "server.log")
server = subprocess.Popen([os.path.join(venv_bin, "mlflow"), "models", "serve", "-m", copy, "--env-manager", "local",
                           "--host", "127.0.0.1", "-p", str(port), "-w", "1"], env=env,
                          stdout=open(server_log, "w"), stderr=subprocess.STDOUT)
out = os.path.join(work, "load.json")
try:
    for _ in range(600):
        assert server.poll() is None, "mlflow models serve exited:\n" + open(server_log).read()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=open(body, "rb").read(),
                                     headers={"Content-Type": "application/json"})
    answer = json.load(urllib.request.urlopen(request, timeout=30))
    assert len(answer["predictions"]["logits"][0]) == 10, answer
    subprocess.run([load_bin, "--url", f"http://127.0.0.1:{port}/invocations", "--body", body, "--rate", "20",
                    "--duration", "2", "--warmup", "0.5", "--out", out], check=True, timeout=60)
finally:
    # Through its uvicorn child, which it reaps (run_serve_bench.sh's stop_server does the same).
    for child in subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split():
        os.kill(int(child), 15)
    server.wait(timeout=30)

run = json.load(open(out))["runs"][0]
print(json.dumps(run))
assert run["ok"] == run["completed"] == run["sent"] >= 30 and run["dropped"] == 0 and run["errors"] == {}, run

# The report, on this run as both contenders with made-up rates held: fmnist_serve 4x MLflow's.
report = os.path.join(work, "report")
os.makedirs(report)
for contender, held in (("mlflow", 10), ("batched", 40)):
    json.dump(dict(json.load(open(out)), highest_rate_held=held),
              open(os.path.join(report, f"small_cnn-{contender}-r1.json"), "w"))
    with open(os.path.join(report, f"small_cnn-{contender}-r1.cpu.json"), "w") as f:
        json.dump({"model": "small_cnn", "contender": contender, "rep": 1, "user_s": 1.0, "sys_s": 0.1}, f)
subprocess.run([sys.executable, os.path.join(bench, "serve_report.py"), "--raw", report, "--out", work], check=True)
md = open(os.path.join(work, "serve.md")).read()
assert "| mlflow models serve, ONNX flavour" in md, md
assert "MLflow's scoring server (ONNX), highest rate held | 4.00× (goal ≥ 3×: met)" in md, md
print("bench_serve_mlflow_onnx_smoke: ok")

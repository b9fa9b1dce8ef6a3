# SPDX-License-Identifier: Apache-2.0
# Compatibility of mlflow-cpp with the official Python client, both ways, against a live server.
"""Run with the Python that has the pinned mlflow installed (mlflow/.venv/bin/python):

    check_compat.py --writer PATH/compat_writer --reader PATH/compat_reader
                    [--server-url URL | --server-file FILE] [unittest args...]

The server comes from --server-url, else the file named by --server-file or
$MLFLOW_CPP_TEST_SERVER_FILE (as the CTest fixture writes it). The binaries may also be given as
$MLFLOW_CPP_COMPAT_WRITER and $MLFLOW_CPP_COMPAT_READER. Missing configuration is an error, never
a skip.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# The Python client must not pick up a run or experiment from the caller's environment.
for _name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
    os.environ.pop(_name, None)

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric  # noqa: E402

CONFIG = {}
DBL_MAX = sys.float_info.max
ALL_BYTES = bytes(range(256))
PROGRAM_TIMEOUT_S = 240


def parse_config(argv):
    """Fills CONFIG from argv/env; returns the arguments left for unittest."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--server-url")
    p.add_argument("--server-file", default=os.environ.get("MLFLOW_CPP_TEST_SERVER_FILE"))
    p.add_argument("--writer", default=os.environ.get("MLFLOW_CPP_COMPAT_WRITER"))
    p.add_argument("--reader", default=os.environ.get("MLFLOW_CPP_COMPAT_READER"))
    args, rest = p.parse_known_args(argv[1:])
    url = args.server_url
    if not url:
        if not args.server_file:
            sys.exit("check_compat.py: no server: pass --server-url or set "
                     "MLFLOW_CPP_TEST_SERVER_FILE")
        try:
            with open(args.server_file, encoding="utf-8") as f:
                url = f.read().strip()
        except OSError as e:
            sys.exit(f"check_compat.py: cannot read the server URL file ({e}); "
                     "did the fixture run?")
    for name in ("writer", "reader"):
        path = getattr(args, name)
        if not path or not os.access(path, os.X_OK):
            sys.exit(f"check_compat.py: --{name} must name the built compat_{name} (got {path!r})")
    CONFIG.update(url=url.rstrip("/"), writer=args.writer, reader=args.reader)
    return [argv[0]] + rest


def unique(prefix):
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:10]}"


def stored(value):
    """What the server's SQL store reads back: NaN stays NaN, +-Inf is clamped to +-DBL_MAX
    (checked against the real server; see mlflow-rest.md §0)."""
    if math.isinf(value):
        return math.copysign(DBL_MAX, value)
    return value


def run_program(args):
    """Runs a C++ helper against the server; returns its stdout parsed as JSON."""
    env = dict(os.environ, MLFLOW_TRACKING_URI=CONFIG["url"])
    proc = subprocess.run(args, env=env, capture_output=True, timeout=PROGRAM_TIMEOUT_S,
                          check=False)
    if proc.returncode != 0:
        raise AssertionError(
            f"{os.path.basename(args[0])} exited {proc.returncode}\n"
            f"stderr:\n{proc.stderr.decode(errors='replace')}\n"
            f"stdout:\n{proc.stdout.decode(errors='replace')}")
    return json.loads(proc.stdout)


def list_files(client, run_id, path=None):
    """{relative path: size} of every file under the run's artifact root, recursively."""
    out = {}
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            out.update(list_files(client, run_id, f.path))
        else:
            out[f.path] = f.file_size
    return out


class CompatTestCase(unittest.TestCase):
    def setUp(self):
        mlflow.set_tracking_uri(CONFIG["url"])
        self.client = MlflowClient(tracking_uri=CONFIG["url"], registry_uri=CONFIG["url"])

    def assertSameFloat(self, expected, actual, msg=None):
        if math.isnan(expected):
            self.assertTrue(math.isnan(actual), f"expected NaN, got {actual!r} {msg or ''}")
        else:
            self.assertEqual(expected, actual, msg)

    def assertHistory(self, expected, history, check_timestamps, what):
        """expected: [{step, value (text), timestamp?}] as the C++ programs print them."""
        history = sorted(history, key=lambda m: (m.step, m.timestamp))
        self.assertEqual([e["step"] for e in expected], [m.step for m in history], what)
        for e, m in zip(expected, history):
            self.assertSameFloat(stored(float(e["value"])), m.value, f"{what} step {e['step']}")
            if check_timestamps:
                self.assertEqual(e["timestamp"], m.timestamp, f"{what} step {e['step']}")


class CppWritesPythonReads(CompatTestCase):
    """compat_writer logs through mlflow::ActiveRun and MlflowClient; Python reads it back."""

    @classmethod
    def setUpClass(cls):
        cls.experiment_name = unique("compat-cpp-writer")
        cls.model_name = unique("compat-cpp-model")
        cls.manifest = run_program([CONFIG["writer"], cls.experiment_name, cls.model_name])

    def test_parent_run_info_params_and_tags(self):
        m = self.manifest
        run = self.client.get_run(m["parent_run_id"])
        exp = self.client.get_experiment_by_name(self.experiment_name)
        self.assertIsNotNone(exp)
        self.assertEqual(exp.experiment_id, m["experiment_id"])
        self.assertEqual(run.info.experiment_id, m["experiment_id"])
        self.assertEqual(run.info.run_name, m["parent_run_name"])
        self.assertEqual(run.info.status, m["parent_status"])
        self.assertEqual(run.info.lifecycle_stage, "active")
        self.assertIsNotNone(run.info.end_time)
        self.assertGreaterEqual(run.info.end_time, run.info.start_time)
        self.assertEqual(run.data.params, m["params"])
        for key, value in m["tags"].items():
            self.assertEqual(run.data.tags.get(key), value, key)
        self.assertEqual(run.data.tags.get("mlflow.runName"), m["parent_run_name"])
        self.assertEqual(run.data.tags.get("mlflow.source.type"), "LOCAL")
        self.assertTrue(run.data.tags.get("mlflow.user"), "mlflow.user tag missing")
        self.assertTrue(run.data.tags.get("mlflow.source.name"), "mlflow.source.name tag missing")
        self.assertNotIn("mlflow.parentRunId", run.data.tags)

    def test_child_run_is_nested_under_the_parent(self):
        m = self.manifest
        child = self.client.get_run(m["child_run_id"])
        self.assertEqual(child.data.tags.get("mlflow.parentRunId"), m["parent_run_id"])
        self.assertEqual(child.info.experiment_id, m["experiment_id"])
        self.assertEqual(child.info.run_name, m["child_run_name"])
        self.assertEqual(child.info.status, m["child_status"])
        self.assertEqual(child.data.params, m["child_params"])
        for key, value in m["child_tags"].items():
            self.assertEqual(child.data.tags.get(key), value, key)
        found = self.client.search_runs(
            [m["experiment_id"]], f"tags.mlflow.parentRunId = '{m['parent_run_id']}'")
        self.assertEqual([r.info.run_id for r in found], [m["child_run_id"]])
        history = self.client.get_metric_history(m["child_run_id"], "child_loss")
        self.assertHistory(m["child_metrics"]["child_loss"], history, False, "child_loss")

    def test_metric_histories_keep_steps_values_and_timestamps(self):
        m = self.manifest
        run = self.client.get_run(m["parent_run_id"])
        self.assertEqual(set(run.data.metrics), set(m["metrics"]))
        loss = self.client.get_metric_history(m["parent_run_id"], "loss")
        self.assertEqual(len(loss), 100)
        self.assertHistory(m["metrics"]["loss"], loss, True, "loss")
        acc = self.client.get_metric_history(m["parent_run_id"], "acc")
        self.assertHistory(m["metrics"]["acc"], acc, False, "acc")
        for point in acc:  # stamped by ActiveRun::log_metric at the call
            self.assertGreaterEqual(point.timestamp, run.info.start_time)
            self.assertLessEqual(point.timestamp, run.info.end_time)
        # The run's latest value is the one at the highest step.
        for key, history in m["metrics"].items():
            self.assertSameFloat(stored(float(history[-1]["value"])), run.data.metrics[key], key)

    def test_special_values_as_the_server_stores_them(self):
        by_step = {p.step: p.value for p in
                   self.client.get_metric_history(self.manifest["parent_run_id"], "loss")}
        self.assertTrue(math.isnan(by_step[10]))
        self.assertEqual(by_step[20], DBL_MAX)  # +Inf is clamped by the SQL store
        self.assertEqual(by_step[30], -DBL_MAX)
        self.assertEqual(by_step[40], 0.0)
        self.assertEqual(by_step[50], 1e-300)
        self.assertEqual(by_step[60], 123456789.12345679)

    def test_artifacts_download_byte_for_byte(self):
        m = self.manifest
        expected = {path: bytes.fromhex(h) for path, h in m["artifacts"].items()}
        self.assertEqual(expected["data/bin/all_bytes.bin"], ALL_BYTES)
        listed = list_files(self.client, m["parent_run_id"])
        self.assertEqual(listed, {path: len(data) for path, data in expected.items()})
        with tempfile.TemporaryDirectory() as tmp:
            root = mlflow.artifacts.download_artifacts(run_id=m["parent_run_id"], dst_path=tmp)
            for path, data in expected.items():
                with open(os.path.join(root, path), "rb") as f:
                    self.assertEqual(f.read(), data, path)
        with tempfile.TemporaryDirectory() as tmp:
            local = self.client.download_artifacts(
                m["parent_run_id"], "data/bin/all_bytes.bin", tmp)
            with open(local, "rb") as f:
                self.assertEqual(f.read(), ALL_BYTES)

    def test_registered_version_and_alias(self):
        m = self.manifest
        mv = self.client.get_model_version_by_alias(m["model_name"], m["alias"])
        self.assertEqual(mv.name, m["model_name"])
        self.assertEqual(mv.version, m["model_version"])
        self.assertEqual(mv.run_id, m["parent_run_id"])
        self.assertEqual(mv.source, m["model_source"])
        self.assertEqual(mv.status, "READY")
        self.assertIn(m["alias"], mv.aliases)
        rm = self.client.get_registered_model(m["model_name"])
        self.assertEqual(rm.aliases, {m["alias"]: m["model_version"]})
        self.assertEqual(rm.tags, {"origin": "mlflow-cpp"})
        # The official client resolves models:/name@alias to the version's files.
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{m['model_name']}@{m['alias']}", dst_path=tmp)
            with open(os.path.join(local, "MLmodel"), "rb") as f:
                self.assertEqual(f.read(), bytes.fromhex(m["artifacts"]["model/MLmodel"]))


def py_history_value(step):
    special = {5: float("nan"), 6: float("inf"), 7: float("-inf"), 8: 0.0, 9: 1e-300,
               10: 987654321.98765433}
    return special.get(step, step * 0.125 - 3.0)


class PythonWritesCppReads(CompatTestCase):
    """The Python client logs a run tree and a registered model; compat_reader reads it back."""

    NOTES = "notes written by python\r\n\u00fcn\u00efc\u00f8d\u00e9 \u2713\n".encode("utf-8")
    TEXT = "log_text from python \u2603\n"
    PARAMS = {"alpha": "0.5", "layers": "3", "unicode": "\u00e9t\u00e9 \u2713",
              "with spaces": "x y", "nested/key.name": "a/b:c", "long_value": "p" * 5000}
    TAGS = {"team": "python", "unicode_tag": "\u4e2d\u6587", "multi_line": "one\ntwo\n"}

    @classmethod
    def setUpClass(cls):
        mlflow.set_tracking_uri(CONFIG["url"])
        client = MlflowClient(tracking_uri=CONFIG["url"], registry_uri=CONFIG["url"])
        cls.model_name = unique("compat-py-model")
        experiment_id = client.create_experiment(unique("compat-py-writer"))
        t0 = int(time.time() * 1000)
        cls.history = [{"step": s, "value": repr(py_history_value(s)), "timestamp": t0 + s}
                       for s in range(100)]
        with tempfile.TemporaryDirectory() as tmp:
            tree = os.path.join(tmp, "tree")
            os.makedirs(os.path.join(tree, "inner"))
            with open(os.path.join(tree, "notes.txt"), "wb") as f:
                f.write(cls.NOTES)
            with open(os.path.join(tree, "inner", "all_bytes.bin"), "wb") as f:
                f.write(ALL_BYTES)
            with mlflow.start_run(experiment_id=experiment_id, run_name="py-parent") as run:
                run_id = run.info.run_id
                mlflow.log_param("alpha", cls.PARAMS["alpha"])
                mlflow.log_params({k: v for k, v in cls.PARAMS.items() if k != "alpha"})
                mlflow.set_tag("team", cls.TAGS["team"])
                mlflow.set_tags({k: v for k, v in cls.TAGS.items() if k != "team"})
                client.log_batch(run_id, metrics=[
                    Metric("py_hist", py_history_value(h["step"]), h["timestamp"], h["step"])
                    for h in cls.history])
                for step, value in enumerate([1.0, float("nan"), float("inf"), float("-inf"), 0.5]):
                    mlflow.log_metric("py_single", value, step=step)
                mlflow.log_metrics({"py_a": 0.25, "py_b": -1.5}, step=3)
                # nested=True alone puts the child in the active experiment (Default), not the
                # parent's.
                with mlflow.start_run(experiment_id=experiment_id, run_name="py-child",
                                      nested=True) as child:
                    mlflow.log_param("fold", "1")
                    mlflow.set_tag("role", "child")
                    mlflow.log_metric("child_metric", 2.0, step=5)
                    cls.child_id = child.info.run_id
                mlflow.log_artifact(os.path.join(tree, "inner", "all_bytes.bin"),
                                    artifact_path="sub/dir")
                mlflow.log_artifacts(tree, artifact_path="tree")
                mlflow.log_text(cls.TEXT, "texts/t.txt")
                mlflow.log_dict({"lr": 0.1, "name": "cfg"}, "cfg/config.json")
                cls.artifact_uri = run.info.artifact_uri
            cls.run_id = run_id
        client.create_registered_model(cls.model_name, tags={"origin": "python"})
        cls.version = client.create_model_version(
            cls.model_name, source=f"{cls.artifact_uri}/sub", run_id=cls.run_id)
        client.set_registered_model_alias(cls.model_name, "prod", cls.version.version)
        cls.out = run_program([
            CONFIG["reader"], "--run-id", cls.run_id,
            "--artifact", "sub/dir/all_bytes.bin", "--artifact", "texts/t.txt",
            "--artifact", "cfg/config.json", "--artifact", "tree/notes.txt",
            "--download", "tree", "--model", cls.model_name, "--alias", "prod"])

    def test_run_info_params_and_tags(self):
        run = self.out["run"]
        self.assertEqual(run["run_id"], self.run_id)
        self.assertEqual(run["run_name"], "py-parent")
        self.assertEqual(run["status"], "FINISHED")
        self.assertEqual(run["lifecycle_stage"], "active")
        self.assertEqual(run["artifact_uri"], self.artifact_uri)
        self.assertIsNotNone(run["end_time"])
        self.assertEqual(self.out["params"], self.PARAMS)
        expected_tags = self.client.get_run(self.run_id).data.tags  # incl. Python's system tags
        self.assertEqual(self.out["tags"], expected_tags)
        for key, value in self.TAGS.items():
            self.assertEqual(self.out["tags"][key], value, key)

    def test_metric_histories(self):
        self.assertEqual(set(self.out["metrics"]), {"py_hist", "py_single", "py_a", "py_b"})
        self.assertEqual(len(self.out["metrics"]["py_hist"]), 100)
        for e, got in zip(self.history, self.out["metrics"]["py_hist"]):
            self.assertEqual(e["step"], got["step"])
            self.assertEqual(e["timestamp"], got["timestamp"])
            self.assertSameFloat(stored(float(e["value"])), float(got["value"]),
                                 f"step {e['step']}")
        single = self.out["metrics"]["py_single"]
        self.assertEqual([p["step"] for p in single], [0, 1, 2, 3, 4])
        for expected, got in zip([1.0, float("nan"), DBL_MAX, -DBL_MAX, 0.5], single):
            self.assertSameFloat(expected, float(got["value"]))
        self.assertEqual(self.out["metrics"]["py_a"][0]["step"], 3)
        self.assertEqual(float(self.out["metrics"]["py_b"][0]["value"]), -1.5)
        # Latest values agree with what the Python client reports for the run.
        py_latest = self.client.get_run(self.run_id).data.metrics
        self.assertEqual(set(self.out["latest_metrics"]), set(py_latest))
        for key, value in py_latest.items():
            self.assertSameFloat(value, float(self.out["latest_metrics"][key]), key)

    def test_nested_child_run(self):
        children = self.out["children"]
        self.assertEqual([c["run_id"] for c in children], [self.child_id])
        child = children[0]
        self.assertEqual(child["run_name"], "py-child")
        self.assertEqual(child["status"], "FINISHED")
        self.assertEqual(child["params"], {"fold": "1"})
        self.assertEqual(child["tags"]["role"], "child")
        self.assertEqual(child["tags"]["mlflow.parentRunId"], self.run_id)

    def test_artifact_listing_matches_the_python_client(self):
        listing = self.out["artifacts"]
        files = {e["path"]: e["file_size"] for e in listing if not e["is_dir"]}
        dirs = {e["path"] for e in listing if e["is_dir"]}
        self.assertEqual(files, list_files(self.client, self.run_id))
        self.assertEqual(files["sub/dir/all_bytes.bin"], 256)
        self.assertEqual(files["tree/notes.txt"], len(self.NOTES))
        self.assertEqual(dirs, {"sub", "sub/dir", "tree", "tree/inner", "texts", "cfg"})

    def test_artifact_bytes(self):
        got = {k: bytes.fromhex(v) for k, v in self.out["artifact_bytes"].items()}
        self.assertEqual(got["sub/dir/all_bytes.bin"], ALL_BYTES)
        self.assertEqual(got["tree/notes.txt"], self.NOTES)
        self.assertEqual(got["texts/t.txt"], self.TEXT.encode("utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(
                run_id=self.run_id, artifact_path="cfg/config.json", dst_path=tmp)
            with open(local, "rb") as f:
                self.assertEqual(got["cfg/config.json"], f.read())
        self.assertEqual(json.loads(got["cfg/config.json"]), {"lr": 0.1, "name": "cfg"})

    def test_download_of_a_directory_tree(self):
        tree = self.out["downloads"]["tree"]
        self.assertEqual(tree["local_path_relative"], "tree")
        files = {k: bytes.fromhex(v) for k, v in tree["files"].items()}
        self.assertEqual(files, {"tree/notes.txt": self.NOTES,
                                 "tree/inner/all_bytes.bin": ALL_BYTES})

    def test_registered_model_alias(self):
        model = self.out["model"]
        self.assertEqual(model["name"], self.model_name)
        self.assertEqual(model["version"], self.version.version)
        self.assertEqual(model["run_id"], self.run_id)
        self.assertEqual(model["source"], f"{self.artifact_uri}/sub")
        self.assertEqual(model["status"], "READY")
        self.assertIn("prod", model["aliases"])
        self.assertEqual(model["registered_aliases"], {"prod": self.version.version})
        self.assertEqual(model["registered_tags"], {"origin": "python"})


if __name__ == "__main__":
    unittest.main(argv=parse_config(sys.argv), verbosity=2)

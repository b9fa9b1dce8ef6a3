#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A sweep as a Slurm array on a real one-node Slurm cluster gives what a local run gives.

Starts a throwaway cluster (tests/support/slurm_cluster.sh: Debian's slurm-wlm 22.05 and munge) in
the work directory, runs sweeps/smoke.yaml (threads pinned to 1) once locally with sweep_runner and
once as `sbatch --array=0-1 sweeps/deploy/slurm_array.sh SPEC`, and compares them over MLflow's
REST API: the same trials with the same params and metrics, no duplicate runs, one parent, the same
champion registered once. Then scancels one array task while its trial runs, resubmits, and checks
the sweep resumed without duplicates. Bad input: a refused sbatch and munged gone each exit non-zero
with a message that says what to do and leave nothing in MLflow; a missing munge key stops the
cluster script before it starts anything.

Usage: slurm_sweep_test.py --sweep-runner EXE --fmnist-train EXE --work-dir DIR
The tracking server's URL is read from the file MLFLOW_CPP_TEST_SERVER_FILE names (the ctest
fixture's server.url)."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
import mlflow_rest  # noqa: E402 (after the path it is found on)
CLUSTER_SH = os.path.join(SOURCE_DIR, "tests", "support", "slurm_cluster.sh")
JOB_FILE = os.path.join(SOURCE_DIR, "sweeps", "deploy", "slurm_array.sh")
SPEC_PARAMS = ("model", "train_limit", "max_epochs", "batch_size", "learning_rate", "seed", "threads")
METRIC = "best_val_accuracy"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


# --- MLflow REST ----------------------------------------------------------------------------------
class Mlflow:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def call(self, path, query=None, body=None):
        """The JSON answer (a POST of `body`, else a GET), or None for RESOURCE_DOES_NOT_EXIST."""
        try:
            return mlflow_rest.call(self.url, path, query, body)
        except mlflow_rest.RestError as e:
            if e.not_found():
                return None
            raise Failure(str(e)) from None

    def experiment_id(self, name):
        got = self.call("experiments/get-by-name", {"experiment_name": name})
        return got["experiment"]["experiment_id"] if got else None

    def runs(self, experiment):
        exp_id = self.experiment_id(experiment)
        check(exp_id is not None, f"experiment {experiment} does not exist")
        runs, token = [], None
        while True:
            body = {"experiment_ids": [exp_id], "max_results": 1000, "run_view_type": "ALL"}
            if token:
                body["page_token"] = token
            got = self.call("runs/search", body=body)
            runs += got.get("runs", [])
            token = got.get("next_page_token")
            if not token:
                return runs

    def versions(self, model):
        got = self.call("model-versions/search", {"filter": f"name='{model}'"})
        return got.get("model_versions", []) if got else []

    def alias(self, model, alias):
        got = self.call("registered-models/alias", {"name": model, "alias": alias})
        return got["model_version"] if got else None


def tags(run):
    return mlflow_rest.flat(run, "tags")


def params(run):
    return mlflow_rest.flat(run, "params")


def metric(run, key):
    return next((m["value"] for m in run["data"].get("metrics", []) if m["key"] == key), None)


class Sweep:
    """The runs of one smoke sweep in its own experiment."""

    def __init__(self, mlflow, experiment):
        runs = mlflow.runs(experiment)
        self.parents = [r for r in runs if "mlflow.parentRunId" not in tags(r)]
        self.attempts = {}  # trial index -> child runs, oldest first
        for r in sorted(runs, key=lambda r: int(r["info"]["start_time"])):
            t = tags(r)
            if "mlflow.parentRunId" in t:
                self.attempts.setdefault(int(t["sweep.trial"]), []).append(r)
        self.experiment = experiment

    def parent(self):
        check(len(self.parents) == 1,
              f"{self.experiment}: {len(self.parents)} parent runs, expected exactly one")
        return self.parents[0]

    def statuses(self):
        return {i: [r["info"]["status"] for r in a] for i, a in sorted(self.attempts.items())}


# --- processes ------------------------------------------------------------------------------------
def run(argv, env, timeout, cwd=None):
    started = time.monotonic()
    p = subprocess.run(argv, env=env, cwd=cwd, timeout=timeout, capture_output=True, text=True)
    return p, time.monotonic() - started


def squeue_ids(env, job):
    p = subprocess.run(["squeue", "-h", "-j", job, "-o", "%i %T"], env=env, capture_output=True,
                       text=True, timeout=30)
    return p.stdout.split("\n") if p.returncode == 0 else None


def wait_array(env, job, timeout=240):
    """Waits until no task of the array is pending or running; returns {task id: (state, exit)}."""
    deadline = time.monotonic() + timeout
    while True:
        left = squeue_ids(env, job)
        if left is not None and not any(line.strip() for line in left):
            break
        check(time.monotonic() < deadline, f"array job {job} still running after {timeout}s: {left}")
        time.sleep(1)
    shown = subprocess.run(["scontrol", "-o", "show", "job", job], env=env, capture_output=True,
                           text=True, timeout=30)
    check(shown.returncode == 0, f"scontrol show job {job}: {shown.stderr}")
    tasks = {}
    for line in shown.stdout.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        tasks[int(fields["ArrayTaskId"])] = (fields["JobState"], fields["ExitCode"])
    return tasks


def leftover_processes(marker):
    """Live processes with `marker` in their environment (slurm_cluster.sh marks its daemons)."""
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if marker.encode() not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            left.append(f"{pid} {command}")
        except OSError:
            continue  # gone, or not ours to read
    return left


def wait_until(what, done, timeout):
    deadline = time.monotonic() + timeout
    while not done():
        check(time.monotonic() < deadline, f"timed out after {timeout}s waiting until {what}")
        time.sleep(0.5)


# --- the test -------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep-runner", required=True)
    ap.add_argument("--fmnist-train", required=True)
    ap.add_argument("--work-dir", required=True)
    args = ap.parse_args()

    with open(os.environ["MLFLOW_CPP_TEST_SERVER_FILE"]) as f:
        url = f.read().strip()
    mlflow = Mlflow(url)
    work = os.path.abspath(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cluster = os.path.join(work, "cluster")
    if len(cluster + "/munge/munge.socket") > 100:  # too long for a Unix socket: a short folder instead
        cluster = tempfile.mkdtemp(prefix="mlflow-cpp-slurm-")
        os.chmod(cluster, 0o755)  # munged wants every folder above its socket searchable by all
    env = dict(os.environ)
    env.update({
        "PATH": os.path.dirname(os.path.abspath(args.sweep_runner)) + os.pathsep + env["PATH"],
        "MLFLOW_TRACKING_URI": url,
        "MLFLOW_CPP_FMNIST_TRAIN": os.path.abspath(args.fmnist_train),
        "SLURM_CONF": os.path.join(cluster, "slurm.conf"),
    })
    for key in [k for k in env if k.startswith("SLURM_") and k != "SLURM_CONF"]:
        del env[key]  # not a job here, whatever ran ctest
    suffix = f"{os.getpid()}-{int(time.time())}"
    timings = {}

    def spec(tag):
        """A copy of sweeps/smoke.yaml into its own folder, experiment and registered model."""
        folder = os.path.join(work, "spec-" + tag)
        os.makedirs(folder)
        with open(os.path.join(SOURCE_DIR, "sweeps", "smoke.yaml")) as f:
            text = f.read()
        experiment, model = f"slurm-smoke-{tag}-{suffix}", f"slurm-smoke-{tag}-{suffix}"
        check("experiment: sweep-smoke\n" in text and "model_name: fmnist-smoke\n" in text
              and "threads: {value: 1}" in text,
              "sweeps/smoke.yaml changed: this test expects its experiment, model_name and threads: 1")
        text = text.replace("experiment: sweep-smoke\n", f"experiment: {experiment}\n")
        text = text.replace("model_name: fmnist-smoke\n", f"model_name: {model}\n")
        path = os.path.join(folder, "smoke.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path, experiment, model

    def sbatch_argv(tag):
        return ["--cpus-per-task=1", "--mem=1G", f"--output={work}/{tag}-%A_%a.out"]

    def job_outputs(tag):
        out = []
        for name in sorted(os.listdir(work)):
            if name.startswith(tag + "-") and name.endswith(".out"):
                with open(os.path.join(work, name)) as f:
                    out.append(f"--- {name}\n{f.read()}")
        return "\n".join(out)

    try:
        started = time.monotonic()
        p, _ = run(["bash", CLUSTER_SH, "start", "--dir", cluster], env, 120)
        check(p.returncode == 0, f"slurm_cluster.sh start failed:\n{p.stderr}")
        check(f"export SLURM_CONF={cluster}/slurm.conf" in p.stdout, f"start printed: {p.stdout}")
        timings["cluster start"] = time.monotonic() - started

        # Bad input 1: a job Slurm refuses is never run, so no sweep is created.
        refused_spec, refused_exp, refused_model = spec("refused")
        p, _ = run(["bash", JOB_FILE, "--array=0-1", "--partition=no-such-partition",
                    *sbatch_argv("refused"), "--", refused_spec], env, 60, cwd=work)
        check(p.returncode != 0, "a submission to a partition that does not exist succeeded")
        check("sbatch refused the job" in p.stderr and "Invalid partition name" in p.stderr
              and "sinfo -s" in p.stderr, f"unclear refusal:\n{p.stderr}")
        check(p.stderr.count("error:") == 1 + p.stderr.count("sbatch: error:"),
              f"more than one error of its own:\n{p.stderr}")
        # Bad input 2: no munge key.
        missing_key = os.path.join(work, "no-such.key")
        nokey_dir = cluster + "-nokey"
        p, _ = run(["bash", CLUSTER_SH, "start", "--dir", nokey_dir, "--munge-key", missing_key],
                   env, 60)
        check(p.returncode == 2, f"start with a missing munge key exited {p.returncode}:\n{p.stderr}")
        check(f"munge key {missing_key} not found" in p.stderr and "mungekey --create" in p.stderr,
              f"unclear missing-key error:\n{p.stderr}")
        p, _ = run(["bash", CLUSTER_SH, "status", "--dir", nokey_dir], env, 30)
        check(p.returncode == 3 and p.stdout.strip() == "not running",
              f"a cluster without a key was (half) started: {p.stdout}")

        # The reference: the same spec run locally, both trials side by side.
        local_spec, local_exp, local_model = spec("local")
        p, timings["local sweep_runner -j 2"] = run(
            [args.sweep_runner, "-j", "2", local_spec, "--log-dir", os.path.join(work, "logs-local")],
            env, 240, cwd=work)
        check(p.returncode == 0, f"local sweep_runner exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        local = Sweep(mlflow, local_exp)
        check(local.parent()["info"]["status"] == "FINISHED",
              f"local parent run {local.parent()['info']['status']}")
        best = int(tags(local.parent())["sweep.best_trial"])
        check(sorted(local.attempts) == [0, 1], f"local trials: {local.statuses()}")

        def check_same_as_local(sweep, model, allowed_extra=None):
            """The trials, params, metrics and champion of `sweep` equal the local run's."""
            parent = sweep.parent()
            check(parent["info"]["status"] == "FINISHED",
                  f"{sweep.experiment}: parent run {parent['info']['status']}")
            finished = {}
            for i, attempts in sweep.attempts.items():
                statuses = [r["info"]["status"] for r in attempts]
                expected = (allowed_extra or {}).get(i, []) + ["FINISHED"]
                check(statuses == expected,
                      f"{sweep.experiment}: trial {i} attempts {statuses}, expected {expected}")
                finished[i] = attempts[-1]
            check(sorted(finished) == sorted(local.attempts),
                  f"{sweep.experiment}: trials {sorted(finished)}, locally {sorted(local.attempts)}")
            for i, r in finished.items():
                here, there = params(r), params(local.attempts[i][0])
                for key in SPEC_PARAMS:
                    check(here.get(key) == there.get(key),
                          f"trial {i} param {key}: {here.get(key)} under Slurm, {there.get(key)} locally")
                check(here.get("threads") == "1", f"trial {i} ran with threads {here.get('threads')}")
                check(metric(r, METRIC) == metric(local.attempts[i][0], METRIC),
                      f"trial {i} {METRIC}: {metric(r, METRIC)} under Slurm, "
                      f"{metric(local.attempts[i][0], METRIC)} locally")
            check(tags(parent).get("sweep.best_trial") == str(best),
                  f"{sweep.experiment}: best trial {tags(parent).get('sweep.best_trial')}, locally {best}")
            versions = mlflow.versions(model)
            check(len(versions) == 1, f"{model}: {len(versions)} versions, expected one")
            check(versions[0]["run_id"] == finished[best]["info"]["run_id"],
                  f"{model} version 1 is run {versions[0]['run_id']}, not the best trial's")
            champion = mlflow.alias(model, "champion")
            check(champion is not None and champion["version"] == versions[0]["version"],
                  f"{model}@champion: {champion}")

        # The same spec as a two-task array, submitted with sbatch as the job file says.
        array_spec, array_exp, array_model = spec("array")
        started = time.monotonic()
        p, _ = run(["sbatch", "--parsable", "--array=0-1", *sbatch_argv("array"), JOB_FILE, array_spec,
                    "--log-dir", os.path.join(work, "logs-array")], env, 60, cwd=work)
        check(p.returncode == 0, f"sbatch failed: {p.stderr}")
        job = p.stdout.strip().split(";")[0]
        tasks = wait_array(env, job)
        timings["array of 2 tasks"] = time.monotonic() - started
        check(tasks == {0: ("COMPLETED", "0:0"), 1: ("COMPLETED", "0:0")},
              f"array tasks: {tasks}\n{job_outputs('array')}")
        check_same_as_local(Sweep(mlflow, array_exp), array_model)

        # Resume: scancel the task of a trial that is not the champion while the trial runs (the
        # other task then finalizes with the trial that finished), then submit the array again.
        resume_spec, resume_exp, resume_model = spec("resume")
        victim = 1 - best
        started = time.monotonic()
        p, _ = run(["bash", JOB_FILE, "--array=0-1", *sbatch_argv("resume"), "--", resume_spec,
                    "--log-dir", os.path.join(work, "logs-resume")], env, 60, cwd=work)
        check(p.returncode == 0, f"submitting through slurm_array.sh failed:\n{p.stderr}")
        job = p.stdout.strip()
        check(job.isdigit(), f"slurm_array.sh printed {p.stdout!r}, not a job id")

        def victim_running():
            if mlflow.experiment_id(resume_exp) is None:
                return False
            return [r["info"]["status"] for r in Sweep(mlflow, resume_exp).attempts.get(victim, [])] == [
                "RUNNING"]
        wait_until(f"trial {victim} runs", victim_running, 120)
        p, _ = run(["scancel", f"{job}_{victim}"], env, 30)
        check(p.returncode == 0, f"scancel: {p.stderr}")
        tasks = wait_array(env, job)
        check(tasks[victim][0] == "CANCELLED" and tasks[best] == ("COMPLETED", "0:0"),
              f"array tasks after scancel of task {victim}: {tasks}\n{job_outputs('resume')}")
        cut = Sweep(mlflow, resume_exp)
        # sweep_runner gets SIGTERM from scancel: it stops the trial, which ends KILLED.
        check(cut.statuses() == {victim: ["KILLED"], best: ["FINISHED"]},
              f"after scancel: {cut.statuses()}\n{job_outputs('resume')}")
        check(len(mlflow.versions(resume_model)) <= 1, "more than one version after the cut")

        p, _ = run(["sbatch", "--parsable", "--array=0-1", *sbatch_argv("resume2"), JOB_FILE,
                    resume_spec, "--log-dir", os.path.join(work, "logs-resume2")], env, 60, cwd=work)
        check(p.returncode == 0, f"sbatch failed: {p.stderr}")
        tasks = wait_array(env, p.stdout.strip().split(";")[0])
        timings["array cut by scancel, then resubmitted"] = time.monotonic() - started
        check(tasks == {0: ("COMPLETED", "0:0"), 1: ("COMPLETED", "0:0")},
              f"resubmitted array tasks: {tasks}\n{job_outputs('resume2')}")
        check_same_as_local(Sweep(mlflow, resume_exp), resume_model, allowed_extra={victim: ["KILLED"]})

        # Bad input 3: munged gone. The wrapper names the socket and what to do; nothing is created.
        socket = os.path.join(cluster, "munge", "munge.socket")
        p, _ = run(["munged", "--stop", "--socket", socket], env, 30)
        check(p.returncode == 0, f"munged --stop: {p.stderr}")
        p, _ = run(["bash", JOB_FILE, "--array=0-1", *sbatch_argv("refused"), "--", refused_spec],
                   env, 60, cwd=work)
        check(p.returncode != 0, "a submission without munged succeeded")
        check(f"munged does not answer on {socket}" in p.stderr and "mungekey --create" in p.stderr,
              f"unclear munge error:\n{p.stderr}")
        check(mlflow.experiment_id(refused_exp) is None,
              f"experiment {refused_exp} exists after refused submissions")
        check(mlflow.call("registered-models/get", {"name": refused_model}) is None,
              f"model {refused_model} exists after refused submissions")
    finally:
        p, _ = run(["bash", CLUSTER_SH, "stop", "--dir", cluster], env, 120)
        print(p.stderr, end="")
    p, _ = run(["bash", CLUSTER_SH, "status", "--dir", cluster], env, 30)
    check(p.returncode == 3, f"after stop, status says: {p.stdout}")
    left = leftover_processes(f"MLFLOW_CPP_SLURM_CLUSTER={os.path.realpath(cluster)}")
    check(not left, f"processes of the cluster left after stop: {left}")
    if not cluster.startswith(work):
        shutil.rmtree(cluster)
        shutil.rmtree(cluster + "-nokey", ignore_errors=True)
    for what, seconds in timings.items():
        print(f"{what}: {seconds:.1f} s")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    print("slurm_sweep_test: ok")

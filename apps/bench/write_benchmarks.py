#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes BENCHMARKS.md and benchmarks.json from the JSON the benchmark programs left in --work
(tracking.json, training.json, sweep.json, serve/serve.json), with the machine and the versions it ran on."""
import argparse
import glob
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

from serve_report import section as serve_section


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def build_compiler(build):
    """The compiler the benchmarks were built with (CMakeCache.txt), not whatever `c++` is."""
    try:
        cache = open(os.path.join(build, "CMakeCache.txt")).read()
    except OSError:
        return ""
    m = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.*)$", cache, re.M)
    if not m:
        return ""
    version = sh(f"'{m.group(1)}' --version | head -n1")
    build_type = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache, re.M)
    return version + (f" ({build_type.group(1)})" if build_type and build_type.group(1) else "")


def machine(repo, build):
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    mem_kb = int(re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read()).group(1))
    return {
        "cores": os.cpu_count(),
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "mlflow": sh(f"'{repo}/mlflow/.venv/bin/python' -c 'import importlib.metadata as m; print(m.version(\"mlflow\"))'"),
        "libtorch": sh("dpkg-query -W -f='${Version}' libtorch-dev"),
        "python3_torch": sh("dpkg-query -W -f='${Version}' python3-torch"),
        "compiler": build_compiler(build) or sh("c++ --version | head -n1"),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "git_commit": sh(f"git -C '{repo}' rev-parse --short HEAD"),
        "load_average_at_end": sh("cut -d' ' -f1-3 /proc/loadavg"),
    }


def load(path):
    return json.load(open(path)) if os.path.exists(path) else None


def fmt_stats(s, unit="", digits=0):
    if not s:
        return "n/a"
    f = f"{{:,.{digits}f}}"
    return f"{f.format(s['median'])}{unit} ({f.format(s['min'])}–{f.format(s['max'])})"


def verdict(value, goal, higher_is_better=True):
    if value is None:
        return "n/a"
    ok = value >= goal if higher_is_better else value <= goal
    return "met" if ok else "**missed**"


def tracking_section(t):
    f = t["figures"]
    med = lambda k: f[k]["median"] if k in f else None
    rows = [
        ("floor: pre-serialised 1000-metric log-batch over keep-alive", "floor"),
        ("C++ async logger (AsyncLogger)", "cpp_async"),
        ("C++ client, log-batch per 1000", "cpp_batch"),
        ("C++ client, one request per value", "cpp_single"),
        ("Python mlflow, async, MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS=" + str(t.get("buffering_seconds")),
         "python_async_buffered"),
        ("Python mlflow, async (synchronous=False), defaults", "python_async"),
        ("Python MlflowClient.log_batch per 1000", "python_batch"),
        ("Python mlflow.log_metric, one call per value", "python_single"),
    ]
    out = ["## Tracking throughput and overhead (bench_tracking)", "",
           f"One local MLflow server, {t['reps']} repetitions; each contender's metrics were counted back "
           f"through the API. Batch, async and floor contenders log {t['metrics']:,} metrics per repetition, "
           f"one-request-per-value and Python's default async {t['single_metrics']:,} (they are slow). "
           "Contenders take turns going first. Figures: median (min–max).", "",
           "Python's async logging with default settings sends about one request per value, so its rate does not "
           "depend on how many values are logged (check: `MLFLOW_TRACKING_URI=... mlflow/.venv/bin/python "
           "apps/bench/python_tracking.py --mode async --metrics 5000`) and the smaller count does not flatter "
           "the comparison.", "",
           "| contender | metrics/s |", "|---|---|"]
    for name, key in rows:
        if key in f:
            out.append(f"| {name} | {fmt_stats(f[key])} |")
    out += ["", "| ratio (median of per-repetition ratios) | value | goal |", "|---|---|---|"]
    ratios = [
        ("C++ async / floor", "cpp_async_over_floor", 0.9),
        ("C++ log-batch / floor", "cpp_batch_over_floor", None),
        ("C++ one-per-value / floor", "cpp_single_over_floor", None),
        ("C++ async / Python one-call-per-value", "cpp_async_over_python_single", 10),
        ("C++ async / Python async (defaults)", "cpp_async_over_python_async", 2),
        ("C++ async / Python async (buffered)", "cpp_async_over_python_async_buffered", None),
        ("C++ log-batch / Python log_batch", "cpp_batch_over_python_batch", None),
        ("C++ one-per-value / Python one-per-value", "cpp_single_over_python_single", None),
        ("Python log_batch / floor", "python_batch_over_floor", None),
        ("Python async (buffered) / floor", "python_async_buffered_over_floor", None),
    ]
    for name, key, goal in ratios:
        if key in f:
            g = f"≥ {goal}×: {verdict(med(key), goal)}" if goal else ""
            out.append(f"| {name} | {fmt_stats(f[key], '×', 2)} | {g} |")
    out += ["", "| log_metric on the caller's thread | p50 | p99 | max |", "|---|---|---|---|"]
    for name, prefix in [("C++ async, server up", "cpp_async_latency_server_up"),
                         ("C++ async, server down (records go to the spool)", "cpp_async_latency_server_down"),
                         ("Python async, defaults", "python_async_latency"),
                         ("Python async, buffered", "python_async_buffered_latency")]:
        if prefix + "_p50_ns" in f:
            cells = [fmt_stats(f[f"{prefix}_{q}_ns"], " ns") for q in ("p50", "p99", "max")]
            out.append(f"| {name} | {' | '.join(cells)} |")
    p99 = med("cpp_async_latency_server_up_p99_ns")
    out += ["", f"Goal C++ log_metric p99 ≤ 5 µs: {verdict(p99, 5000, higher_is_better=False)} "
                f"({p99:,.0f} ns; server down {med('cpp_async_latency_server_down_p99_ns'):,.0f} ns).", ""]
    return out


def training_section(t, same_allocator=None):
    out = ["## Training: C++ trainer against PyTorch in Python (bench_training)", "",
           "One SmallCNN epoch over the 48k training split, data already in memory on both sides, the same "
           "architecture, batch size, optimizer and threads; C++ and Python take turns, repetition by "
           "repetition. Figures: median (min–max).", "",
           "| figure | median (min–max) | goal |", "|---|---|---|"]
    cpp, py, ratio = t.get("cpp", {}), t.get("python", {}), t.get("cpp_over_python", {})
    tr = t.get("tracking", {})
    if cpp.get("images_per_second"):
        out.append(f"| C++ trainer, images/s | {fmt_stats(cpp['images_per_second'])} | |")
    if py.get("images_per_second"):
        out.append(f"| PyTorch in Python, images/s | {fmt_stats(py['images_per_second'])} | |")
    if ratio.get("summary"):
        r = ratio["summary"]
        out.append(f"| C++ / Python (per-repetition ratios) | {fmt_stats(r, '×', 2)} | ≥ 1.2×: {verdict(r['median'], 1.2)} |")
    # A second pass with Python on the allocator the C++ apps link (tcmalloc, nothing given back to the kernel).
    same = same_allocator or {}
    if same.get("python", {}).get("images_per_second") and same.get("cpp_over_python", {}).get("summary"):
        out.append(f"| second pass: C++ trainer, images/s | {fmt_stats(same['cpp']['images_per_second'])} | |")
        out.append(f"| second pass: PyTorch in Python with tcmalloc preloaded, images/s | "
                   f"{fmt_stats(same['python']['images_per_second'])} | |")
        r = same["cpp_over_python"]["summary"]
        out.append(f"| C++ / Python, same allocator (per-repetition ratios) | {fmt_stats(r, '×', 2)} | ≥ 1.2×: "
                   f"{verdict(r['median'], 1.2)} |")
    if tr.get("off_seconds") and tr.get("on_seconds"):
        out.append(f"| epoch, tracking off, s | {fmt_stats(tr['off_seconds'], ' s', 2)} | |")
        out.append(f"| epoch, tracking on, s | {fmt_stats(tr['on_seconds'], ' s', 2)} | |")
    if tr.get("direct_overhead_percent"):
        out.append(f"| time in logging calls on the training thread, % of epoch | "
                   f"{fmt_stats(tr['direct_overhead_percent'], ' %', 3)} | |")
    if tr.get("overhead_percent"):
        o = tr["overhead_percent"]
        out.append(f"| tracking on vs off, % of epoch time | {fmt_stats(o, ' %', 2)} | ≤ 1 %: "
                   f"{verdict(o['median'], 1.0, higher_is_better=False)} |")
    out.append("")
    o, d = tr.get("overhead_percent"), tr.get("direct_overhead_percent")
    if o and d and o["max"] - o["min"] > 1.0:
        out += [f"The on-off difference of whole epochs spreads over {o['min']:+.1f} % to {o['max']:+.1f} %: this "
                "machine's epoch-to-epoch noise, larger than any effect of tracking, so its median says little. "
                f"What tracking certainly adds is the time in its calls on the training thread, {d['median']:.3f} % "
                "of the epoch; the logger's worker and the server take CPU beside it.", ""]
    if tr.get("what"):
        out += ["Tracking on and off, " + tr["what"], ""]
    v = t.get("versions", {})
    settings = t.get("settings", {})
    out += ["Settings: " + ", ".join(f"{k} {val}" for k, val in settings.items())
            + f"; LibTorch {v.get('cpp_libtorch_version', '?')} (C++), torch {v.get('python_torch_version', '?')} (Python).", ""]
    return out


def summary(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)} if values else None


def sweep_figures(runs):
    """Wall times per --parallel setting and the ratio of their medians."""
    by = {1: [], 2: []}
    for r in runs:
        by[r["parallel"]].append(r["seconds"])
    f = {f"parallel_{p}_seconds": summary(v) for p, v in by.items() if v}
    if by[1] and by[2]:
        f["parallel_2_over_parallel_1"] = statistics.median(by[2]) / statistics.median(by[1])
    return by, f


def sweep_section(runs):
    spec = runs[0].get("spec", "batch_size.yaml") if runs else "batch_size.yaml"
    out = [f"## Sweep: sweeps/{spec}, --parallel 1 against --parallel 2", "",
           "Each setting runs the whole sweep under a fresh name (no trial skipped), the settings taking turns "
           "going first" + ("; the backbone it depends on is pretrained once beforehand, untimed."
                            if spec == "batch_size.yaml" else "."), "",
           "| --parallel | wall time, s: median (min–max) | runs |", "|---|---|---|"]
    by, f = sweep_figures(runs)
    for p in (1, 2):
        if by[p]:
            out.append(f"| {p} | {fmt_stats(f[f'parallel_{p}_seconds'], ' s', 1)} | "
                       f"{', '.join(f'{x:.1f}' for x in by[p])} |")
    if "parallel_2_over_parallel_1" in f:
        r = f["parallel_2_over_parallel_1"]
        out += ["", f"Ratio of medians, parallel 2 / parallel 1: **{r:.2f}** "
                    f"(goal no slower, ≤ 1.0: {verdict(r, 1.0, higher_is_better=False)}; the earlier goal "
                    f"≤ 0.7: {verdict(r, 0.7, higher_is_better=False)}, for trials that pin as many threads "
                    "as the machine has cores leave none to gain). Trials side by side wait passively in "
                    "OpenMP (`OMP_WAIT_POLICY=PASSIVE`, set by sweep_runner when --parallel is above 1).", ""]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--build", default="", help="build directory the benchmarks ran from (for the compiler)")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    m = machine(a.repo, a.build or os.path.join(a.repo, "build"))
    tracking, training, training_tcmalloc, sweep, serve = (
        load(os.path.join(a.work, n))
        for n in ("tracking.json", "training.json", "training-tcmalloc.json", "sweep.json", "serve/serve.json"))
    md = ["# Benchmarks", "",
          "Measured on this machine by one command, `bash cmake/run.sh bench` (which builds, then runs "
          "`apps/bench/run_benchmarks.sh` against one MLflow server it starts for the occasion); the numbers "
          "behind this page are in `benchmarks.json` next to it. The training and sweep runs share that server "
          "with the tracking benchmark's runs."
          + (" **Quick mode: sizes too small to mean anything.**" if a.quick else ""), "",
          "| machine | |", "|---|---|"]
    for k in ("cpu", "cores", "memory_gib", "os", "compiler", "mlflow", "libtorch", "python3_torch", "date",
              "git_commit", "load_average_at_end"):
        md.append(f"| {k.replace('_', ' ')} | {m.get(k, '')} |")
    md.append("")
    if tracking:
        md += tracking_section(tracking)
    if training:
        md += training_section(training, training_tcmalloc)
    if sweep:
        md += sweep_section(sweep)
    if serve:
        md += serve_section(serve)
    # Figures measured by their own scripts (run_allocator.sh, run_controls.sh, ...), each a section of its own.
    for extra in sorted(glob.glob(os.path.join(a.repo, "apps", "bench", "results", "*.md"))):
        md += [open(extra).read().rstrip("\n"), ""]
    md += ["## Reproduce", "", "```sh", "bash cmake/run.sh bench               # everything (about 45 minutes on 2 cores)",
           "bash cmake/run.sh bench -- --quick   # a smoke run of every benchmark (what CI does)",
           "build/apps/bench/bench_tracking --help; build/apps/bench/bench_training --help",
           "bash apps/bench/run_serve_bench.sh --help; build/apps/bench/bench_serve_load --help",
           "bash apps/bench/run_team_bench.sh --help; build/apps/bench/bench_team_load --help", "```", ""]
    os.makedirs(a.out, exist_ok=True)
    open(os.path.join(a.out, "BENCHMARKS.md"), "w").write("\n".join(md))
    json.dump({"machine": m, "tracking": tracking, "training": training, "training_tcmalloc": training_tcmalloc,
               "sweep": {"runs": sweep, "figures": sweep_figures(sweep)[1]} if sweep else None,
               "serve": {k: serve[k] for k in ("settings", "figures")} if serve else None},
              open(os.path.join(a.out, "benchmarks.json"), "w"), indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

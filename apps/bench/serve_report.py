#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Summarises run_serve_bench.sh's raw runs (bench_serve_load's JSON per model, contender and repetition,
with the server's CPU beside it) into serve.json and a markdown section, serve.md; write_benchmarks.py
renders the same section from serve.json."""
import argparse
import datetime
import glob
import json
import os
import statistics
import sys

CONTENDERS = [("fastapi", "FastAPI + uvicorn, PyTorch, one request per forward"),
              ("mlflow", "mlflow models serve, ONNX flavour (onnxruntime), one request per predict"),
              ("batch1", "fmnist_serve, batching off (--max-batch 1)"),
              ("batched", "fmnist_serve, batching on")]
GOAL_OURS_OVER_PYTHON, GOAL_BATCHING, GOAL_OURS_OVER_MLFLOW = 3.0, 2.0, 3.0


def summary(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)} if values else None


def figures(runs):
    """Medians over repetitions per model and contender, and the issue's ratios."""
    out = {}
    for m in sorted({r["model"] for r in runs}):
        per = {}
        for c in sorted({r["contender"] for r in runs if r["model"] == m}):
            rs = [r for r in runs if r["model"] == m and r["contender"] == c]
            by_rate = {}
            for r in rs:
                for x in r["load"]["runs"]:
                    by_rate.setdefault(x["rate_asked"], []).append(x)
            per[c] = {
                "reps": len(rs),
                "highest_rate_held": summary([r["load"]["highest_rate_held"] for r in rs]),
                "highest_rate_achieved": summary([r["load"]["highest_rate_achieved"] for r in rs]),
                "server_user_s": summary([r["user_s"] for r in rs]),
                "server_sys_s": summary([r["sys_s"] for r in rs]),
                "by_rate": {f"{rate:g}": {"p50_ms": statistics.median(x["latency_ms"]["p50"] for x in xs),
                                          "p99_ms": statistics.median(x["latency_ms"]["p99"] for x in xs),
                                          "held": sum(x["held"] for x in xs), "runs": len(xs)}
                            for rate, xs in sorted(by_rate.items())},
            }
        med = lambda c, k: per[c][k]["median"] if c in per else None
        ratio = lambda a, b: a / b if a is not None and b else None
        # fmnist_serve at its best setting: batching off or on, whichever held the higher rate.
        ours_held = max((v for v in (med("batch1", "highest_rate_held"), med("batched", "highest_rate_held"))
                         if v is not None), default=None)
        ours_capacity = max((v for v in (med("batch1", "highest_rate_achieved"),
                                         med("batched", "highest_rate_achieved")) if v is not None), default=None)
        per["ratios"] = {
            "batch1_over_fastapi_held": ratio(med("batch1", "highest_rate_held"), med("fastapi", "highest_rate_held")),
            "batched_over_fastapi_held": ratio(med("batched", "highest_rate_held"), med("fastapi", "highest_rate_held")),
            "batched_over_fastapi_capacity": ratio(med("batched", "highest_rate_achieved"),
                                                   med("fastapi", "highest_rate_achieved")),
            "batched_over_batch1_held": ratio(med("batched", "highest_rate_held"), med("batch1", "highest_rate_held")),
            "batched_over_batch1_capacity": ratio(med("batched", "highest_rate_achieved"),
                                                  med("batch1", "highest_rate_achieved")),
            "ours_best_over_mlflow_held": ratio(ours_held, med("mlflow", "highest_rate_held")),
            "ours_best_over_mlflow_capacity": ratio(ours_capacity, med("mlflow", "highest_rate_achieved")),
        }
        out[m] = per
    return out


def load_runs(raw):
    runs = []
    for cpu_path in sorted(glob.glob(os.path.join(raw, "*.cpu.json"))):
        r = json.load(open(cpu_path))
        r["load"] = json.load(open(cpu_path[:-len(".cpu.json")] + ".json"))
        runs.append(r)
    return runs


def cell(x, digits=0, unit=""):
    return "n/a" if x is None else f"{x:,.{digits}f}{unit}"


def ratio_cell(r, goal=None):
    if r is None:
        return "n/a"
    text = f"{r:.2f}×"
    return text + (f" (goal ≥ {goal:g}×: {'met' if r >= goal else '**missed**'})" if goal else "")


def section(serve):
    """The markdown section of serve.json's contents."""
    s, figs = serve["settings"], serve["figures"]
    md = ["## Serving under load: FastAPI and MLflow's scoring server against fmnist_serve (run_serve_bench.sh)",
          "", f"`{s['command']}`, {s.get('date', '')}. Each server on one core (`taskset -c 0`, one inference "
          "thread: LibTorch's, or onnxruntime's through the MLmodel's `onnx_session_options`), the open-loop "
          "generator `bench_serve_load` on the other (`taskset -c 1`); one test image per POST /invocations; "
          "the same body for every contender; arrival times fixed in advance and latency counted from each request's "
          "scheduled time; at most 64 requests in flight, any more counted as dropped. A rate is held with "
          f"no error, no drop and p99 ≤ {s['slo_ms']:g} ms; the capacity is the highest rate achieved. "
          f"Batching on: {s['batch']}. Medians of {s['reps']} repetitions, contenders taking turns. The same "
          "scenario for Locust, as the projects load-tested theirs, is `apps/bench/locustfile.py` (closed-loop, "
          "so not used for these figures).", ""]
    names = dict(CONTENDERS)
    for m, per in figs.items():
        cs = [c for c, _ in CONTENDERS if c in per]
        md += [f"**{m}**", "", "| contender | highest rate held, req/s | capacity, req/s | server CPU user / sys s |",
               "|---|---|---|---|"]
        for c in cs:
            f = per[c]
            md.append(f"| {names[c]} | {cell(f['highest_rate_held']['median'])} | "
                      f"{cell(f['highest_rate_achieved']['median'])} | {cell(f['server_user_s']['median'], 1)} / "
                      f"{cell(f['server_sys_s']['median'], 1)} |")
        r = per["ratios"]
        md += ["", "| ratio | value |", "|---|---|",
               f"| ours (batching on) / FastAPI, highest rate held | "
               f"{ratio_cell(r['batched_over_fastapi_held'], GOAL_OURS_OVER_PYTHON)} |",
               f"| ours (batching off) / FastAPI, highest rate held: the language's share | "
               f"{ratio_cell(r['batch1_over_fastapi_held'])} |",
               f"| ours (batching on) / FastAPI, capacity | {ratio_cell(r['batched_over_fastapi_capacity'])} |",
               f"| batching on / off, capacity (at saturation) | "
               f"{ratio_cell(r['batched_over_batch1_capacity'], GOAL_BATCHING)} |",
               f"| batching on / off, highest rate held | {ratio_cell(r['batched_over_batch1_held'])} |",
               f"| ours (best of batching off / on) / MLflow's scoring server (ONNX), highest rate held | "
               f"{ratio_cell(r.get('ours_best_over_mlflow_held'), GOAL_OURS_OVER_MLFLOW)} |",
               f"| ours (best of batching off / on) / MLflow's scoring server (ONNX), capacity | "
               f"{ratio_cell(r.get('ours_best_over_mlflow_capacity'))} |", ""]
        rates = sorted({float(k) for c in cs for k in per[c]["by_rate"]})
        md += ["| rate, req/s | " + " | ".join(f"{c}: p50 / p99 ms" for c in cs) + " |",
               "|---" * (len(cs) + 1) + "|"]
        for rate in rates:
            cells = []
            for c in cs:
                x = per[c]["by_rate"].get(f"{rate:g}")
                cells.append("" if x is None else f"{x['p50_ms']:.1f} / {x['p99_ms']:.1f}"
                             + ("" if x["held"] == x["runs"] else " ✗"))
            md.append(f"| {rate:g} | " + " | ".join(cells) + " |")
        md += ["", "✗: not held in every repetition.", ""]
    return md


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--raw", required=True, help="directory of the raw runs")
    ap.add_argument("--out", required=True, help="where serve.json and serve.md go")
    ap.add_argument("--batch", default="", help="the batching settings, for the text")
    ap.add_argument("--command", default="bash apps/bench/run_serve_bench.sh")
    a = ap.parse_args()
    runs = load_runs(a.raw)
    if not runs:
        print(f"serve_report.py: no runs in {a.raw}", file=sys.stderr)
        return 1
    serve = {"settings": {"command": a.command.strip(), "batch": a.batch, "reps": max(r["rep"] for r in runs),
                          "slo_ms": runs[0]["load"]["slo_ms"],
                          "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")},
             "figures": figures(runs), "runs": runs}
    json.dump(serve, open(os.path.join(a.out, "serve.json"), "w"), indent=2)
    open(os.path.join(a.out, "serve.md"), "w").write("\n".join(section(serve)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

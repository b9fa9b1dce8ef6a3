#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The official Python client's side of bench_tracking: one mode per process (the async modes read
their environment once), metrics counted back through the API, JSON on stdout.

Run by bench_tracking with the project's venv python (mlflow/.venv/bin/python); MLFLOW_TRACKING_URI
names the server. Modes:
  single  mlflow.log_metric, one call (one request) per value
  batch   MlflowClient.log_batch with 1000 metrics per call
  async   mlflow.log_metric(..., synchronous=False), per-call latency on the caller's thread, then
          mlflow.flush_async_logging(); with MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS set by the caller
          for the buffered variant
"""
import argparse
import json
import sys
import time

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient


def percentile(sorted_values, p):
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["single", "batch", "async"], required=True)
    ap.add_argument("--metrics", type=int, required=True, help="values to log")
    ap.add_argument("--experiment", default="bench-tracking-python")
    args = ap.parse_args()

    mlflow.set_experiment(args.experiment)
    client = MlflowClient()
    latencies = []
    with mlflow.start_run(run_name=f"python-{args.mode}") as run:
        run_id = run.info.run_id
        t0 = time.perf_counter()
        if args.mode == "single":
            for i in range(args.metrics):
                mlflow.log_metric("m", i * 0.5, step=i)
        elif args.mode == "batch":
            batch = []
            for i in range(args.metrics):
                batch.append(Metric("m", i * 0.5, int(time.time() * 1000), i))
                if len(batch) == 1000 or i + 1 == args.metrics:
                    client.log_batch(run_id, metrics=batch)
                    batch = []
        else:
            for i in range(args.metrics):
                c0 = time.perf_counter_ns()
                mlflow.log_metric("m", i * 0.5, step=i, synchronous=False)
                latencies.append(time.perf_counter_ns() - c0)
            mlflow.flush_async_logging()
        seconds = time.perf_counter() - t0
    stored = len(client.get_metric_history(run_id, "m"))
    latencies.sort()
    out = {
        "mode": args.mode,
        "metrics": args.metrics,
        "seconds": seconds,
        "metrics_per_s": args.metrics / seconds,
        "stored": stored,
        "mlflow_version": mlflow.__version__,
    }
    if latencies:
        out["latency_ns"] = {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
                             "max": latencies[-1]}
    json.dump(out, sys.stdout)
    print()
    return 0 if stored == args.metrics else 3


if __name__ == "__main__":
    sys.exit(main())

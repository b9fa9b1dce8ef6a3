#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks on the MLflow server what a sweep of tests/consumer/sweep/sweep.yaml left in EXPERIMENT
(run by the installed sweep_runner or by sweep_driver): one FINISHED parent run with a FINISHED
child run per learning rate, each with the params and val_rmse history linreg_train logged, the
trial with the lowest val_rmse selected on the parent and registered as MODEL@champion.

Usage: check_sweep.py URL EXPERIMENT MODEL. Exit 0 when all holds, 1 naming what does not."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from mlflow_rest import RestError, flat  # noqa: E402 (after the path it is found on)
from mlflow_rest import call as rest_call  # noqa: E402

LEARNING_RATES = {"0.01", "0.05", "0.3"}  # the spec's grid
EPOCHS = 30


class Mismatch(Exception):
    pass


def call(url, endpoint, query=None, body=None):
    try:
        return rest_call(url, endpoint, query, body, timeout=60)
    except RestError as e:
        raise Mismatch(str(e)) from None


def expect(condition, what):
    if not condition:
        raise Mismatch(what)


def check(url, experiment, model):
    found = call(url, "experiments/get-by-name", {"experiment_name": experiment})
    search = {"experiment_ids": [found["experiment"]["experiment_id"]], "max_results": 100}
    runs = call(url, "runs/search", body=search).get("runs", [])
    parents = [r for r in runs if "mlflow.parentRunId" not in flat(r, "tags")]
    expect(len(parents) == 1, f"expected one parent run, found {len(parents)} of {len(runs)} runs")
    parent = parents[0]
    parent_id = parent["info"]["run_id"]
    parent_tags, parent_params = flat(parent, "tags"), flat(parent, "params")
    expect(parent["info"]["status"] == "FINISHED", f"parent run is {parent['info']['status']}")
    expect(parent_tags.get("sweep.name") == "linreg_lr",
           f"parent's sweep.name is {parent_tags.get('sweep.name')}")
    expect(parent_params.get("trials") == "3",
           f"parent's trials param is {parent_params.get('trials')}")
    expect(parent_params.get("program", "").endswith("/linreg_train"),
           f"parent's program param is {parent_params.get('program')}, not the user's linreg_train")

    children = [r for r in runs if flat(r, "tags").get("mlflow.parentRunId") == parent_id]
    expect(len(children) == 3 and len(runs) == 4,
           f"expected 3 trial runs nested in the parent, found {len(children)} of {len(runs)} runs")
    rmse = {}
    for child in children:
        run_id = child["info"]["run_id"]
        params = flat(child, "params")
        expect(child["info"]["status"] == "FINISHED",
               f"trial {run_id} is {child['info']['status']}")
        # epochs and learning_rate come from the spec; l2 only the program logs (its default).
        expect(params.get("epochs") == str(EPOCHS) and params.get("l2") == "0",
               f"trial {run_id} params {params}: not as linreg_train logs them")
        rmse[params.get("learning_rate")] = (flat(child, "metrics").get("val_rmse"), run_id)
        history = call(url, "metrics/get-history", {"run_id": run_id, "metric_key": "val_rmse"})
        steps = sorted(int(m["step"]) for m in history.get("metrics", []))
        expect(steps == list(range(1, EPOCHS + 1)),
               f"trial {run_id} val_rmse steps {steps}, expected 1..{EPOCHS}")
    expect(set(rmse) == LEARNING_RATES,
           f"trials' learning rates {sorted(rmse)}, expected {sorted(LEARNING_RATES)}")
    expect(all(v is not None for v, _ in rmse.values()), f"a trial logged no val_rmse: {rmse}")

    best_value, best_run = min(rmse.values())
    selected = parent_tags.get("sweep.best_run_id")
    expect(selected == best_run, f"parent's sweep.best_run_id is {selected}, "
           f"the lowest val_rmse is {best_run}'s: {rmse}")
    logged_best = flat(parent, "metrics").get("best_val_rmse")
    expect(logged_best == best_value, f"parent's best_val_rmse is {logged_best}, not {best_value}")
    alias = call(url, "registered-models/alias", {"name": model, "alias": "champion"})
    version = alias["model_version"]
    expect(version.get("run_id") == best_run,
           f"{model}@champion is version {version.get('version')} of run "
           f"{version.get('run_id')}, not the best trial {best_run}")
    return parent_id, best_run, best_value


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    url, experiment, model = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    try:
        parent_id, best_run, best_value = check(url, experiment, model)
    except Mismatch as e:
        print(f"check_sweep.py: FAIL: {e}", file=sys.stderr)
        return 1
    print(f"check_sweep.py: parent {parent_id}, best trial {best_run} (val_rmse {best_value}) "
          f"is {model}@champion")
    return 0


if __name__ == "__main__":
    sys.exit(main())

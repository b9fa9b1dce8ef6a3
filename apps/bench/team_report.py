#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Figures of apps/bench/run_team_bench.sh: `trial` summarises one trial's files into a JSON line,
`line` prints one such line for a human, `report` writes team_load.{json,csv,md} with the medians
over the repetitions per backend and team size. Standard library only."""

import argparse
import csv
import json
import math
import os
import statistics
import sys


def merged_percentile(histograms, p):
    """Percentile p of the calls of every trainer: their log-bucket histograms summed."""
    buckets, count, max_ns, per_octave = {}, 0, 0.0, None
    for h in histograms:
        per_octave = h["per_octave"]
        count += h["count"]
        max_ns = max(max_ns, h["max_ns"])
        for b, n in h["buckets"].items():
            buckets[int(b)] = buckets.get(int(b), 0) + n
    if count == 0:
        return 0.0
    rank = math.ceil(p * count)
    seen = 0
    for b in sorted(buckets):
        seen += buckets[b]
        if seen >= rank:
            return min(2 ** ((b + 1) / per_octave), max_ns)
    return max_ns


def read_json_line(path):
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    if not lines:
        raise SystemExit(f"team_report.py: {path} is empty (the program failed; see its .err)")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as e:
        raise SystemExit(f"team_report.py: {path}: last line is not JSON: {e}") from None


def cmd_trial(a):
    trainers = [read_json_line(os.path.join(a.dir, f"t{i}.json")) for i in range(a.trainers)]
    count = read_json_line(os.path.join(a.dir, "count.json"))
    last_stored = max(t["stored_ms"] for t in trainers)
    wall = (last_stored - a.go_ms) / 1000.0
    hists = [t["latency"] for t in trainers]
    sb, sa = (float(x) for x in a.server_cpu[0].split()), (float(x) for x in a.server_cpu[1].split())
    server = [after - before for before, after in zip(sb, sa)]
    db = [0.0, 0.0]
    if a.db_cpu[0].strip():
        db_b = [float(x) for x in a.db_cpu[0].split()]
        db_a = [float(x) for x in a.db_cpu[1].split()]
        db = [after - before for before, after in zip(db_b, db_a)]
    rec = {
        "backend": a.backend, "trainers": a.trainers, "rep": a.rep,
        "wall_s": wall,
        "expected": count["expected"], "stored": count["stored"], "missing": count["missing"],
        "duplicated": count["duplicated"], "wrong": count["wrong"],
        "runs_finished": count["runs_finished"], "count_ok": count["ok"],
        "metrics_per_s": count["stored"] / wall if wall > 0 else 0.0,
        "caller_p50_ns": merged_percentile(hists, 0.50),
        "caller_p99_ns": merged_percentile(hists, 0.99),
        "caller_max_ns": max(h["max_ns"] for h in hists),
        "logging_s_max": max(t["log_seconds"] for t in trainers),
        "spooled": sum(t["spooled"] for t in trainers),
        "retried": sum(t["retried"] for t in trainers),
        "rejected": sum(t["rejected"] for t in trainers),
        "all_complete": all(t["complete"] for t in trainers),
        "cpu_server_user_s": server[0], "cpu_server_sys_s": server[1],
        "cpu_db_user_s": db[0], "cpu_db_sys_s": db[1],
        "cpu_trainers_user_s": sum(t["cpu_user_s"] for t in trainers),
        "cpu_trainers_sys_s": sum(t["cpu_sys_s"] for t in trainers),
    }
    print(json.dumps(rec))


def cmd_line(_):
    r = json.loads(sys.stdin.read().splitlines()[-1])
    print(f"[team]   {r['backend']} N={r['trainers']}: {r['metrics_per_s']:,.0f} metrics/s, "
          f"{r['stored']}/{r['expected']} stored ({r['duplicated']} duplicated), wall "
          f"{r['wall_s']:.1f} s, caller p99 {r['caller_p99_ns']:,.0f} ns, CPU server "
          f"{r['cpu_server_user_s']:.1f}+{r['cpu_server_sys_s']:.1f} s, db "
          f"{r['cpu_db_user_s']:.1f}+{r['cpu_db_sys_s']:.1f} s, trainers "
          f"{r['cpu_trainers_user_s']:.1f}+{r['cpu_trainers_sys_s']:.1f} s")


FIGURES = ("metrics_per_s", "caller_p50_ns", "caller_p99_ns", "caller_max_ns", "wall_s",
           "cpu_server_user_s", "cpu_server_sys_s", "cpu_db_user_s", "cpu_db_sys_s",
           "cpu_trainers_user_s", "cpu_trainers_sys_s")


def cmd_report(a):
    with open(a.trials) as f:
        trials = [json.loads(line) for line in f if line.strip()]
    groups = {}
    for t in trials:
        groups.setdefault((t["backend"], t["trainers"]), []).append(t)
    rows = []
    for (backend, n), ts in sorted(groups.items()):
        row = {"backend": backend, "trainers": n, "reps": len(ts),
               "stored": sum(t["stored"] for t in ts), "expected": sum(t["expected"] for t in ts),
               "duplicated": sum(t["duplicated"] for t in ts),
               "missing": sum(t["missing"] for t in ts),
               "retried": statistics.median(t["retried"] for t in ts),
               "spooled": statistics.median(t["spooled"] for t in ts)}
        for k in FIGURES:
            vals = [t[k] for t in ts]
            row[k] = statistics.median(vals)
            row[k + "_min"] = min(vals)
            row[k + "_max"] = max(vals)
        rows.append(row)
    os.makedirs(a.out, exist_ok=True)
    settings = {"metrics_per_trainer": a.metrics, "keys": a.keys, "reps": a.reps,
                "postgres_server_workers": a.workers, "request_timeout_ms": a.request_timeout_ms,
                "uptime_at_end": uptime()}
    with open(os.path.join(a.out, "team_load.json"), "w") as f:
        json.dump({"settings": settings, "medians": rows, "trials": trials}, f, indent=2)
    with open(os.path.join(a.out, "team_load.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    lines = [
        f"{a.metrics:,} values per trainer ({a.keys} keys per step), medians of {a.reps} "
        f"repetitions (min–max); PostgreSQL-backed server with {a.workers} uvicorn workers, SQLite "
        f"with one; the trainers' request timeout {a.request_timeout_ms / 1000:g} s. Load average "
        f"at the end: {settings['uptime_at_end']}. Records retried and "
        "spooled: the trainers' AsyncLogger counters, summed over the team (median of the "
        "repetitions).",
        "",
        "| backend | trainers | metrics/s | caller p99 | caller max | stored / expected (dup.) "
        "| wall s | CPU s server usr/sys | CPU s database usr/sys | CPU s trainers usr/sys "
        "| records retried / spooled |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['trainers']} | {r['metrics_per_s']:,.0f} "
            f"({r['metrics_per_s_min']:,.0f}–{r['metrics_per_s_max']:,.0f}) "
            f"| {r['caller_p99_ns'] / 1000:,.1f} µs | {r['caller_max_ns'] / 1e6:,.2f} ms "
            f"| {r['stored']:,} / {r['expected']:,} ({r['duplicated']}) | {r['wall_s']:.1f} "
            f"| {r['cpu_server_user_s']:.1f} / {r['cpu_server_sys_s']:.1f} "
            f"| {r['cpu_db_user_s']:.1f} / {r['cpu_db_sys_s']:.1f} "
            f"| {r['cpu_trainers_user_s']:.1f} / {r['cpu_trainers_sys_s']:.1f} "
            f"| {r['retried']:,.0f} / {r['spooled']:,.0f} |")
    with open(os.path.join(a.out, "team_load.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def uptime():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("trial", help="one trial's files -> one JSON line on stdout")
    t.add_argument("--dir", required=True, help="t<i>.json of each trainer and count.json")
    t.add_argument("--backend", required=True)
    t.add_argument("--trainers", type=int, required=True)
    t.add_argument("--rep", type=int, required=True)
    t.add_argument("--go-ms", type=int, required=True, help="epoch ms when logging started")
    t.add_argument("--server-cpu", nargs=2, required=True, metavar=("BEFORE", "AFTER"),
                   help='"user sys" seconds of the server, before and after')
    t.add_argument("--db-cpu", nargs=2, required=True, metavar=("BEFORE", "AFTER"),
                   help='the same for the database ("" "" without one)')
    sub.add_parser("line", help="a trial's JSON line on stdin -> one line for a human")
    r = sub.add_parser("report", help="every trial -> team_load.{json,csv,md} in --out")
    r.add_argument("--trials", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--metrics", type=int, required=True)
    r.add_argument("--keys", type=int, required=True)
    r.add_argument("--reps", type=int, required=True)
    r.add_argument("--workers", type=int, required=True)
    r.add_argument("--request-timeout-ms", type=int, default=10000,
                   help="the trainers' request timeout (default 10000)")
    a = ap.parse_args()
    {"trial": cmd_trial, "line": cmd_line, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every benchmark against one freshly started local MLflow server and writes BENCHMARKS.md plus the
# JSON behind it. Usually called as `bash cmake/run.sh bench` (which builds first); see --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash apps/bench/run_benchmarks.sh [--quick] [--build DIR] [--out DIR] [--reps N]
                                          [--sweep-reps N] [--skip-training] [--skip-sweep]

Runs, against one MLflow server started for the occasion (mlflow/server.sh, own directory):
  bench_tracking   C++ client (one request per value, log-batch per 1000, async logger), the official
                   Python client (same modes, async default and buffered), the floor; latencies
  bench_training   one SmallCNN epoch, C++ trainer vs PyTorch in Python; tracking on vs off
  sweep            sweeps/batch_size.yaml with --parallel 1 and --parallel 2 (wall time); its
                   dependency (the pretrained backbone) runs first, untimed
then writes DIR/BENCHMARKS.md and DIR/benchmarks.json (DIR defaults to apps/bench/ in the source tree).

Options:
  --quick          tiny sizes, one repetition, no sweep: checks everything runs (CI); writes to a
                   temporary directory unless --out is given
  --build DIR      build directory with the benchmark programs (default: build)
  --out DIR        where BENCHMARKS.md and benchmarks.json go
  --reps N         repetitions of the tracking and training benchmarks (default 5)
  --sweep-reps N   repetitions of each sweep (default 1: a sweep takes minutes)
  --skip-training, --skip-sweep   leave those out
EOF
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$script_dir/../.." && pwd -P)"
build="$repo/build"
out=""
quick=0
reps=5
sweep_reps=1
skip_training=0
skip_sweep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --build) build="$(cd "$2" && pwd -P)"; shift ;;
    --out) out="$2"; shift ;;
    --reps) reps="$2"; shift ;;
    --sweep-reps) sweep_reps="$2"; shift ;;
    --skip-training) skip_training=1 ;;
    --skip-sweep) skip_sweep=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "run_benchmarks.sh: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

work="$(mktemp -d "${TMPDIR:-/tmp}/mlflow-cpp-bench.XXXXXX")"
if [[ -z "$out" ]]; then
  if [[ "$quick" == 1 ]]; then out="$work/report"; else out="$script_dir"; fi
fi
mkdir -p "$out"
log() { printf '[bench] %s\n' "$*" >&2; }
cleanup() { bash "$repo/mlflow/server.sh" stop --dir "$work/server" >/dev/null 2>&1 || true; }
trap cleanup EXIT

for exe in apps/bench/bench_tracking apps/sweep_runner/sweep_runner; do
  [[ -x "$build/$exe" ]] || { echo "run_benchmarks.sh: $build/$exe is missing: build first (bash cmake/run.sh build)" >&2; exit 2; }
done

uri="$(bash "$repo/mlflow/server.sh" start --dir "$work/server")"
export MLFLOW_TRACKING_URI="$uri"
log "server $uri (work dir $work)"

quick_flag=()
[[ "$quick" == 1 ]] && quick_flag=(--quick)

log "tracking..."
"$build/apps/bench/bench_tracking" "${quick_flag[@]}" --reps "$reps" --out "$work/tracking.json"

if [[ "$skip_training" == 0 && -x "$build/apps/bench/bench_training" ]]; then
  log "training..."
  "$build/apps/bench/bench_training" "${quick_flag[@]}" --reps "$reps" --out "$work/training.json"
fi

if [[ "$skip_sweep" == 0 && "$quick" == 0 ]]; then
  specs="$work/specs"
  mkdir -p "$specs"
  cp "$repo/sweeps/pretrain_backbone.yaml" "$repo/sweeps/batch_size.yaml" "$specs/"
  log "sweep: the backbone dependency (untimed)..."
  (cd "$work" && "$build/apps/sweep_runner/sweep_runner" "$specs/pretrain_backbone.yaml" >"$work/pretrain.log" 2>&1)
  echo '[]' >"$work/sweep.json"
  for ((r = 1; r <= sweep_reps; r++)); do
    for p in 1 2; do
      # A fresh sweep name each time, so no trial is skipped as already done.
      sed -E "s/^name:.*/name: bench-batch-size-p$p-r$r-$$/" "$repo/sweeps/batch_size.yaml" >"$specs/batch_size.yaml"
      log "sweep --parallel $p (repetition $r)..."
      start=$(date +%s.%N)
      (cd "$work" && "$build/apps/sweep_runner/sweep_runner" "$specs/batch_size.yaml" --parallel "$p" \
        >"$work/sweep-p$p-r$r.log" 2>&1)
      end=$(date +%s.%N)
      python3 - "$work/sweep.json" "$p" "$start" "$end" <<'PY'
import json, sys
path, p, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
data = json.load(open(path))
data.append({"parallel": p, "seconds": end - start})
json.dump(data, open(path, "w"), indent=2)
PY
    done
  done
fi

python3 "$script_dir/write_benchmarks.py" --work "$work" --out "$out" --repo "$repo" \
  $([[ "$quick" == 1 ]] && echo --quick)
log "wrote $out/BENCHMARKS.md and $out/benchmarks.json"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every benchmark against one freshly started local MLflow server and writes BENCHMARKS.md plus the
# JSON behind it. Usually called as `bash cmake/run.sh bench` (which builds first); see --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash apps/bench/run_benchmarks.sh [--quick] [--build DIR] [--out DIR] [--reps N]
                                          [--sweep-reps N] [--skip-training] [--skip-sweep] [--skip-serve]
                                          [--keep-work]
       (usually through `bash cmake/run.sh bench [-- OPTIONS]`, which builds first)

Runs, against one MLflow server started for the occasion (mlflow/server.sh, own directory):
  bench_tracking   C++ client (one request per value, log-batch per 1000, async logger), the official
                   Python client (same modes, async default and buffered), the floor; latencies
  bench_training   one SmallCNN epoch, C++ trainer vs PyTorch in Python (as it ships, then with the
                   apps' tcmalloc preloaded); tracking on vs off
  sweep            sweeps/batch_size.yaml with --parallel 1 and --parallel 2, taking turns (wall time);
                   its dependency (the pretrained backbone) runs first, untimed
  serving          apps/bench/run_serve_bench.sh: FastAPI + uvicorn and MLflow's scoring server (ONNX
                   flavour) against fmnist_serve (batching off and on) under open-loop load, a SmallCNN
                   trained for it and the sweep's champion (quick: the smoke sweep's SmallCNN champion);
                   needs the LibTorch build and the sweep
then writes DIR/BENCHMARKS.md and DIR/benchmarks.json (DIR defaults to apps/bench/ in the source tree).

Options:
  --quick          tiny sizes, one repetition, one sweeps/smoke.yaml instead of the batch_size sweep:
                   checks that everything runs (CI); writes to a temporary directory unless --out is given
  --build DIR      build directory with the benchmark programs (default: build)
  --out DIR        where BENCHMARKS.md and benchmarks.json go
  --reps N         repetitions of the tracking and training benchmarks (default 5)
  --sweep-reps N   repetitions of each sweep setting (default 3: a sweep takes minutes)
  --skip-training, --skip-sweep, --skip-serve   leave those out
  --keep-work      keep the work directory (server, logs, raw JSON); it is kept anyway on failure
EOF
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$script_dir/../.." && pwd -P)"
build="$repo/build"
out=""
quick=0
reps=5
sweep_reps=3
sweep_reps_given=0
skip_training=0
skip_sweep=0
skip_serve=0
keep_work=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --build) build="$(cd "${2:?--build needs a directory}" && pwd -P)"; shift ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --reps) reps="${2:-}"; shift ;;
    --sweep-reps) sweep_reps="${2:-}"; sweep_reps_given=1; shift ;;
    --skip-training) skip_training=1 ;;
    --skip-sweep) skip_sweep=1 ;;
    --skip-serve) skip_serve=1 ;;
    --keep-work) keep_work=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "run_benchmarks.sh: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
# Quick mode: one sweep of each setting unless told otherwise.
[[ "$quick" == 1 && "$sweep_reps_given" == 0 ]] && sweep_reps=1
for n in "$reps" "$sweep_reps"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run_benchmarks.sh: --reps and --sweep-reps take a positive number, got '$n'" >&2; exit 2; }
done

needed=(apps/bench/bench_tracking)
[[ "$skip_sweep" == 0 ]] && needed+=(apps/sweep_runner/sweep_runner apps/fmnist_train/fmnist_train)
for exe in "${needed[@]}"; do
  [[ -x "$build/$exe" ]] || { echo "run_benchmarks.sh: $build/$exe is missing: build first (bash cmake/run.sh build)" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/mlflow-cpp-bench.XXXXXX")"
if [[ -z "$out" ]]; then
  if [[ "$quick" == 1 ]]; then out="$work/report"; else out="$script_dir"; fi
fi
mkdir -p "$out"
log() { printf '[bench] %s\n' "$*" >&2; }
# The server always stops; the work directory goes only after a complete run (it holds the logs) and
# only when the report is not inside it.
finished=0
cleanup() {
  bash "$repo/mlflow/server.sh" stop --dir "$work/server" >/dev/null 2>&1 || true
  if [[ "$finished" == 1 && "$keep_work" == 0 && "$out" != "$work"/* ]]; then
    rm -rf "$work"
  else
    log "work directory kept: $work"
  fi
}
trap cleanup EXIT

uri="$(bash "$repo/mlflow/server.sh" start --dir "$work/server")"
export MLFLOW_TRACKING_URI="$uri"
log "server $uri (work dir $work)"

quick_flag=()
[[ "$quick" == 1 ]] && quick_flag=(--quick)

log "tracking..."
"$build/apps/bench/bench_tracking" "${quick_flag[@]}" --reps "$reps" --out "$work/tracking.json"

if [[ "$skip_training" == 0 && -x "$build/apps/bench/bench_training" ]]; then
  log "training..."
  "$build/apps/bench/bench_training" "${quick_flag[@]}" --reps "$reps" --out "$work/training.json" \
    --server-pid "$(cat "$work/server/server.pid")"
  # The C++ apps link tcmalloc (kept memory, no page faults per step); Python as it ships uses glibc
  # malloc. A second pass gives Python the same allocator, so the C++ / Python ratio is like for like.
  tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
  if [[ -e "$tcmalloc" ]]; then
    log "training, Python with tcmalloc preloaded..."
    printf '#!/bin/sh\nLD_PRELOAD=%s TCMALLOC_RELEASE_RATE=0 exec /usr/bin/python3 "$@"\n' "$tcmalloc" >"$work/python-tcmalloc"
    chmod +x "$work/python-tcmalloc"
    "$build/apps/bench/bench_training" "${quick_flag[@]}" --reps "$reps" --python "$work/python-tcmalloc" \
      --out "$work/training-tcmalloc.json"
  fi
fi

if [[ "$skip_sweep" == 0 ]]; then
  specs="$work/specs"
  mkdir -p "$specs"
  if [[ "$quick" == 1 ]]; then
    spec=smoke.yaml  # two 1-epoch trials on 1k images, no dependency
  else
    spec=batch_size.yaml
    cp "$repo/sweeps/pretrain_backbone.yaml" "$specs/"
    ln -s "$repo/sweeps/backbones" "$specs/backbones"  # its {path: backbones/...}
    # A cache of its own: the backbone's registration fills it (untimed), both settings read it.
    export XDG_CACHE_HOME="$work/cache"
    log "sweep: the backbone dependency (untimed)..."
    (cd "$work" && "$build/apps/sweep_runner/sweep_runner" "$specs/pretrain_backbone.yaml" >"$work/pretrain.log" 2>&1) ||
      { echo "run_benchmarks.sh: pretraining the backbone failed, see $work/pretrain.log" >&2; exit 1; }
  fi
  echo '[]' >"$work/sweep.json"
  for ((r = 1; r <= sweep_reps; r++)); do
    # Taking turns: odd repetitions start with --parallel 1, even ones with --parallel 2.
    order=(1 2)
    ((r % 2 == 0)) && order=(2 1)
    for p in "${order[@]}"; do
      # A fresh sweep name each time, so no trial is skipped as already done.
      sed -E "s/^name:.*/name: bench-${spec%.yaml}-p$p-r$r-$$/" "$repo/sweeps/$spec" >"$specs/$spec"
      log "sweep $spec --parallel $p (repetition $r/$sweep_reps)..."
      start=$(date +%s.%N)
      (cd "$work" && "$build/apps/sweep_runner/sweep_runner" "$specs/$spec" --parallel "$p" \
        >"$work/sweep-p$p-r$r.log" 2>&1) ||
        { echo "run_benchmarks.sh: the sweep failed, see $work/sweep-p$p-r$r.log" >&2; exit 1; }
      end=$(date +%s.%N)
      python3 - "$work/sweep.json" "$spec" "$p" "$start" "$end" <<'PY'
import json, sys
path, spec, p, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
data = json.load(open(path))
data.append({"spec": spec, "parallel": p, "seconds": end - start})
json.dump(data, open(path, "w"), indent=2)
PY
    done
  done
fi

# Serving under load: the sweep's champion is the model (registered in this server), so it needs the sweep.
if [[ "$skip_serve" == 0 && "$skip_sweep" == 0 && -x "$build/apps/fmnist_serve/fmnist_serve" ]]; then
  log "serving under load..."
  if [[ "$quick" == 1 ]]; then
    serve_args=(--quick --model small_cnn=models:/fmnist-smoke@champion)
  else
    serve_args=(--model small_cnn=train --model mobilenet_v2=models:/fmnist-classifier@champion)
  fi
  bash "$script_dir/run_serve_bench.sh" --build "$build" --out "$work/serve" "${serve_args[@]}" \
    >"$work/serve.log" 2>&1 || { echo "run_benchmarks.sh: the serving benchmark failed, see $work/serve.log" >&2; exit 1; }
fi

quick_arg=()
[[ "$quick" == 1 ]] && quick_arg=(--quick)
python3 "$script_dir/write_benchmarks.py" --work "$work" --out "$out" --repo "$repo" --build "$build" "${quick_arg[@]}"
finished=1
log "wrote $out/BENCHMARKS.md and $out/benchmarks.json"

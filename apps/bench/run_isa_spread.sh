#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How much the main job's champion moves between machines that differ only in instruction set: the same
# trial (pinned threads, fixed split, the shipped backbone) with LibTorch's kernels dispatched as on this
# machine, as on an AVX2 machine and as on an SSE4.1 machine. See --help.
set -euo pipefail

usage() {
  cat <<'EOF2'
Usage: bash apps/bench/run_isa_spread.sh [--build DIR] [--epochs N]

Runs the batch_size sweep's champion trial (MobileNetV2 width 0.5, layout small, frozen
models:/fmnist-backbone@pretrained, batch size 64, seed 42, split_seed 42, 2 threads) three times in the
current directory's tracking store (MLFLOW_TRACKING_URI, else local mode ./mlflow.db; the backbone must
be registered there, e.g. by `sweep_runner sweeps/pretrain_backbone.yaml`), experiment
fashion-mnist-isa, without the feature cache (the backbone's features are part of what can differ):
  native   this machine's own dispatch (AVX-512 where it has it)
  avx2     oneDNN, ATen and OpenBLAS limited to AVX2 (DNNL_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2,
           OPENBLAS_CORETYPE=Haswell)
  sse41    limited to SSE4.1 (DNNL_MAX_CPU_ISA=SSE41, ATEN_CPU_CAPABILITY=default, OPENBLAS_CORETYPE=Nehalem)
and prints a Markdown table: dispatch, best val accuracy, test accuracy, run id, wall time.
EOF2
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
build="$(cd "$script_dir/../.." && pwd -P)/build"
epochs=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$(cd "${2:?--build needs a directory}" && pwd -P)"; shift ;;
    --epochs) epochs="${2:?--epochs needs a number}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "run_isa_spread.sh: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
train="$build/apps/fmnist_train/fmnist_train"
[[ -x "$train" ]] || { echo "run_isa_spread.sh: $train is not built (bash cmake/run.sh build)" >&2; exit 2; }
[[ "$epochs" =~ ^[1-9][0-9]*$ ]] || { echo "run_isa_spread.sh: --epochs must be a positive number" >&2; exit 2; }

trial=(--experiment fashion-mnist-isa --model mobilenet_v2 --width_multiplier 0.5 --layout small
  --frozen_backbone true --backbone_weights models:/fmnist-backbone@pretrained --batch_size 64
  --learning_rate 1e-3 --max_epochs "$epochs" --optimizer adam --seed 42 --train_val_split 0.8 --split_seed 42
  --threads 2 --feature-cache-dir "")
rows=()
for dispatch in native avx2 sse41; do
  case "$dispatch" in
    native) env=() ;;
    avx2) env=(DNNL_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell) ;;
    sse41) env=(DNNL_MAX_CPU_ISA=SSE41 ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Nehalem) ;;
  esac
  echo "== $dispatch ${env[*]}" >&2
  start=$(date +%s)
  log="$(mktemp)"
  env "${env[@]}" "$train" "${trial[@]}" --run-name "isa-$dispatch" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
  run="$(sed -n 's/^run \([0-9a-f]\{32\}\) .*/\1/p' "$log" | tail -n 1)"
  acc="$(sed -n 's/^test accuracy \([0-9.]*%\).*/\1/p' "$log" | tail -n 1)"
  val="$(awk '$1 ~ /^[0-9]+$/ && $NF == "*" { print $5 "%" }' "$log" | tail -n 1)"  # the epoch table's best row
  rm -f "$log"
  rows+=("| $dispatch | ${val:-?} | $acc | \`$run\` | $(($(date +%s) - start)) s |")
  echo "   test accuracy $acc (run $run)" >&2
done
printf '| dispatch | best val accuracy | test accuracy | run | wall |\n|---|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"

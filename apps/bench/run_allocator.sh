#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Wall, user and system CPU time of short training runs with glibc's malloc against the tcmalloc the apps
# link (apps/support/caching_allocator.cpp), and of the PyTorch-in-Python SmallCNN epoch as it ships and with
# the same allocator preloaded. See --help.
set -euo pipefail

usage() {
  cat <<'EOF2'
Usage: bash apps/bench/run_allocator.sh --glibc-build DIR [--build DIR] [--reps N] [--out FILE]

DIR is a build configured with -DMLFLOW_CPP_CACHING_ALLOCATOR=OFF (fmnist_train built), e.g.
  cmake -S . -B /tmp/build-glibc -G Ninja -DMLFLOW_CPP_CACHING_ALLOCATOR=OFF -DMLFLOW_CPP_BUILD_TESTS=OFF
  ninja -C /tmp/build-glibc fmnist_train
Each workload runs --reps times (default 3) with each allocator, alternating, 2 threads, into a local-mode
store in a temporary directory; the table shows medians: wall, user, sys (seconds), and the largest RSS.
EOF2
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$script_dir/../.." && pwd -P)"
build="$repo/build"
glibc=""
reps=3
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$(cd "${2:?--build needs a directory}" && pwd -P)"; shift ;;
    --glibc-build) glibc="$(cd "${2:?--glibc-build needs a directory}" && pwd -P)"; shift ;;
    --reps) reps="${2:?--reps needs a number}"; shift ;;
    --out) out="${2:?--out needs a file}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "run_allocator.sh: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$glibc" ]] || { usage >&2; echo "run_allocator.sh: --glibc-build is required" >&2; exit 2; }
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "run_allocator.sh: --reps must be a positive number" >&2; exit 2; }
tc_lib="$(ldd "$build/apps/fmnist_train/fmnist_train" | awk '/tcmalloc/ {print $3}')"
[[ -n "$tc_lib" ]] || { echo "run_allocator.sh: $build/apps/fmnist_train/fmnist_train does not link tcmalloc" >&2; exit 2; }
if ldd "$glibc/apps/fmnist_train/fmnist_train" | grep -q tcmalloc; then
  echo "run_allocator.sh: $glibc links tcmalloc; configure it with -DMLFLOW_CPP_CACHING_ALLOCATOR=OFF" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
common=(--experiment allocator-bench --threads 2 --seed 42 --quiet --feature-cache-dir "")
declare -A workloads=(
  [smallcnn]="--model small_cnn --train_limit 6000 --max_epochs 1"
  [mnv2-frozen]="--model mobilenet_v2 --width_multiplier 0.5 --frozen_backbone true --train_limit 6000 --max_epochs 1"
  [mnv2-finetune]="--model mobilenet_v2 --width_multiplier 0.5 --train_limit 3000 --max_epochs 1"
  [mnv2-simclr]="--task simclr --model mobilenet_v2 --width_multiplier 0.5 --train_limit 2048 --batch_size 256 --max_epochs 1 --no-register"
  [mnv2-rotation-paper]="--task rotation --model mobilenet_v2 --layout imagenet --train_limit 600 --max_epochs 1 --no-register"
)
order=(smallcnn mnv2-frozen mnv2-finetune mnv2-simclr mnv2-rotation-paper)

# One timed run: prints "wall user sys maxrss_kb".
timed() {
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
  cat "$work/time"
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# Median of each column of the lines on stdin: "wall user sys", and the largest RSS in MB.
summarise() {
  local lines
  lines="$(cat)"
  printf '%s %s %s %.0f\n' "$(cut -d' ' -f1 <<<"$lines" | median)" "$(cut -d' ' -f2 <<<"$lines" | median)" \
    "$(cut -d' ' -f3 <<<"$lines" | median)" "$(cut -d' ' -f4 <<<"$lines" | sort -g | tail -n 1 | awk '{print $1 / 1024}')"
}

rows=()
for w in "${order[@]}"; do
  read -r -a args <<<"${workloads[$w]}"
  : >"$work/glibc" && : >"$work/tc"
  for ((i = 0; i < reps; i++)); do
    echo "[$w] rep $((i + 1))/$reps" >&2
    timed "$glibc/apps/fmnist_train/fmnist_train" "${common[@]}" "${args[@]}" >>"$work/glibc"
    timed "$build/apps/fmnist_train/fmnist_train" "${common[@]}" "${args[@]}" >>"$work/tc"
  done
  read -r gw gu gs gm < <(summarise <"$work/glibc")
  read -r tw tu ts tm < <(summarise <"$work/tc")
  rows+=("| C++ \`fmnist_train\` $w | $gw / $gu / $gs | $tw / $tu / $ts | $(awk -v a="$gw" -v b="$tw" 'BEGIN {printf "%.2f", a / b}')× | $gm → $tm MB |")
done
py=(/usr/bin/python3 "$script_dir/pytorch_smallcnn.py" --threads 2 --limit 6000)
: >"$work/glibc" && : >"$work/tc"
for ((i = 0; i < reps; i++)); do
  echo "[python smallcnn] rep $((i + 1))/$reps" >&2
  timed "${py[@]}" >>"$work/glibc"
  timed env LD_PRELOAD="$tc_lib" TCMALLOC_RELEASE_RATE=0 "${py[@]}" >>"$work/tc"
done
read -r gw gu gs gm < <(summarise <"$work/glibc")
read -r tw tu ts tm < <(summarise <"$work/tc")
rows+=("| PyTorch-in-Python SmallCNN epoch (as it ships / tcmalloc preloaded) | $gw / $gu / $gs | $tw / $tu / $ts | $(awk -v a="$gw" -v b="$tw" 'BEGIN {printf "%.2f", a / b}')× | $gm → $tm MB |")

table="| workload (2 threads, whole process) | glibc malloc: wall / user / sys s | tcmalloc, memory kept: wall / user / sys s | speed-up | max RSS |
|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")"
echo "$table"
[[ -z "$out" ]] || printf '%s\n' "$table" >"$out"

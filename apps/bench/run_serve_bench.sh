#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Serving under load: each contender (FastAPI + uvicorn with PyTorch, MLflow's scoring server on the ONNX
# flavour, fmnist_serve with batching off and on) serves each model pinned to core 0 while bench_serve_load,
# on core 1, steps the request rate.
# Builds nothing. See --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash apps/bench/run_serve_bench.sh [--build DIR] [--out DIR] [--model NAME=MODEL]...
                                          [--contenders LIST] [--rates LIST] [--duration S] [--reps N]
                                          [--batch MAX:WAIT_MS] [--quick]

MODEL is a model directory (MLmodel, model.pt and model.onnx, as fmnist_train logs it); a models:/ or
runs:/ URI, downloaded first with the MLflow client (mlflow/.venv, MLFLOW_TRACKING_URI) so that every
contender reads the same files; or `train`: one of that architecture (small_cnn, or mobilenet_v2 of the
champion's shape, width 0.5, layout small) trained here for one epoch on 6,000 images (fmnist_train in
local mode; accuracy does not matter for latency). Default: --model small_cnn=train
--model mobilenet_v2=models:/fmnist-classifier@champion (the main job's champion, `bash cmake/run.sh sweep`).

Contenders (default all four): fastapi (apps/bench/serve_fastapi.py: FastAPI on uvicorn, PyTorch, one
request per forward pass), mlflow (`mlflow/.venv/bin/mlflow models serve --env-manager local -w 1` on the
model's onnx flavour: MLflow's own scoring server, uvicorn and onnxruntime; it serves a copy of the model
directory whose MLmodel sets flavors.onnx.onnx_session_options to one intra- and one inter-op thread,
sequential, made by apps/bench/mlflow_onnx_model.py; uvicorn's access log off, as for fastapi), batch1
(fmnist_serve --max-batch 1), batched (fmnist_serve --max-batch MAX --max-wait-ms WAIT_MS, default 32:2;
both with --http-threads 64, one per generator connection).
Every server gets one core (taskset -c 0) and one inference thread (LibTorch or onnxruntime), the
generator the other (taskset -c 1). Each server must answer the payload with 200 before its sweep. A
sweep goes up the rates until one is neither held (no error, p99 <= 50 ms) nor achieved to 90%; each
request is one test image. The server's user and system CPU time over the sweep are recorded (with its
child processes': `mlflow models serve` runs uvicorn as its child).

Options:
  --build DIR      build directory (bench_serve_load; fmnist_serve and fmnist_train from a LibTorch build)
  --out DIR        where serve.json, serve.md and the raw runs go (default: a temporary directory)
  --rates LIST     comma-separated ascending rates (default 5,10,20,35,50,75,100,150,200,300,400,600,800,
                   1000,1500,2000,3000)
  --duration S     measured seconds per rate (default 5; 1 s of warm-up before each)
  --reps N         repetitions, contenders taking turns (default 3); figures are medians
  --quick          one repetition, 1 s per rate, rates 5,10,20: checks that everything runs
EOF
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$script_dir/../.." && pwd -P)"
build="$repo/build"
args=("$@")
out=""
models=()
contenders="fastapi,mlflow,batch1,batched"
rates="5,10,20,35,50,75,100,150,200,300,400,600,800,1000,1500,2000,3000"
duration=5
reps=3
batch="32:2"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$(cd "${2:?--build needs a directory}" && pwd -P)"; shift ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --model) models+=("${2:?--model needs NAME=MODEL}"); shift ;;
    --contenders) contenders="${2:?--contenders needs a list}"; shift ;;
    --rates) rates="${2:?--rates needs a list}"; shift ;;
    --duration) duration="${2:?--duration needs seconds}"; shift ;;
    --reps) reps="${2:?--reps needs a number}"; shift ;;
    --batch) batch="${2:?--batch needs MAX:WAIT_MS}"; shift ;;
    --quick) reps=1; duration=1; rates="5,10,20" ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "run_serve_bench.sh: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "run_serve_bench.sh: $*" >&2; exit 2; }
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "--reps takes a positive number, got '$reps'"
[[ "$batch" =~ ^([1-9][0-9]*):([0-9]+)$ ]] || die "--batch takes MAX:WAIT_MS, got '$batch'"
max_batch="${BASH_REMATCH[1]}" max_wait="${BASH_REMATCH[2]}"
load="$build/apps/bench/bench_serve_load"
serve="$build/apps/fmnist_serve/fmnist_serve"
venv="$repo/mlflow/.venv"
[[ -x "$load" ]] || die "$load is missing: build first"
IFS=, read -r -a contender_list <<<"$contenders"
for c in "${contender_list[@]}"; do
  case "$c" in
    fastapi) /usr/bin/python3 -c 'import fastapi, uvicorn, torch' 2>/dev/null ||
      die "fastapi needs python3-fastapi, python3-uvicorn and python3-torch (cmake/install-deps.sh)" ;;
    mlflow) [[ -x "$venv/bin/mlflow" ]] || die "mlflow needs $venv/bin/mlflow (mlflow/README.md)"
      "$venv/bin/python" -c 'import onnxruntime' 2>/dev/null ||
        die "mlflow needs onnxruntime in $venv (pip install -r mlflow/requirements.txt)" ;;
    batch1 | batched) [[ -x "$serve" ]] || die "$serve is missing (a LibTorch build): leave out $c" ;;
    *) die "unknown contender '$c' (fastapi, mlflow, batch1, batched)" ;;
  esac
done
[[ "$(nproc)" -ge 2 ]] || die "needs two cores (server on core 0, generator on core 1)"
[[ ${#models[@]} -gt 0 ]] || models=(small_cnn=train mobilenet_v2=models:/fmnist-classifier@champion)

work="$(mktemp -d "${TMPDIR:-/tmp}/mlflow-cpp-serve-bench.XXXXXX")"
[[ -n "$out" ]] || out="$work/report"
mkdir -p "$out/raw"
log() { printf '[serve-bench] %s\n' "$*" >&2; }
server_pid=""
server_children() { pgrep -P "$server_pid" || true; }
# A server with children (mlflow models serve runs uvicorn as one) is stopped through them: it reaps
# them and exits, so nothing is left shutting down when the next contender starts.
stop_server() {
  [[ -z "$server_pid" ]] && return
  local children
  mapfile -t children < <(server_children)
  kill "${children[@]:-$server_pid}" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap 'stop_server; rm -rf "$work/models" "$work/train"' EXIT

# NAME=MODEL -> a local model directory.
model_dir() {
  local name="${1%%=*}" src="${1#*=}" dest="$work/models/${1%%=*}"
  if [[ "$src" == train ]]; then
    [[ -x "$build/apps/fmnist_train/fmnist_train" ]] || die "training a $name needs fmnist_train (a LibTorch build)"
    mkdir -p "$work/train"
    local shape=()  # a MobileNetV2 of the champion's shape
    [[ "$name" == mobilenet_v2 ]] && shape=(--width_multiplier 0.5 --layout small)
    (cd "$work/train" && env -u MLFLOW_TRACKING_URI "$build/apps/fmnist_train/fmnist_train" --model "$name" \
      "${shape[@]}" --train_limit 6000 --max_epochs 1 --threads 2 --quiet --feature-cache-dir "") >&2 ||
      die "training a $name failed"
    src="$(find "$work/train" -name MLmodel -printf '%h\n' | head -n 1)"
  elif [[ "$src" == models:/* || "$src" == runs:/* ]]; then
    mkdir -p "$dest"
    "$repo/mlflow/.venv/bin/python" -c 'import sys, mlflow.artifacts as a; a.download_artifacts(sys.argv[1], dst_path=sys.argv[2])' \
      "$src" "$dest" >&2 || die "cannot download $src (MLFLOW_TRACKING_URI=${MLFLOW_TRACKING_URI:-unset})"
    src="$(find "$dest" -name MLmodel -printf '%h\n' | head -n 1)"
  fi
  [[ -f "$src/MLmodel" ]] || die "$name: no MLmodel in '$src'"
  echo "$src"
}
# MODEL_DIR -> the mlflow contender's copy of it, onnxruntime held to one thread in its MLmodel.
onnx_copy() {
  "$venv/bin/python" "$script_dir/mlflow_onnx_model.py" --model "$1" --out "$work/models/$2-mlflow" ||
    die "$2: the mlflow contender cannot serve '$1' (above); leave out mlflow or log the model with its ONNX export"
}

port=$((20000 + RANDOM % 20000))
# Starts CONTENDER on MODEL_DIR pinned to core 0, waits for /ping and checks that the payload gets a 200.
start_server() {
  local contender="$1" dir="$2"
  port=$((port + 1))
  # As many HTTP threads as the generator's connections (64): cpp-httplib gives each keep-alive
  # connection a thread, so fewer would queue requests before the batcher sees them.
  local cmd=("$serve" --model "$dir" --host 127.0.0.1 --port "$port" --threads 1 --http-threads 64 --max-batch)
  case "$contender" in
    fastapi) cmd=(/usr/bin/python3 "$script_dir/serve_fastapi.py" --model "$dir" --port "$port" --threads 1) ;;
    # One uvicorn worker; PATH so that the uvicorn it runs is the venv's; no access log line per request.
    mlflow) cmd=(env PATH="$venv/bin:$PATH" UVICORN_ACCESS_LOG=false "$venv/bin/mlflow" models serve -m "$dir"
      --env-manager local --host 127.0.0.1 -p "$port" -w 1) ;;
    batch1) cmd+=(1) ;;
    batched) cmd+=("$max_batch" --max-wait-ms "$max_wait") ;;
  esac
  taskset -c 0 "${cmd[@]}" >"$work/server.log" 2>&1 &
  server_pid=$!
  local up=0
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$port/ping" >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "$contender did not start"; }
    sleep 0.1
  done
  [[ "$up" == 1 ]] || die "$contender did not answer /ping within 60 s"
  local status
  status="$(curl -s -o "$work/answer" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "@$work/body.json" "http://127.0.0.1:$port/invocations")" || status="no answer"
  # The answer's end: MLflow's error messages quote the whole input before saying what is wrong.
  if [[ "$status" != 200 ]]; then
    tail -c 400 "$work/answer" >&2
    echo >&2
    die "$contender answered the payload with $status, not 200"
  fi
}
# User and system CPU seconds of the server process and its children so far (all their threads).
cpu_seconds() {
  local p
  for p in "$server_pid" $(server_children); do cat "/proc/$p/stat"; done |
    awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); u += $12; s += $13} END {printf "%.2f %.2f\n", u / hz, s / hz}'
}

python3 "$script_dir/fmnist_payload.py" --images 1 --out "$work/body.json"
declare -A dirs onnx_dirs
for m in "${models[@]}"; do
  log "model ${m%%=*}: ${m#*=}"
  dirs[${m%%=*}]="$(model_dir "$m")"
  if [[ ",$contenders," == *,mlflow,* ]]; then
    onnx_dirs[${m%%=*}]="$(onnx_copy "${dirs[${m%%=*}]}" "${m%%=*}")"
  fi
done

for ((r = 1; r <= reps; r++)); do
  # Taking turns: the order of the contenders rotates with the repetition.
  n=${#contender_list[@]}
  for m in "${!dirs[@]}"; do
    for ((k = 0; k < n; k++)); do
      c="${contender_list[$(((k + r - 1) % n))]}"
      name="$m-$c-r$r"
      log "$name: starting the server"
      dir="${dirs[$m]}"
      [[ "$c" != mlflow ]] || dir="${onnx_dirs[$m]}"
      start_server "$c" "$dir"
      read -r u0 s0 < <(cpu_seconds)
      taskset -c 1 "$load" --url "http://127.0.0.1:$port/invocations" --body "$work/body.json" \
        --rates "$rates" --duration "$duration" --out "$out/raw/$name.json" 2> >(sed "s/^/[$name] /" >&2)
      read -r u1 s1 < <(cpu_seconds)
      echo "{\"model\": \"$m\", \"contender\": \"$c\", \"rep\": $r, \"user_s\": $(awk -v a="$u1" -v b="$u0" 'BEGIN {print a - b}'), \"sys_s\": $(awk -v a="$s1" -v b="$s0" 'BEGIN {print a - b}')}" >"$out/raw/$name.cpu.json"
      stop_server
    done
  done
done

batch_note="fmnist_serve --max-batch $max_batch --max-wait-ms $max_wait"
python3 "$script_dir/serve_report.py" --raw "$out/raw" --out "$out" --batch "$batch_note" \
  --command "bash apps/bench/run_serve_bench.sh${args[*]:+ $(printf '%q ' "${args[@]}")}"
log "wrote $out/serve.json and $out/serve.md"

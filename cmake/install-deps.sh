#!/usr/bin/env bash
# Installs everything a fresh Debian 12 machine needs to build and test mlflow-cpp:
#   1. Debian packages (apt), skipped entirely when dpkg already has all of them;
#   2. the pinned MLflow server in a venv at mlflow/.venv (pip), skipped when it is already there,
#      with the Kubernetes manifest checker CI runs (tests/sweep/deploy/requirements.txt).
#
# Usage: bash cmake/install-deps.sh [--without-torch] [--no-apt] [--no-server] [--help]
#
# Safe to re-run: when everything is in place it finishes in well under a second and touches
# nothing. Works unattended (CI=true, no stdin). Runs apt as root, or through sudo when not root.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash cmake/install-deps.sh [options]

Installs the Debian 12 packages and the pinned MLflow server (mlflow/.venv) that
mlflow-cpp needs. Re-running is cheap: whatever is already installed is skipped.

Options:
  --without-torch  skip LibTorch, the Fashion-MNIST data set, the page test's browser
                 and the Slurm test's Slurm (libtorch-dev dataset-fashion-mnist
                 chromium chromium-driver python3-selenium slurm-wlm munge;
                 about 320 MB download, 1.1 GB on disk);
                 mlflow::libtorch and its tests are then not built.
                 Same as MLFLOW_CPP_WITH_TORCH=0.
  --no-apt       do not install Debian packages (only report missing ones).
                 Same as MLFLOW_CPP_SKIP_APT=1.
  --no-server    do not create/update the MLflow venv. Same as MLFLOW_CPP_SKIP_SERVER=1.
  -h, --help     show this help.

Environment:
  MLFLOW_CPP_PYTHON   interpreter used to create the venv (default /usr/bin/python3,
                      else python3 on PATH).
EOF
}

log() { printf '[install-deps] %s\n' "$*"; }
die() { printf '[install-deps] ERROR: %s\n' "$*" >&2; exit 1; }

is_true() { case "${1:-}" in 1 | true | TRUE | yes | YES | on | ON) return 0 ;; *) return 1 ;; esac; }

with_torch=1
case "${MLFLOW_CPP_WITH_TORCH:-}" in 0 | false | FALSE | no | NO | off | OFF) with_torch=0 ;; esac
skip_apt=0
is_true "${MLFLOW_CPP_SKIP_APT:-}" && skip_apt=1
skip_server=0
is_true "${MLFLOW_CPP_SKIP_SERVER:-}" && skip_server=1

while [[ $# -gt 0 ]]; do
  case "$1" in
    --with-torch) with_torch=1 ;;  # the default; kept for old command lines
    --without-torch) with_torch=0 ;;
    --no-apt) skip_apt=1 ;;
    --no-server) skip_server=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

# --------------------------------------------------------------------------------------------
# 1. Debian packages
# --------------------------------------------------------------------------------------------
# Tracking core, sweep engine, apps, tests, and the MLflow server's Python. `curl` (the command)
# is used by mlflow/server.sh to poll /health.
core_packages=(
  build-essential cmake ninja-build git ca-certificates curl
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libfmt-dev doctest-dev zlib1g-dev libicu-dev
  libyaml-cpp-dev libcli11-dev libcpp-httplib-dev
  libcairo2-dev fonts-dejavu-core pkg-config libgoogle-perftools-dev prometheus-cpp-dev libstb-dev
  python3 python3-venv shellcheck doxygen clang clang-tidy clang-format postgresql
)
# CI (.ci/run) lints every shell script with the shellcheck package, builds the API reference with
# doxygen (target api_docs), builds a second time with clang (CMakePresets.json's "clang"), runs
# clang-tidy (with run-clang-tidy, which the clang-tidy package ships) and checks the formatting
# with clang-format.
# prometheus-cpp-dev (GET /metrics) and libstb-dev (decoding uploaded images): fmnist_serve's core,
# which is LibTorch-free and built in every configuration.
# postgresql: the throwaway PostgreSQL cluster behind the team-server tests and benchmarks
# (mlflow/postgres.sh); its package also creates the user "postgres" the cluster runs as under root.
# libgoogle-perftools-dev: tcmalloc for the apps that train or infer (apps/support/caching_allocator.cpp).
# LibTorch integration and the Fashion-MNIST trainer. Installed by default (the product's trainer
# and its tests need them); --without-torch skips them for tracking-only work. On Debian 12
# `libtorch-dev` pulls in ~200 new packages (protobuf, glog, gflags, python3-dev, BLAS, ...),
# about 165 MB to download and 660 MB on disk (measured with `apt-get install --assume-no
# libtorch-dev` on a machine with the core packages), and `dataset-fashion-mnist` adds 31 MB.
# CMake builds lib/libtorch and the trainers only when Torch is found.
# Debian's LibTorch links the generic libblas.so.3, which is the slow reference BLAS unless an optimised
# one is installed: libopenblas0-openmp takes over that alternative and shares LibTorch's OpenMP pool.
# python3-torch (the same libtorch 1.13.1) is only for bench_training's PyTorch-in-Python comparison.
# python3-fastapi, python3-uvicorn with python3-uvloop and python3-httptools (what `uvicorn[standard]`
# brings): the Python server the serving benchmark measures fmnist_serve against (apps/bench/serve_fastapi.py).
# chromium, chromium-driver, python3-selenium: the browser test of fmnist_serve's page
# (tests/serve/page_test.py drives headless Chromium through Selenium); Chromium adds about 120 MB
# to download and 380 MB on disk (chromium, chromium-common, chromium-driver; apt-cache show).
# slurm-wlm (22.05: slurmctld, slurmd, sbatch and the other client tools) and munge: the Slurm sweep
# test runs sweeps/deploy/slurm_array.sh on a one-node cluster of its own
# (tests/support/slurm_cluster.sh); 3.6 MB to download, 13 MB on disk. Without systemd (here, CI)
# installing them starts no daemon; with it, Debian starts munged with its own /etc/munge key. The
# cluster script uses neither: its munged, key, config and ports are its own.
# libonnx-dev (ONNX 1.12: protobuf classes, checker, shape inference): lib/onnx, the exporter every
# trainer's logged model goes through; its libonnx.so.1 already comes with libtorch-dev.
torch_packages=(libtorch-dev libonnx-dev dataset-fashion-mnist libopenblas0-openmp python3-torch
  python3-fastapi python3-uvicorn python3-uvloop python3-httptools
  chromium chromium-driver python3-selenium slurm-wlm munge)

packages=("${core_packages[@]}")
[[ "$with_torch" == 1 ]] && packages+=("${torch_packages[@]}")

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian 12 (bookworm) only."

# One dpkg-query call for all packages; a package is present only when its status is 'installed'.
declare -A installed=()
while IFS=$'\t' read -r name status; do
  [[ "$status" == installed ]] && installed["${name%%:*}"]=1
done < <(dpkg-query -W -f='${Package}\t${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for p in "${packages[@]}"; do
  [[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "Debian packages: all ${#packages[@]} installed."
elif [[ "$skip_apt" == 1 ]]; then
  die "missing Debian packages (not installing because of --no-apt): ${missing[*]}"
else
  if [[ -r /etc/os-release ]]; then
    # shellcheck disable=SC1091
    os_id="$(. /etc/os-release && echo "${ID:-}:${VERSION_ID:-}")"
    [[ "$os_id" == debian:12 ]] || log "warning: this script targets Debian 12; found '$os_id'."
  fi
  sudo_cmd=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 ||
      die "not root and sudo is not installed; as root run: apt-get install ${missing[*]}"
    sudo_cmd=(sudo)
    # Never wait for a password prompt when there is no terminal (CI, pipes).
    [[ -t 0 ]] || sudo_cmd+=(-n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  log "Debian packages missing: ${missing[*]}"
  log "apt-get update ..."
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update </dev/null ||
    die "apt-get update failed (network or apt sources?)."
  log "apt-get install ${#missing[@]} package(s) ..."
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" </dev/null ||
    die "apt-get install failed for: ${missing[*]}"
  log "Debian packages: installed ${missing[*]}"
fi

# --------------------------------------------------------------------------------------------
# 2. MLflow server venv (mlflow/.venv, pinned by mlflow/requirements.txt), with the Kubernetes
#    manifest checker CI runs (kubernetes-validate, pinned by tests/sweep/deploy/requirements.txt)
# --------------------------------------------------------------------------------------------
if [[ "$skip_server" == 1 ]]; then
  log "MLflow server venv: skipped (--no-server)."
  exit 0
fi

requirements="$repo_root/mlflow/requirements.txt"
manifest_requirements="$repo_root/tests/sweep/deploy/requirements.txt"
venv="$repo_root/mlflow/.venv"
stamp="$venv/.mlflow-cpp-requirements.sha256"
[[ -r "$requirements" ]] || die "missing $requirements"
[[ -r "$manifest_requirements" ]] || die "missing $manifest_requirements"

pinned="$(sed -nE 's/^[[:space:]]*mlflow[[:space:]]*==[[:space:]]*([^[:space:];#]+).*/\1/p' "$requirements" | head -n1)"
[[ -n "$pinned" ]] || die "no 'mlflow==<version>' pin found in $requirements"
req_hash="$(cat "$requirements" "$manifest_requirements" | sha256sum | cut -d' ' -f1)"

installed_version() {
  # importlib.metadata answers in ~0.1 s; `import mlflow` takes ~2 s.
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))' 2>/dev/null || true
}

if [[ -x "$venv/bin/python" && -x "$venv/bin/mlflow" && -r "$stamp" &&
  "$(cat "$stamp")" == "$req_hash" && "$(installed_version)" == "$pinned" ]]; then
  log "MLflow server: mlflow $pinned already in mlflow/.venv."
  exit 0
fi

python="${MLFLOW_CPP_PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x /usr/bin/python3 ]]; then python=/usr/bin/python3; else python="$(command -v python3 || true)"; fi
fi
[[ -n "$python" ]] || die "python3 not found; install python3 and python3-venv (or drop --no-apt)."

if [[ -x "$venv/bin/python" ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "mlflow/.venv is broken (its python does not run); recreating it."
  rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" ]]; then
  log "creating mlflow/.venv with $python ..."
  rm -rf "$venv"
  "$python" -m venv "$venv" ||
    die "could not create $venv with $python (on Debian: apt-get install python3-venv)."
fi

log "pip install -r mlflow/requirements.txt -r tests/sweep/deploy/requirements.txt (mlflow==$pinned); this takes a few minutes the first time ..."
pip_log="$venv/pip-install.log"
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
  -r "$requirements" -r "$manifest_requirements" >"$pip_log" 2>&1 </dev/null; then
  tail -n 25 "$pip_log" >&2 || true
  die "pip install -r mlflow/requirements.txt -r tests/sweep/deploy/requirements.txt failed (full log: $pip_log)."
fi

got="$(installed_version)"
[[ "$got" == "$pinned" ]] || die "after pip install, mlflow/.venv has mlflow '$got', expected '$pinned' (log: $pip_log)."
[[ -x "$venv/bin/mlflow" ]] || die "after pip install, $venv/bin/mlflow is missing (log: $pip_log)."
printf '%s\n' "$req_hash" >"$stamp"
log "MLflow server: mlflow $pinned installed in mlflow/.venv."

#!/usr/bin/env bash
# Developer entry point: install dependencies, build, test, run the demo.
# Run `bash cmake/run.sh --help` for usage.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash cmake/run.sh [options] <command> [-- ARGS...]

Commands:
  build   install dependencies (cmake/install-deps.sh), configure build/ with
          Ninja (RelWithDebInfo) if it is not configured yet, and build it
  test    build, then run every test but the team ones: ctest --test-dir build
          --output-on-failure -j2 -LE postgres (integration tests start the real MLflow
          server themselves); ARGS replace -LE postgres and go to ctest,
          e.g.  bash cmake/run.sh test -- -L unit
  test-team
          build, then run the team tests (label postgres): the integration suite again
          against a server with 2 workers over a throwaway PostgreSQL cluster, sweeps on a
          one-node Slurm cluster, faults at team scale (about 8 min on 2 cores)
  sweep   build, then run build/apps/sweep_runner/sweep_runner from the repository root on
          sweeps/batch_size.yaml (local mode: ./mlflow.db); ARGS replace the spec and flags,
          e.g.  bash cmake/run.sh sweep -- sweeps/seed.yaml --parallel 2
  demo    build, then run build/apps/examples/quickstart from the repository root
          (it logs a run to the default local tracking URI); ARGS go to quickstart
  bench   build, then run every benchmark against one fresh MLflow server and write
          apps/bench/BENCHMARKS.md and apps/bench/benchmarks.json (apps/bench/run_benchmarks.sh,
          about 45 min on 2 cores); ARGS go to run_benchmarks.sh,
          e.g.  bash cmake/run.sh bench -- --quick   (a smoke run of everything, as CI does)

Options:
  --sanitize, --sanitize=address
                 ASan+UBSan: build-asan/ configured with -DMLFLOW_CPP_SANITIZE=address,undefined;
                 builds and tests everything, LibTorch parts included
  --sanitize=thread
                 TSan: build-tsan/ configured with -DMLFLOW_CPP_SANITIZE=thread and
                 -DMLFLOW_CPP_WITH_LIBTORCH=OFF, so mlflow::libtorch, fmnist_train/evaluate and
                 their tests are not built. Our LibTorch code starts no threads; its only
                 concurrency is LibTorch's OpenMP (libgomp), whose synchronisation TSan cannot
                 see, so TSan there would report LibTorch's threads, not ours.
                 With either, tests and the apps they start run with halt_on_error=1 and the
                 suppressions in cmake/{lsan,tsan}.supp (third-party code only); reports go to
                 <build dir>/sanitizer-reports/ (for `test`), and any report fails the command,
                 even one from a child process whose failing exit code a test expected
  --without-torch  skip LibTorch and Fashion-MNIST (passed to install-deps.sh)
  --skip-deps    do not run cmake/install-deps.sh (same as MLFLOW_CPP_SKIP_DEPS=1)
  -h, --help     show this help

Environment:
  MLFLOW_CPP_JOBS   parallel build and test jobs (default 2)
  CI                when true, a new build directory is configured with -DMLFLOW_CPP_WERROR=ON

CMakePresets.json holds the same configurations for IDEs and plain CMake:
  cmake --preset dev|release|asan|tsan|ci|clang && cmake --build --preset <same> && ctest --preset <same>
EOF
}

log() { printf '[run] %s\n' "$*"; }
die() { printf '[run] ERROR: %s\n' "$*" >&2; exit 1; }
is_true() { case "${1:-}" in 1 | true | TRUE | yes | YES | on | ON) return 0 ;; *) return 1 ;; esac; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

command=""
sanitize=""
without_torch=0
skip_deps=0
is_true "${MLFLOW_CPP_SKIP_DEPS:-}" && skip_deps=1
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    build | test | test-team | sweep | demo | bench)
      [[ -z "$command" ]] || die "only one command at a time (got '$command' and '$1')"
      command="$1" ;;
    --sanitize | --sanitize=address | --sanitize=address,undefined) sanitize=address ;;
    --sanitize=thread) sanitize=thread ;;
    --sanitize=*) die "unknown sanitizer '${1#--sanitize=}' (use --sanitize=address or --sanitize=thread)" ;;
    --without-torch) without_torch=1 ;;
    --skip-deps) skip_deps=1 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; args=("$@"); break ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done
[[ -n "$command" ]] || { usage >&2; die "no command given (build, test, test-team, sweep, demo or bench)"; }

jobs="${MLFLOW_CPP_JOBS:-2}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "MLFLOW_CPP_JOBS must be a positive number, got '$jobs'"

build_dir="$repo_root/build"
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
# CI builds with warnings as errors (CMakePresets.json's "ci" preset does the same).
is_true "${CI:-}" && cmake_args+=(-DMLFLOW_CPP_WERROR=ON)
# Sanitizer options for everything the tests run: the first finding ends the process with a failure.
# For `test`, reports go to files in $reports_dir (checked after the tests), not to a stderr that a
# test may capture. Options already in the environment are appended, so they win.
case "$sanitize" in
  address) build_dir="$repo_root/build-asan" ;;
  thread) build_dir="$repo_root/build-tsan" ;;
esac
reports_dir=""
log_path=""
if [[ -n "$sanitize" && "$command" == test* ]]; then
  reports_dir="$build_dir/sanitizer-reports"
  log_path=":log_path=$reports_dir/report"
fi
if [[ "$sanitize" == address ]]; then
  cmake_args+=("-DMLFLOW_CPP_SANITIZE=address,undefined")
  common="halt_on_error=1$log_path"
  export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="$common:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export LSAN_OPTIONS="suppressions=$repo_root/cmake/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
elif [[ "$sanitize" == thread ]]; then
  cmake_args+=("-DMLFLOW_CPP_SANITIZE=thread" "-DMLFLOW_CPP_WITH_LIBTORCH=OFF")
  without_torch=1
  export TSAN_OPTIONS="halt_on_error=1$log_path:second_deadlock_stack=1:suppressions=$repo_root/cmake/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
fi

# Fails when a sanitizer wrote any report, and shows them.
check_reports() {
  [[ -n "$reports_dir" ]] || return 0
  local reports=("$reports_dir"/report.*)
  [[ -e "${reports[0]}" ]] || { log "no sanitizer reports"; return 0; }
  for f in "${reports[@]}"; do
    printf '[run] ---- %s\n' "${f#"$repo_root"/}" >&2
    cat "$f" >&2
  done
  die "${#reports[@]} sanitizer report(s) in ${reports_dir#"$repo_root"/}/ (see above)"
}

do_build() {
  if [[ "$skip_deps" == 1 ]]; then
    log "skipping cmake/install-deps.sh (--skip-deps)"
  else
    local deps_args=()
    [[ "$without_torch" == 1 ]] && deps_args+=(--without-torch)
    bash "$repo_root/cmake/install-deps.sh" "${deps_args[@]}" || die "installing dependencies failed (see above)"
  fi
  command -v cmake >/dev/null 2>&1 || die "cmake not found (run: bash cmake/install-deps.sh)"

  cd "$repo_root"
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    command -v ninja >/dev/null 2>&1 || die "ninja not found (run: bash cmake/install-deps.sh)"
    log "configuring ${build_dir#"$repo_root"/}/ ..."
    cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" || die "CMake configure failed"
  elif [[ ! -f "$build_dir/build.ninja" && ! -f "$build_dir/Makefile" ]]; then
    # A configure that failed half way: finish it with the generator already in the cache.
    log "re-configuring ${build_dir#"$repo_root"/}/ ..."
    cmake -S . -B "$build_dir" "${cmake_args[@]}" || die "CMake configure failed"
  fi
  log "building ${build_dir#"$repo_root"/}/ (-j$jobs) ..."
  # The build runs test executables to list their tests: start with no reports.
  [[ -z "$reports_dir" ]] || { rm -rf "$reports_dir" && mkdir -p "$reports_dir"; }
  cmake --build "$build_dir" -j"$jobs" || { check_reports; die "build failed"; }
}

case "$command" in
  build)
    do_build
    ;;
  test | test-team)
    do_build
    log "running tests ..."
    if [[ "$command" == test-team ]]; then
      args=(-L postgres "${args[@]}")
    elif [[ ${#args[@]} == 0 ]]; then
      args=(-LE postgres)
    fi
    status=0
    ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j"$jobs" "${args[@]}" || status=$?
    check_reports
    [[ "$status" == 0 ]] || die "tests failed"
    ;;
  sweep)
    do_build
    exe="$build_dir/apps/sweep_runner/sweep_runner"
    [[ -x "$exe" ]] || die "${exe#"$repo_root"/} was not built (LibTorch missing? see cmake/install-deps.sh)"
    cd "$repo_root"
    [[ ${#args[@]} -gt 0 ]] || args=(sweeps/batch_size.yaml)
    log "running ${exe#"$repo_root"/} ${args[*]}"
    "$exe" "${args[@]}"
    ;;
  demo)
    do_build
    exe="$build_dir/apps/examples/quickstart"
    [[ -x "$exe" ]] || die "${exe#"$repo_root"/} was not built (is apps/examples part of the build?)"
    cd "$repo_root"
    log "running ${exe#"$repo_root"/} ${args[*]:-}"
    "$exe" "${args[@]}"
    ;;
  bench)
    [[ -z "$sanitize" ]] || die "bench measures the normal build: drop --sanitize"
    do_build
    cd "$repo_root"
    bash "$repo_root/apps/bench/run_benchmarks.sh" --build "$build_dir" "${args[@]}"
    ;;
esac

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs a built mlflow-cpp into a scratch prefix, builds a consumer project (tests/consumer/<name>)
# against it with find_package(mlflow_cpp CONFIG), runs it against the test server and checks what it
# logged there with curl: tracking (a run through mlflow::tracking), training (a trainer without
# LibTorch through mlflow::training: epochs, confusion matrix, a registered model), libtorch (a
# LibTorch model of its own logged with mlflow::libtorch, registered, loaded back by alias) or sweep
# (the installed sweep_runner running the project's own trainer from its spec; check_sweep.py).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: run_consumer.sh --build-dir=DIR [--project-dir=DIR] [--source-dir=DIR] [--cmake=EXE] [--cxx=EXE]
                       [--build-type=TYPE] [--sanitize=LIST] [--keep]

--build-dir    an already built mlflow-cpp build tree (what `cmake --install` installs from)
--project-dir  the consumer project: tracking/, training/, libtorch/ or sweep/ next to this script (default: tracking/)
--source-dir   the mlflow-cpp checkout: no installed file may name it
--cmake        cmake to use (default: cmake on PATH)
--cxx          the C++ compiler (default: CMake's choice)
--build-type   CMAKE_BUILD_TYPE for the consumer
--sanitize     the -fsanitize= list the library was built with (a static library built with
               sanitizers needs them at link time)
--keep         keep the scratch directory (prefix, build, logs) and print its path
The server URL is read from the file named by $MLFLOW_CPP_TEST_SERVER_FILE, or taken from
$MLFLOW_TRACKING_URI when that variable is not set.
EOF
}

die() { printf 'run_consumer.sh: FAIL: %s\n' "$*" >&2; exit 1; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
build_dir="" source_dir="" project_dir="$script_dir/tracking" cmake_exe="cmake" cxx="" build_type="" sanitize="" keep=0
for arg in "$@"; do
  case "$arg" in
    --build-dir=*) build_dir="${arg#*=}" ;;
    --project-dir=*) project_dir="${arg#*=}" ;;
    --source-dir=*) source_dir="${arg#*=}" ;;
    --cmake=*) cmake_exe="${arg#*=}" ;;
    --cxx=*) cxx="${arg#*=}" ;;
    --build-type=*) build_type="${arg#*=}" ;;
    --sanitize=*) sanitize="${arg#*=}" ;;
    --keep) keep=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done
[[ -n "$build_dir" && -f "$build_dir/cmake_install.cmake" ]] ||
  die "--build-dir must be a configured and built mlflow-cpp build tree (got '$build_dir')"
[[ -f "$project_dir/CMakeLists.txt" ]] || die "no consumer project at $project_dir"
command -v curl >/dev/null || die "curl is needed to check the run on the server"

if [[ -n "${MLFLOW_CPP_TEST_SERVER_FILE:-}" ]]; then
  [[ -s "$MLFLOW_CPP_TEST_SERVER_FILE" ]] ||
    die "server URL file $MLFLOW_CPP_TEST_SERVER_FILE is missing or empty (did the fixture run?)"
  url="$(cat "$MLFLOW_CPP_TEST_SERVER_FILE")"
elif [[ -n "${MLFLOW_TRACKING_URI:-}" ]]; then
  url="$MLFLOW_TRACKING_URI"
else
  die "no server: set MLFLOW_CPP_TEST_SERVER_FILE or MLFLOW_TRACKING_URI"
fi
url="${url%/}"

work="$(mktemp -d "${TMPDIR:-/tmp}/mlflow-cpp-consumer.XXXXXX")"
if [[ $keep == 1 ]]; then
  trap 'printf "run_consumer.sh: kept %s\n" "$work" >&2' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
prefix="$work/prefix"

# Runs a step quietly; on failure shows its log and fails.
step() {
  local name="$1"; shift
  if ! "$@" >"$work/$name.log" 2>&1; then
    cat "$work/$name.log" >&2
    die "$name failed: $*"
  fi
}

step install "$cmake_exe" --install "$build_dir" --prefix "$prefix"
[[ -f "$prefix/include/mlflow/client.h" ]] || die "install put no mlflow/client.h in $prefix/include"
config="$(find "$prefix" -name mlflow_cppConfig.cmake -print -quit)"
[[ -n "$config" ]] || die "install did not produce mlflow_cppConfig.cmake"
# The public headers must not leak private dependencies or internal headers.
if grep -rlE '#include *[<"](nlohmann|curl|fmt)/' "$prefix/include" >"$work/leaks.txt"; then
  die "installed headers include private dependencies: $(tr '\n' ' ' <"$work/leaks.txt")"
fi
[[ ! -e "$prefix/include/mlflow/client_impl.h" ]] || die "private header client_impl.h was installed"
# An installed package must not depend on the checkout it was built from.
if [[ -n "$source_dir" ]] && grep -rlF "$source_dir" "$prefix" >"$work/source-paths.txt"; then
  die "installed files name the source tree $source_dir: $(tr '\n' ' ' <"$work/source-paths.txt")"
fi
for bench in bench_tracking bench_training bench_fmnist; do
  [[ ! -e "$prefix/bin/$bench" ]] || die "benchmark program $bench was installed"
done

configure=("$cmake_exe" -S "$project_dir" -B "$work/build" -G Ninja
  "-DCMAKE_PREFIX_PATH=$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
[[ -z "$cxx" ]] || configure+=("-DCMAKE_CXX_COMPILER=$cxx")
[[ -z "$build_type" ]] || configure+=("-DCMAKE_BUILD_TYPE=$build_type")
[[ -z "$sanitize" ]] ||
  configure+=("-DCMAKE_CXX_FLAGS=-fsanitize=$sanitize" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=$sanitize")
step configure "${configure[@]}"
found="$(sed -n 's/^mlflow_cpp_DIR:PATH=//p' "$work/build/CMakeCache.txt")"
[[ "$found" == "$prefix"/* ]] || die "find_package used $found, not the scratch install in $prefix"
step build "$cmake_exe" --build "$work/build"

experiment="consumer-$$-$RANDOM$RANDOM"
project="$(basename "$project_dir")"
if [[ "$project" != sweep ]]; then
  args=("$experiment")
  [[ "$project" != training && "$project" != libtorch ]] || args+=("$experiment-model")
  if ! MLFLOW_TRACKING_URI="$url" "$work/build/consumer" "${args[@]}" >"$work/run.out" 2>"$work/run.err"; then
    cat "$work/run.err" >&2
    die "the consumer program failed"
  fi
  run_id="$(tail -n 1 "$work/run.out")"
  [[ "$run_id" =~ ^[0-9a-f]{32}$ ]] || die "the consumer printed '$run_id', not a run id"
fi

# Fails unless GET $url/api/2.0/mlflow/$1 answers JSON holding each of the other arguments. The
# response is pretty-printed protobuf JSON ("key" before "value"); compared without spaces.
expect() {
  local endpoint="$1"; shift
  if ! curl -sS --fail-with-body --max-time 60 "$url/api/2.0/mlflow/$endpoint" >"$work/answer.json"; then
    cat "$work/answer.json" >&2
    die "GET $endpoint failed"
  fi
  local compact
  compact="$(tr -d ' \n' <"$work/answer.json")"
  for want in "$@"; do
    [[ "$compact" == *"$want"* ]] || { cat "$work/answer.json" >&2; die "GET $endpoint lacks $want"; }
  done
}

case "$project" in
  tracking)
    expect "runs/get?run_id=$run_id" "\"run_id\":\"$run_id\"" '"status":"FINISHED"' \
      '{"key":"learning_rate","value":"0.01"}' '{"key":"epochs","value":"3"}' \
      '{"key":"consumer","value":"find_package"}' '"key":"loss","value":0.125'
    ;;
  training)
    accuracy="$(sed -n 's/^test accuracy //p' "$work/run.out")"
    awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.8) }' || die "the softmax regression reached only '$accuracy' test accuracy"
    expect "runs/get?run_id=$run_id" '"status":"FINISHED"' '{"key":"epochs","value":"20"}' \
      '"key":"val_accuracy"' '"key":"test_accuracy"' '"key":"test_f1_left"'
    expect "metrics/get-history?run_id=$run_id&metric_key=val_loss" '"step":20'
    expect "artifacts/list?run_id=$run_id" '"path":"confusion_matrix.json"' '"path":"confusion_matrix.png"' \
      '"path":"curves.png"'
    expect "registered-models/alias?name=$experiment-model&alias=champion" '"version":"1"' \
      "\"run_id\":\"$run_id\""
    ;;
  libtorch)
    # The program itself compares the loaded model's outputs with the trained one's.
    grep -q "^outputs identical after loading models:/$experiment-model@champion" "$work/run.out" ||
      die "the consumer did not report identical outputs: $(cat "$work/run.out")"
    expect "runs/get?run_id=$run_id" '"status":"FINISHED"' '{"key":"model","value":"sensor_mlp"}' \
      '"key":"val_accuracy"'
    expect "metrics/get-history?run_id=$run_id&metric_key=val_loss" '"step":10'
    expect "registered-models/alias?name=$experiment-model&alias=champion" '"version":"1"' \
      "\"run_id\":\"$run_id\""
    # MLflow's own Python runs the ONNX copy (mlflow::onnx) logged beside the weights.
    MLFLOW_TRACKING_URI="$url" "$script_dir/../../mlflow/.venv/bin/python" -c '
import sys, numpy as np, mlflow.pyfunc
logits = mlflow.pyfunc.load_model(sys.argv[1]).predict(np.zeros((2, 3, 8), np.float32))["logits"]
assert logits.shape == (2, 4) and np.isfinite(logits).all(), logits
' "models:/$experiment-model@champion" >"$work/pyfunc.log" 2>&1 ||
      { cat "$work/pyfunc.log" >&2; die "mlflow.pyfunc cannot run the model's onnx flavour"; }
    ;;
  sweep)
    # The installed sweep_runner runs the user's own program from the spec the consumer's build put
    # next to it, given this test's own experiment and model names.
    runner="$prefix/bin/sweep_runner"
    [[ -x "$runner" ]] || die "sweep_runner was not installed in $prefix/bin"
    spec="$work/build/sweep.yaml"
    sed -i -e "s/^experiment: .*/experiment: $experiment/" \
      -e "s/^  model_name: .*/  model_name: $experiment-model/" "$spec"
    if ! MLFLOW_TRACKING_URI="$url" "$runner" --log-dir "$work/trial-logs" "$spec" \
        >"$work/run.out" 2>"$work/run.err"; then
      cat "$work/run.out" "$work/run.err" >&2
      die "the installed sweep_runner failed on $spec"
    fi
    # Its table shows the spec's metric, not a column for fmnist_train's test_accuracy.
    ! grep -qF test_accuracy "$work/run.out" || { cat "$work/run.out" >&2; die "the table shows test_accuracy"; }
    python3 "$script_dir/check_sweep.py" "$url" "$experiment" "$experiment-model" >"$work/check.out" ||
      { cat "$work/run.out" >&2; die "sweep_runner's sweep is not on the server as expected"; }
    run_id="$(sed -n 's/^check_sweep.py: parent \([0-9a-f]*\),.*/\1/p' "$work/check.out")"  # the parent

    # spec_copy NAME [SED]: $work/NAME/NAME.yaml, the spec for experiment $experiment-NAME and model
    # $experiment-NAME-model, its program's path absolute, edited by SED.
    spec_copy() {
      mkdir "$work/$1"
      sed -e "s/^experiment: .*/experiment: $experiment-$1/" \
        -e "s/^  model_name: .*/  model_name: $experiment-$1-model/" \
        -e "s|^program: .*|program: $work/build/linreg_train|" -e "${2:-}" "$spec" >"$work/$1/$1.yaml"
    }

    # sweep_driver runs it in-process through mlflow::sweep; the last line is the best trial's run.
    spec_copy driver
    if ! MLFLOW_TRACKING_URI="$url" "$work/build/sweep_driver" "$work/driver/driver.yaml" \
        >"$work/driver.out" 2>"$work/driver.err"; then
      cat "$work/driver.out" "$work/driver.err" >&2
      die "sweep_driver failed"
    fi
    python3 "$script_dir/check_sweep.py" "$url" "$experiment-driver" "$experiment-driver-model" \
      >"$work/check.out" || { cat "$work/driver.out" >&2; die "sweep_driver's sweep is not as expected"; }
    grep -qF "best trial $(tail -n 1 "$work/driver.out") " "$work/check.out" ||
      die "sweep_driver printed '$(tail -n 1 "$work/driver.out")', not the best trial: $(cat "$work/check.out")"

    # A learning rate linreg_train's --describe-params does not allow: exit 2 naming
    # file:line:column and what is allowed, and nothing on the server.
    spec_copy bad "s/0.05, 0.3/0.05, 2/"
    bad="$work/bad/bad.yaml"
    line="$(grep -n '^  learning_rate:' "$bad" | cut -d: -f1)"
    column="$(awk -v n="$line" 'NR == n { print index($0, "2]") }' "$bad")"
    status=0
    MLFLOW_TRACKING_URI="$url" "$runner" "$bad" >"$work/bad.out" 2>"$work/bad.err" || status=$?
    [[ $status == 2 ]] || { cat "$work/bad.out" "$work/bad.err" >&2; die "the bad spec exited $status, not 2"; }
    for want in "$bad:$line:$column:" "learning_rate" "(0, 1]"; do
      grep -qF -- "$want" "$work/bad.err" || { cat "$work/bad.err" >&2; die "the error lacks '$want'"; }
    done
    for endpoint in "experiments/get-by-name?experiment_name=$experiment-bad" \
                    "registered-models/get?name=$experiment-bad-model"; do
      code="$(curl -sS -o "$work/answer.json" -w '%{http_code}' --max-time 60 "$url/api/2.0/mlflow/$endpoint")"
      [[ $code == 404 ]] || { cat "$work/answer.json" >&2; die "after the bad spec, GET $endpoint answered $code"; }
    done
    ;;
  *) die "no checks for consumer project '$project'" ;;
esac
printf 'run_consumer.sh: OK: %s consumer run %s checked on %s (package %s)\n' "$project" "$run_id" "$url" "$config"

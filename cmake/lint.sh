#!/usr/bin/env bash
# The style checks CI runs after the tests: clang-format (.clang-format) over every C++ file git
# tracks, and clang-tidy (.clang-tidy) over the lib/ and apps/ translation units of a build.
# Run `bash cmake/lint.sh --help` for usage.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash cmake/lint.sh <command> [options]

Commands:
  format         check that every C++ file git tracks (*.cpp, *.h) is formatted as .clang-format
                 says; names each file that is not, with its first difference, and fails
  format --fix   reformat those files in place (clang-format -i)
  tidy           run clang-tidy with .clang-tidy's checks (findings are errors) on every lib/ and
                 apps/ translation unit in build-clang/compile_commands.json but the benchmarks
                 (apps/bench), headers under lib/ and apps/ included. build-clang/ is CMakePresets.json's "clang" build, without
                 LibTorch: that is what CI checks. It must have been configured
                 (cmake --preset clang).

Options for tidy:
  --build-dir DIR  take the translation units from DIR/compile_commands.json instead; the full
                 run, LibTorch parts included, is
                   cmake --preset dev && bash cmake/lint.sh tidy --build-dir build
                 (about three times as many translation units, each slower to parse)
  -j N           parallel clang-tidy processes (default: MLFLOW_CPP_JOBS, else 2)
  -h, --help     show this help
EOF
}

log() { printf '[lint] %s\n' "$*"; }
die() { printf '[lint] ERROR: %s\n' "$*" >&2; exit 1; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$repo_root"

command=""
fix=0
build_dir="build-clang"
jobs="${MLFLOW_CPP_JOBS:-2}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    format | tidy)
      [[ -z "$command" ]] || die "only one command at a time (got '$command' and '$1')"
      command="$1" ;;
    --fix) fix=1 ;;
    --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a directory"; build_dir="$2"; shift ;;
    -j) [[ $# -ge 2 ]] || die "-j needs a number"; jobs="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done
[[ -n "$command" ]] || { usage >&2; die "no command given (format or tidy)"; }
[[ "$fix" == 0 || "$command" == format ]] || die "--fix goes with format only"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "-j (or MLFLOW_CPP_JOBS) must be a positive number, got '$jobs'"

if [[ "$command" == format ]]; then
  command -v clang-format >/dev/null 2>&1 || die "clang-format not found (bash cmake/install-deps.sh)"
  mapfile -d '' files < <(git ls-files -z '*.cpp' '*.h')
  [[ ${#files[@]} -gt 0 ]] || die "git lists no C++ files here"
  if [[ "$fix" == 1 ]]; then
    clang-format -i "${files[@]}"
    log "formatted ${#files[@]} files"
    exit 0
  fi
  # One clang-format per file, so each unformatted file is named once, with its first difference.
  bad=()
  for f in "${files[@]}"; do
    clang-format --dry-run --Werror --ferror-limit=1 "$f" || bad+=("$f")
  done
  if [[ ${#bad[@]} -gt 0 ]]; then
    die "${#bad[@]} of ${#files[@]} files are not formatted as .clang-format says" \
      "(fix: bash cmake/lint.sh format --fix)"
  fi
  log "clang-format: all ${#files[@]} C++ files are formatted"
  exit 0
fi

command -v run-clang-tidy >/dev/null 2>&1 || die "run-clang-tidy not found (bash cmake/install-deps.sh)"
db="$build_dir/compile_commands.json"
[[ -r "$db" ]] || die "no $db: configure it first (cmake --preset clang), or name another build with --build-dir"
# Paths in the database are absolute. Tests are left out: .clang-tidy is for the libraries and apps;
# so are the benchmarks (apps/bench), which are being moved.
run-clang-tidy -quiet -p "$build_dir" -j "$jobs" -header-filter "^$repo_root/(lib|apps)/" \
  "^$repo_root/(lib/|apps/(?!bench/))" ||
  die "clang-tidy reported findings (above); fix them, or NOLINT(check) with a comment saying why"
log "clang-tidy: lib/ and apps/ in $db are clean"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Load at team scale: N trainer processes (bench_team_load trainer, each with its AsyncLogger) log at
# once into one tracking server, PostgreSQL-backed and SQLite-backed; throughput, caller latency,
# CPU, and every metric counted back. Builds nothing. See --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash apps/bench/run_team_bench.sh [--build DIR] [--out DIR] [--backends LIST] [--trainers LIST]
                                         [--metrics M] [--keys K] [--reps N] [--workers W]
                                         [--request-timeout-ms MS] [--quick] [--keep-work]

For each repetition, backend and team size N, starts N `bench_team_load trainer` processes at once
(each opens its AsyncLogger and queues its run, then all start logging together when a go-file
appears), each logging M metric values (K keys per step) as fast as it can. Measured per trial:
  wall time        from the go-file to the last trainer's close() returning, i.e. every value
                   acknowledged (stored) by the server
  metrics/s        values stored / wall time
  caller latency   every log_metric call timed on the trainer's thread; the trainers' histograms are
                   merged, p50/p99/max over all calls
  CPU              user/sys seconds of the server's process group, of the PostgreSQL cluster's
                   (from /proc, before and after) and of the trainers (getrusage)
then `bench_team_load count` reads every run back (runs/search, metrics/get-history): each value must
be there exactly once and every run FINISHED, otherwise the script fails.

Backends (each with its own server, started here, in the work directory):
  postgres   mlflow/postgres.sh starts a throwaway PostgreSQL cluster; mlflow/server.sh start
             --backend-store-uri postgresql://... --workers W
  sqlite     mlflow/server.sh start (its default: sqlite:///DIR/mlflow.db, one worker)
Backends take turns going first, repetition by repetition; the tables grow over the run (each trial
has an experiment of its own).

Writes OUT/team_load.json (every trial), OUT/team_load.csv and OUT/team_load.md (medians over the
repetitions per backend and N) via apps/bench/team_report.py.

Options:
  --build DIR      build directory with apps/bench/bench_team_load (default: build)
  --out DIR        where the results go (default: a temporary directory)
  --backends LIST  comma-separated, default postgres,sqlite
  --trainers LIST  comma-separated team sizes, default 1,4,16,64
  --metrics M      metric values per trainer (default 5000; a multiple of --keys)
  --keys K         metric keys per step (default 4)
  --reps N         repetitions (default 3); figures are medians
  --workers W      uvicorn workers of the PostgreSQL-backed server (default 2, one per core)
  --request-timeout-ms MS
                   the trainers' AsyncLogger request timeout (default 10000, the logger's default)
  --quick          team sizes 1,4, 400 values each, one repetition: checks that everything runs
  --keep-work      keep the work directory (servers, database, trainer output); kept anyway on failure
EOF
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$script_dir/../.." && pwd -P)"
build="$repo/build"
out=""
backends="postgres,sqlite"
trainers="1,4,16,64"
metrics=5000
keys=4
reps=3
workers=2
request_timeout_ms=10000
keep_work=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$(cd "${2:?--build needs a directory}" && pwd -P)"; shift ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --backends) backends="${2:?--backends needs a list}"; shift ;;
    --trainers) trainers="${2:?--trainers needs a list}"; shift ;;
    --metrics) metrics="${2:?--metrics needs a number}"; shift ;;
    --keys) keys="${2:?--keys needs a number}"; shift ;;
    --reps) reps="${2:?--reps needs a number}"; shift ;;
    --workers) workers="${2:?--workers needs a number}"; shift ;;
    --request-timeout-ms) request_timeout_ms="${2:?--request-timeout-ms needs milliseconds}"; shift ;;
    --quick) trainers="1,4"; metrics=400; reps=1 ;;
    --keep-work) keep_work=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "run_team_bench.sh: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "run_team_bench.sh: $*" >&2; exit 2; }
for n in "$metrics" "$keys" "$reps" "$workers" "$request_timeout_ms"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--metrics, --keys, --reps, --workers and --request-timeout-ms take positive numbers, got '$n'"
done
((metrics % keys == 0)) || die "--metrics $metrics is not a multiple of --keys $keys"
IFS=, read -r -a backend_list <<<"$backends"
IFS=, read -r -a team_sizes <<<"$trainers"
for b in "${backend_list[@]}"; do
  [[ "$b" == postgres || "$b" == sqlite ]] || die "unknown backend '$b' (postgres, sqlite)"
done
for n in "${team_sizes[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--trainers takes positive numbers, got '$n'"
done
bench="$build/apps/bench/bench_team_load"
[[ -x "$bench" ]] || die "$bench is missing: build first"

work="$(mktemp -d "${TMPDIR:-/tmp}/mlflow-cpp-team.XXXXXX")"
chmod 755 "$work"  # run as root, PostgreSQL runs as "postgres": its data and log can then live in here
[[ -n "$out" ]] || out="$work/report"
mkdir -p "$out"
log() { printf '[team] %s\n' "$*" >&2; }
finished=0
pids=()  # the trainers of the trial under way
cleanup() {
  local b p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for b in "${backend_list[@]}"; do
    bash "$repo/mlflow/server.sh" stop --dir "$work/$b/server" >/dev/null 2>&1 || true
  done
  [[ -d "$work/postgres/db" ]] && { bash "$repo/mlflow/postgres.sh" stop --dir "$work/postgres/db" >/dev/null 2>&1 || true; }
  if [[ "$finished" == 1 && "$keep_work" == 0 && "$out" != "$work"/* ]]; then
    [[ -d "$work/postgres/db" ]] && { bash "$repo/mlflow/postgres.sh" remove --dir "$work/postgres/db" >/dev/null 2>&1 || true; }
    rm -rf "$work"
  else
    log "work directory kept: $work"
  fi
}
trap cleanup EXIT

declare -A uri server_pgid db_pid
for b in "${backend_list[@]}"; do
  if [[ "$b" == postgres ]]; then
    bash "$repo/mlflow/postgres.sh" start --dir "$work/postgres/db" >/dev/null
    db_url="$(cat "$work/postgres/db/postgres.url")"
    uri[$b]="$(bash "$repo/mlflow/server.sh" start --dir "$work/$b/server" --workers "$workers" \
      --backend-store-uri "$db_url")"
    # The postmaster's pid, from "running URL (pid N)".
    db_pid[$b]="$(bash "$repo/mlflow/postgres.sh" status --dir "$work/postgres/db" | sed -n 's/.*(pid \([0-9]*\))$/\1/p')"
    [[ -n "${db_pid[$b]}" ]] || die "cannot tell PostgreSQL's pid (mlflow/postgres.sh status --dir $work/postgres/db)"
  else
    uri[$b]="$(bash "$repo/mlflow/server.sh" start --dir "$work/$b/server")"
    db_pid[$b]=""
  fi
  server_pgid[$b]="$(cat "$work/$b/server/server.pid")"
  log "$b: server ${uri[$b]}"
done

clk_tck="$(getconf CLK_TCK)"
# Prints "user sys" CPU seconds so far of the processes whose field $1 of /proc/PID/stat (counted
# from 0 after the command: 1 = parent, 2 = process group) is $2, plus process $2; each with what it
# reaped (utime stime cutime cstime). The server is a process group (uvicorn and its
# workers); PostgreSQL's backends are the postmaster's children, each in a session of its own.
# "0.00 0.00" for an empty $2.
tree_cpu() {
  local f stat fields pid user=0 sys=0
  if [[ -n "$2" ]]; then
    for f in /proc/[0-9]*/stat; do
      { read -r stat <"$f"; } 2>/dev/null || continue
      pid="${stat%% *}"
      read -ra fields <<<"${stat##*) }"
      [[ "${fields[$1]}" == "$2" || "$pid" == "$2" ]] || continue
      user=$((user + fields[11] + fields[13]))
      sys=$((sys + fields[12] + fields[14]))
    done
  fi
  printf '%s %s' "$(awk -v t="$user" -v h="$clk_tck" 'BEGIN { printf "%.2f", t / h }')" \
    "$(awk -v t="$sys" -v h="$clk_tck" 'BEGIN { printf "%.2f", t / h }')"
}

now_ms() { local t="${EPOCHREALTIME/[.,]/}"; printf '%s' "$((10#$t / 1000))"; }

# One trial: backend $1, team size $2, repetition $3. Appends its record to $work/trials.jsonl.
trial() {
  local b="$1" n="$2" r="$3" i
  local dir="$work/$b/n$n-r$r"
  local experiment="team-$b-n$n-r$r-$$"
  mkdir -p "$dir/spool"
  pids=()
  for ((i = 0; i < n; i++)); do
    "$bench" trainer --uri "${uri[$b]}" --experiment "$experiment" --index "$i" --metrics "$metrics" \
      --keys "$keys" --request-timeout-ms "$request_timeout_ms" --spool "$dir/spool" --go-file "$dir/go" \
      >"$dir/t$i.json" 2>"$dir/t$i.err" &
    pids+=("$!")
  done
  # Every trainer has its logger open and its run queued before the clock starts.
  local ready waited=0
  while :; do
    ready="$({ grep -l READY "$dir"/t*.err 2>/dev/null || true; } | wc -l)"
    ((ready == n)) && break
    ((waited < 3000)) || die "only $ready of $n trainers got ready in 300 s (see $dir)"
    sleep 0.1
    waited=$((waited + 1))
  done
  local server_before db_before server_after db_after go_ms
  server_before="$(tree_cpu 2 "${server_pgid[$b]}")"
  db_before="$(tree_cpu 1 "${db_pid[$b]}")"
  go_ms="$(now_ms)"
  touch "$dir/go"
  local failed=0
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { failed=1; log "trainer $i failed: $(tail -n 3 "$dir/t$i.err" "$dir/t$i.json")"; }
  done
  server_after="$(tree_cpu 2 "${server_pgid[$b]}")"
  db_after="$(tree_cpu 1 "${db_pid[$b]}")"
  "$bench" count --uri "${uri[$b]}" --experiment "$experiment" --trainers "$n" --metrics "$metrics" \
    --keys "$keys" >"$dir/count.json" || { failed=1; log "count-back failed: $(cat "$dir/count.json")"; }
  python3 "$script_dir/team_report.py" trial --dir "$dir" --backend "$b" --trainers "$n" --rep "$r" \
    --go-ms "$go_ms" --server-cpu "$server_before" "$server_after" --db-cpu "$db_before" "$db_after" \
    >>"$work/trials.jsonl"
  pids=()
  [[ "$failed" == 0 ]] || die "trial $b N=$n repetition $r lost, duplicated or failed to deliver values (see $dir)"
  rm -rf "$dir/spool"  # empty after a complete close; the trainer output stays with the work directory
}

: >"$work/trials.jsonl"
for ((r = 1; r <= reps; r++)); do
  order=("${backend_list[@]}")
  if ((r % 2 == 0 && ${#order[@]} == 2)); then order=("${order[1]}" "${order[0]}"); fi
  for b in "${order[@]}"; do
    for n in "${team_sizes[@]}"; do
      log "$b N=$n repetition $r/$reps..."
      trial "$b" "$n" "$r"
      tail -n 1 "$work/trials.jsonl" | python3 "$script_dir/team_report.py" line >&2
    done
  done
done

python3 "$script_dir/team_report.py" report --trials "$work/trials.jsonl" --out "$out" \
  --metrics "$metrics" --keys "$keys" --reps "$reps" --workers "$workers" \
  --request-timeout-ms "$request_timeout_ms"
finished=1
log "wrote $out/team_load.md, team_load.csv and team_load.json"

#!/usr/bin/env bash
# Starts, stops and reports on a real MLflow tracking server for users and tests.
# Run `mlflow/server.sh --help` for usage.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage:
  mlflow/server.sh start  [--dir DIR] [--port N|0] [--host H] [--workers N]
                          [--backend-store-uri URI] [-- MLFLOW_SERVER_ARGS...]
  mlflow/server.sh stop   [--dir DIR]
  mlflow/server.sh status [--dir DIR]
  mlflow/server.sh --help

start   Runs `mlflow server` in the background (own session, nohup) over
        sqlite:///DIR/mlflow.db (or --backend-store-uri) with artifacts proxied
        to DIR/mlartifacts, waits until GET /health answers OK, writes
        DIR/server.url and DIR/server.pid and prints the URL. If a server started by this script is already serving DIR,
        prints its URL and succeeds.
stop    SIGTERM to the server's process group, SIGKILL after 20 s; removes
        DIR/server.url and DIR/server.pid. Succeeds when nothing is running.
status  Prints "running URL" (exit 0), "unhealthy ..." (exit 1) or
        "not running" (exit 3).

Options:
  --dir DIR      where mlflow.db, mlartifacts/, server.log, server.url and
                 server.pid live (default: current directory; created if missing)
  --port N       port to listen on; 0 or omitted = a free port on the host
  --host H       address to bind (default 127.0.0.1)
  --workers N    uvicorn workers (default 1)
  --backend-store-uri URI
                 the database instead of DIR/mlflow.db, e.g. a PostgreSQL one
                 (postgresql://USER@HOST:PORT/DATABASE; mlflow/postgres.sh makes a
                 throwaway one). It is checked first: a database that does not
                 connect is named, with the reason, and nothing is started. Its
                 schema is created or upgraded (`mlflow db upgrade`) before the
                 workers start, so several workers never race to migrate it.
                 Give the password in PGPASSWORD or ~/.pgpass, not in the URI
                 (the URI is on the server's command line, visible to `ps`).
  -- ARGS        passed to `mlflow server` as is (e.g. -- --app-name basic-auth)

Files written in DIR: server.url holds exactly the base URL (e.g.
http://127.0.0.1:54321) with no trailing newline; server.pid holds the process
(group) id, also with no trailing newline; server.log is the server's output.

Environment:
  MLFLOW_CPP_SERVER_EXE           mlflow executable to use (default: the repo's
                                  mlflow/.venv/bin/mlflow, else `mlflow` on PATH)
  MLFLOW_CPP_SERVER_START_TIMEOUT seconds to wait for /health (default 180)
  The server is started with MLFLOW_DISABLE_TELEMETRY=true and
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false unless those are already set.
EOF
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
prog=mlflow/server.sh
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$script_dir/common.sh"

url_for() { # $1 host, $2 port -> base URL a local client can use
  local h="$1"
  case "$h" in
    0.0.0.0 | "") h=127.0.0.1 ;;
    :: | "[::]") h="[::1]" ;;
    *:*) [[ "$h" == \[* ]] || h="[$h]" ;;
  esac
  printf 'http://%s:%s' "$h" "$2"
}

# Process groups are read from /proc/PID/stat (procps may be missing, e.g. in debian:12 containers).
# After "pid (comm) " (comm may contain spaces) come: state ppid pgrp session ...
# Prints the pids of the live (not zombie) members of process group $1, one per line.
group_pids() {
  local f stat fields
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue
    read -ra fields <<<"${stat##*) }"
    [[ "${fields[2]:-}" == "$1" && "${fields[0]:-}" != Z ]] || continue
    f="${f#/proc/}"
    printf '%s\n' "${f%/stat}"
  done
}

my_pgid() {
  local stat fields
  read -r stat </proc/self/stat
  read -ra fields <<<"${stat##*) }"
  printf '%s' "${fields[2]}"
}

group_alive() { # $1 pgid
  kill -0 -- "-$1" 2>/dev/null && [[ -n "$(group_pids "$1")" ]]
}

# True when one process of group $1 runs mlflow / uvicorn (guards against a stale, reused pid).
group_is_mlflow() {
  local group="$1" p cmd
  while read -r p; do
    [[ -n "$p" ]] || continue
    cmd="$({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null || true)"
    [[ "$cmd" =~ mlflow|uvicorn ]] && return 0
  done < <(group_pids "$group")
  return 1
}

health_ok() { # $1 url
  [[ "$(curl -sS --noproxy '*' --max-time 2 "$1/health" 2>/dev/null || true)" == OK ]]
}

# Reads DIR/server.pid; prints the pgid when that group is alive and is an MLflow server.
running_pgid() {
  local pid
  [[ -r "$dir/server.pid" ]] || return 1
  pid="$(tr -dc '0-9' <"$dir/server.pid")"
  # Never signal "all processes" (-1), our own group (-0) or pid 1's group.
  [[ -n "$pid" ]] && ((10#$pid > 1)) || return 1
  pid=$((10#$pid))
  [[ "$pid" != "$(my_pgid)" ]] || return 1
  group_alive "$pid" && group_is_mlflow "$pid" || return 1
  printf '%s' "$pid"
}

resolve_dir() { # sets $dir to the absolute path of $1, creating it
  mkdir -p -- "$1" || die "cannot create directory $1"
  dir="$(cd -- "$1" && pwd -P)"
}

tail_log() {
  if [[ -s "$dir/server.log" ]]; then
    note "last lines of $dir/server.log:"
    tail -n 40 "$dir/server.log" >&2 || true
  fi
}

cmd_start() {
  local dir_arg="." port=0 host=127.0.0.1 workers=1 backend="" extra=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dir) [[ $# -ge 2 ]] || die "--dir needs a value"; dir_arg="$2"; shift ;;
      --dir=*) dir_arg="${1#*=}" ;;
      --port) [[ $# -ge 2 ]] || die "--port needs a value"; port="$2"; shift ;;
      --port=*) port="${1#*=}" ;;
      --host) [[ $# -ge 2 ]] || die "--host needs a value"; host="$2"; shift ;;
      --host=*) host="${1#*=}" ;;
      --workers) [[ $# -ge 2 ]] || die "--workers needs a value"; workers="$2"; shift ;;
      --workers=*) workers="${1#*=}" ;;
      --backend-store-uri) [[ $# -ge 2 ]] || die "--backend-store-uri needs a value"; backend="$2"; shift ;;
      --backend-store-uri=*) backend="${1#*=}" ;;
      --) shift; extra=("$@"); break ;;
      -h | --help) usage; exit 0 ;;
      *) die "start: unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((10#$port > 65535)); then die "--port must be a number 0..65535, got '$port'"; fi
  port=$((10#$port))
  [[ "$workers" =~ ^[1-9][0-9]*$ ]] || die "--workers must be a positive number, got '$workers'"
  command -v curl >/dev/null 2>&1 || die "curl not found (apt-get install curl, or run bash cmake/install-deps.sh)."
  command -v setsid >/dev/null 2>&1 || die "setsid not found (util-linux)."

  resolve_dir "$dir_arg"

  local pgid url
  if pgid="$(running_pgid)"; then
    url="$(cat "$dir/server.url" 2>/dev/null || true)"
    if [[ -n "$url" ]] && health_ok "$url"; then
      note "already running in $dir (pid $pgid)"
      printf '%s\n' "$url"
      return 0
    fi
    die "a server (pid $pgid) is running in $dir but does not answer /health; run: mlflow/server.sh stop --dir $dir"
  fi
  rm -f -- "$dir/server.pid" "$dir/server.url"

  local exe python
  exe="$(find_mlflow)"
  python="$(find_python "$exe")"
  if [[ -z "$backend" ]]; then
    backend="sqlite:///$dir/mlflow.db"
  elif [[ "$backend" =~ ^postgres ]]; then
    local reason
    reason="$(check_database_url "$python" "$backend" 2>&1)" || die "$reason"
    # The schema first, in one process: workers starting on an empty database would each try to
    # create it.
    MLFLOW_DISABLE_TELEMETRY=true "$exe" db upgrade "$backend" >"$dir/db-upgrade.log" 2>&1 ||
      { tail -n 20 "$dir/db-upgrade.log" >&2; die "mlflow db upgrade failed (see $dir/db-upgrade.log)"; }
  fi

  local timeout="${MLFLOW_CPP_SERVER_START_TIMEOUT:-180}"
  [[ "$timeout" =~ ^[0-9]+$ ]] || die "MLFLOW_CPP_SERVER_START_TIMEOUT must be whole seconds, got '$timeout'"
  local attempts=1
  [[ "$port" == 0 ]] && attempts=3 # a picked port can be taken before the server binds it
  local attempt p pid started elapsed
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    p="$port"
    # Checked even for an explicit port: otherwise /health could be answered by whatever
    # already listens there and a dead server would look ready.
    if [[ "$p" == 0 ]]; then
      p="$(bind_port "$python" "$host" 0)" || die "could not pick a free port on $host"
    else
      bind_port "$python" "$host" "$p" >/dev/null || die "port $p on $host is already in use"
    fi
    url="$(url_for "$host" "$p")"

    started="$(now_us)"
    (
      cd -- "$dir"
      export MLFLOW_DISABLE_TELEMETRY="${MLFLOW_DISABLE_TELEMETRY:-true}"
      export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"
      export PYTHONUNBUFFERED=1
      # A client-side tracking URI in the environment must not leak into the server.
      unset MLFLOW_TRACKING_URI
      exec setsid nohup "$exe" server \
        --host "$host" --port "$p" \
        --backend-store-uri "$backend" \
        --artifacts-destination "$dir/mlartifacts" \
        --serve-artifacts \
        --workers "$workers" \
        "${extra[@]}" \
        >"$dir/server.log" 2>&1 </dev/null
    ) &
    pid=$!
    # The subshell execs setsid, which (not being a group leader) calls setsid() and execs
    # mlflow in place: pid == session id == process group id.
    printf '%s' "$pid" >"$dir/server.pid"

    while :; do
      if health_ok "$url" && kill -0 "$pid" 2>/dev/null; then
        printf '%s' "$url" >"$dir/server.url.tmp" && mv -f -- "$dir/server.url.tmp" "$dir/server.url"
        elapsed=$(($(now_us) - started))
        note "MLflow server ready in $((elapsed / 1000000)).$((elapsed / 100000 % 10))s (pid $pid, dir $dir, log $dir/server.log)"
        printf '%s\n' "$url"
        return 0
      fi
      # uvicorn reports a taken port ("[Errno 98] ... address already in use") but the mlflow
      # CLI around it may take tens of seconds to exit (with status 0), so watch the log too.
      local bind_failed=0
      grep -qi 'address already in use' "$dir/server.log" 2>/dev/null && bind_failed=1
      if [[ "$bind_failed" == 1 ]] || ! kill -0 "$pid" 2>/dev/null; then
        # Stop whatever is left of the group (uvicorn, the CLI) before retrying or giving up.
        stop_group "$pid" 5 >/dev/null 2>&1 || true
        wait "$pid" 2>/dev/null || true
        rm -f -- "$dir/server.pid"
        if [[ "$bind_failed" == 1 ]] && ((attempt < attempts)); then
          note "port $p was taken before the server could bind it; retrying with another port"
          continue 2
        fi
        tail_log
        [[ "$bind_failed" == 1 ]] && die "port $p on $host is already in use (see $dir/server.log)"
        die "MLflow server exited during startup (see $dir/server.log)"
      fi
      if (($(now_us) - started > timeout * 1000000)); then
        tail_log
        stop_group "$pid" 5 >/dev/null 2>&1 || true
        rm -f -- "$dir/server.pid"
        die "MLflow server did not answer $url/health within ${timeout}s"
      fi
      sleep 0.2
    done
  done
}

# SIGTERM to process group $1, wait up to $2 s, then SIGKILL.
stop_group() {
  local group="$1" limit="${2:-20}" waited=0
  kill -TERM -- "-$group" 2>/dev/null || true
  while group_alive "$group"; do
    if ((waited >= limit * 5)); then
      note "process group $group still alive after ${limit}s; sending SIGKILL"
      kill -KILL -- "-$group" 2>/dev/null || true
      for ((waited = 0; waited < 25; waited++)); do
        group_alive "$group" || break
        sleep 0.2
      done
      break
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  ! group_alive "$group"
}

# Sets dir_arg from the only option stop and status take: --dir DIR (default: current directory).
parse_dir_only() {
  local cmd="$1"
  shift
  dir_arg="."
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dir) [[ $# -ge 2 ]] || die "--dir needs a value"; dir_arg="$2"; shift ;;
      --dir=*) dir_arg="${1#*=}" ;;
      -h | --help) usage; exit 0 ;;
      *) die "$cmd: unknown option '$1' (see --help)" ;;
    esac
    shift
  done
}

cmd_stop() {
  local dir_arg
  parse_dir_only stop "$@"
  [[ -d "$dir_arg" ]] || { note "not running (no directory $dir_arg)"; return 0; }
  dir="$(cd -- "$dir_arg" && pwd -P)"
  local pgid
  if pgid="$(running_pgid)"; then
    stop_group "$pgid" 20 || die "could not stop process group $pgid"
    note "stopped (pid $pgid)"
  else
    note "not running"
  fi
  rm -f -- "$dir/server.pid" "$dir/server.url" "$dir/server.url.tmp"
}

cmd_status() {
  local dir_arg
  parse_dir_only status "$@"
  [[ -d "$dir_arg" ]] || { echo "not running"; return 3; }
  dir="$(cd -- "$dir_arg" && pwd -P)"
  local pgid url
  if ! pgid="$(running_pgid)"; then
    echo "not running"
    return 3
  fi
  url="$(cat "$dir/server.url" 2>/dev/null || true)"
  if [[ -n "$url" ]] && health_ok "$url"; then
    echo "running $url (pid $pgid)"
    return 0
  fi
  echo "unhealthy: pid $pgid is alive but ${url:-<no server.url>}/health does not answer OK"
  return 1
}

dir=""
case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  -h | --help | help) usage ;;
  "") usage >&2; exit 2 ;;
  *) usage >&2; die "unknown command '$1'" ;;
esac

#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for a team-style tracking server on one machine (tests, benchmarks,
# trying it out), and a connection check for an existing database. Run `mlflow/postgres.sh --help`.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage:
  mlflow/postgres.sh start   --dir DIR [--port N|0]
  mlflow/postgres.sh stop    --dir DIR
  mlflow/postgres.sh restart --dir DIR
  mlflow/postgres.sh status  --dir DIR
  mlflow/postgres.sh remove  --dir DIR
  mlflow/postgres.sh createdb --dir DIR NAME
  mlflow/postgres.sh check   URL
  mlflow/postgres.sh --help

start    Creates a PostgreSQL cluster in DIR/pgdata (initdb, the first time), starts it on
         127.0.0.1 only, creates the database "mlflow" owned by the user "mlflow", writes
         DIR/postgres.url and prints the URL, e.g. postgresql://mlflow@127.0.0.1:54321/mlflow.
         Connections from 127.0.0.1 are trusted (no password): it is for one machine, not a
         shared database. If the cluster in DIR is already running, prints its URL.
stop     Stops it (fast shutdown: open connections are closed). Succeeds when not running.
restart  Stops and starts it on the same port (what a database failover looks like to the
         tracking server: every open connection breaks).
status   Prints "running URL (pid N)", N the postmaster's pid (exit 0), or "not running"
         (exit 3).
createdb Creates one more empty database NAME (letters, digits, _) owned by "mlflow" in the
         running cluster and prints its URL: a second, separate store on the same cluster.
remove   Stops it and deletes the cluster and DIR's files (the data directory too when it
         lives elsewhere). Succeeds when there is nothing.
check    Connects once to the database URL (postgresql://USER@HOST:PORT/DATABASE, as given to
         `mlflow/server.sh start --backend-store-uri`) and says why not, naming the URL with any
         password hidden. Exit 0 when it connects.

Then: mlflow/server.sh start --dir SERVERDIR --workers 4 --backend-store-uri "$(cat DIR/postgres.url)"

PostgreSQL refuses to run as root. Run as root, the cluster runs as the user "postgres" (created
by Debian's postgresql package); if DIR is not writable by that user (a build tree under /root,
say), the data lives in a private directory under ${TMPDIR:-/tmp} instead, named in
DIR/postgres.datadir (remove deletes it).

Files in DIR: pgdata/ (or postgres.datadir), postgres.log (the server's log; in the data
directory when that lives elsewhere), postgres.url.
Environment: MLFLOW_CPP_PG_BINDIR, PostgreSQL's bin directory (default: the newest
/usr/lib/postgresql/*/bin).
EOF
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
prog=mlflow/postgres.sh
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$script_dir/common.sh"

pg_bindir() {
  local d="${MLFLOW_CPP_PG_BINDIR:-}"
  if [[ -z "$d" ]]; then
    d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  fi
  [[ -x "$d/pg_ctl" && -x "$d/initdb" ]] ||
    die "PostgreSQL's server programs (initdb, pg_ctl) not found in ${d:-/usr/lib/postgresql/*/bin}: run \`bash cmake/install-deps.sh\` (Debian package postgresql) or set MLFLOW_CPP_PG_BINDIR."
  printf '%s' "$d"
}

# The user the cluster runs as: ourselves, or "postgres" when we are root.
run_user() {
  if [[ "$EUID" == 0 ]]; then
    id postgres >/dev/null 2>&1 ||
      die "running as root, and there is no user \"postgres\" to run PostgreSQL as (PostgreSQL refuses root). Install Debian's postgresql package (it creates the user) or run as another user."
    printf 'postgres'
  else
    id -un
  fi
}

# Runs a command as the cluster's user, in a directory that user can enter.
as_user() {
  if [[ "$EUID" == 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

resolve_dir() { # sets $dir to the absolute path of $1, creating it
  mkdir -p -- "$1" || die "cannot create directory $1"
  dir="$(cd -- "$1" && pwd -P)"
}

# Sets $data: DIR/pgdata, or the directory named in DIR/postgres.datadir. With $1 = create, picks
# one the cluster's user can write.
data_dir() {
  if [[ -r "$dir/postgres.datadir" ]]; then
    data="$(cat "$dir/postgres.datadir")"
    return 0
  fi
  data="$dir/pgdata"
  [[ "${1:-}" == create && ! -d "$data" ]] || return 0
  mkdir -p -- "$data"
  if [[ "$EUID" == 0 ]]; then
    chown postgres: "$data"
    if ! as_user test -w "$data"; then
      rmdir -- "$data"
      data="$(mktemp -d "${TMPDIR:-/tmp}/mlflow-cpp-pg.XXXXXX")"
      chown postgres: "$data"
      printf '%s' "$data" >"$dir/postgres.datadir"
    fi
  fi
  chmod 700 "$data"
}

# The server's log: in DIR, unless the data lives elsewhere because the cluster's user cannot
# reach DIR (then it could not write a log there either).
log_file() {
  if [[ -r "$dir/postgres.datadir" ]]; then printf '%s/postgres.log' "$data"; else printf '%s/postgres.log' "$dir"; fi
}

# For the commands on an existing DIR ($dir_arg): sets $dir, $bindir and $data.
open_dir() {
  dir="$(cd -- "$dir_arg" && pwd -P)"
  bindir="$(pg_bindir)"
  data_dir
}

running() { # true when the cluster in $data is up
  [[ -f "$data/PG_VERSION" ]] && as_user "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1
}

cluster_port() { sed -n 's/^port = \([0-9]*\).*/\1/p' "$data/postgresql.auto.conf" 2>/dev/null | tail -n1; }

url_of() { printf 'postgresql://mlflow@127.0.0.1:%s/mlflow' "$1"; }

tail_log() {
  local log
  log="$(log_file)"
  if [[ -s "$log" ]]; then
    note "last lines of $log:"
    tail -n 30 "$log" >&2 || true
  fi
}

start_cluster() {
  as_user "$bindir/pg_ctl" start -D "$data" -w -t 60 -l "$(log_file)" >/dev/null ||
    { tail_log; die "PostgreSQL did not start (see $(log_file))"; }
}

stop_cluster() { # fast shutdown: open connections are closed
  as_user "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null || die "could not stop PostgreSQL in $data"
}

parse_dir() { # $1 command, then its options; sets dir_arg
  local cmd="$1"
  shift
  dir_arg=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dir) [[ $# -ge 2 ]] || die "--dir needs a value"; dir_arg="$2"; shift ;;
      --dir=*) dir_arg="${1#*=}" ;;
      --port) [[ "$cmd" == start && $# -ge 2 ]] || die "$cmd: --port needs a value (start only)"; port="$2"; shift ;;
      --port=*) [[ "$cmd" == start ]] || die "$cmd takes no --port"; port="${1#*=}" ;;
      -h | --help) usage; exit 0 ;;
      *) die "$cmd: unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  [[ -n "$dir_arg" ]] || die "$cmd needs --dir DIR"
}

cmd_start() {
  local dir_arg port=0
  parse_dir start "$@"
  if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((10#$port > 65535)); then die "--port must be a number 0..65535, got '$port'"; fi
  port=$((10#$port))
  bindir="$(pg_bindir)"
  run_user >/dev/null
  resolve_dir "$dir_arg"
  data_dir create
  local python url
  python="$(find_python "$(find_mlflow)")"
  if running; then
    url="$(url_of "$(cluster_port)")"
    note "already running in $data"
    printf '%s' "$url" >"$dir/postgres.url"
    printf '%s\n' "$url"
    return 0
  fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    # initdb into a fresh directory only: a half-initialised one from an interrupted start is wiped.
    find "$data" -mindepth 1 -delete
    as_user "$bindir/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-host=trust --auth-local=peer >"$dir/initdb.log" 2>&1 ||
      { tail -n 20 "$dir/initdb.log" >&2; die "initdb failed (see $dir/initdb.log)"; }
  fi
  if [[ "$port" == 0 ]]; then
    port="$(cluster_port)"
    if [[ -z "$port" ]] || ! bind_port "$python" 127.0.0.1 "$port" >/dev/null 2>&1; then
      port="$(bind_port "$python" 127.0.0.1 0)" || die "could not pick a free port on 127.0.0.1"
    fi
  else
    bind_port "$python" 127.0.0.1 "$port" >/dev/null || die "port $port on 127.0.0.1 is already in use"
  fi
  # Settings kept in the cluster (postgresql.auto.conf), so restart and a later start reuse them.
  # No Unix socket: its path would depend on DIR, which may be longer than a socket path may be.
  cat >"$data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 200
CONF
  [[ "$EUID" == 0 ]] && chown postgres: "$data/postgresql.auto.conf"
  touch "$(log_file)"
  [[ "$EUID" == 0 ]] && chown postgres: "$(log_file)"
  start_cluster
  local psql=("$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
  if [[ "$(as_user "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'mlflow'")" != 1 ]]; then
    as_user "${psql[@]}" -c "CREATE ROLE mlflow LOGIN" >/dev/null
  fi
  if [[ "$(as_user "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'mlflow'")" != 1 ]]; then
    as_user "${psql[@]}" -c "CREATE DATABASE mlflow OWNER mlflow" >/dev/null
  fi
  url="$(url_of "$port")"
  printf '%s' "$url" >"$dir/postgres.url"
  note "PostgreSQL ready on 127.0.0.1:$port (data $data, log $(log_file))"
  printf '%s\n' "$url"
}

cmd_stop() {
  local dir_arg port
  parse_dir stop "$@"
  [[ -d "$dir_arg" ]] || { note "not running (no directory $dir_arg)"; return 0; }
  open_dir
  if running; then
    stop_cluster
    note "stopped"
  else
    note "not running"
  fi
}

cmd_restart() {
  local dir_arg port
  parse_dir restart "$@"
  [[ -d "$dir_arg" ]] || die "no cluster in $dir_arg (run start first)"
  open_dir
  [[ -f "$data/PG_VERSION" ]] || die "no cluster in $data (run start first)"
  running && stop_cluster
  start_cluster
  note "restarted on 127.0.0.1:$(cluster_port)"
}

cmd_createdb() {
  local dir_arg port name=""
  local args=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dir | --port) args+=("$1" "${2:-}"); shift ;;
      -*) args+=("$1") ;;
      *) [[ -z "$name" ]] || die "createdb takes one NAME"; name="$1" ;;
    esac
    shift
  done
  parse_dir createdb "${args[@]}"
  [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "createdb: NAME must be lower-case letters, digits and _ (at most 63), got '$name'"
  [[ -d "$dir_arg" ]] || die "no cluster in $dir_arg (run start first)"
  open_dir
  running || die "the cluster in $data is not running (run start first)"
  port="$(cluster_port)"
  as_user "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt \
    -c "CREATE DATABASE $name OWNER mlflow" >/dev/null || die "could not create database $name"
  printf 'postgresql://mlflow@127.0.0.1:%s/%s\n' "$port" "$name"
}

cmd_remove() {
  local dir_arg port
  parse_dir remove "$@"
  [[ -d "$dir_arg" ]] || return 0
  cmd_stop --dir "$dir_arg"
  data_dir
  [[ -d "$data" ]] && rm -rf -- "$data"
  rm -f -- "$dir/postgres.datadir" "$dir/postgres.url" "$dir/postgres.log" "$dir/initdb.log"
  rmdir -- "$dir" 2>/dev/null || true
}

cmd_status() {
  local dir_arg port
  parse_dir status "$@"
  [[ -d "$dir_arg" ]] || { echo "not running"; return 3; }
  open_dir
  if running; then
    # postmaster.pid's first line is the postmaster's pid.
    echo "running $(url_of "$(cluster_port)") (pid $(head -n 1 "$data/postmaster.pid"))"
  else
    echo "not running"
    return 3
  fi
}

cmd_check() {
  [[ $# == 1 && "$1" != -* ]] || die "usage: mlflow/postgres.sh check URL"
  local python reason
  python="$(find_python "$(find_mlflow)")"
  reason="$(check_database_url "$python" "$1" 2>&1)" || die "$reason"
  note "connected"
}

dir=""
data=""
bindir=""
case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  status) shift; cmd_status "$@" ;;
  remove) shift; cmd_remove "$@" ;;
  createdb) shift; cmd_createdb "$@" ;;
  check) shift; cmd_check "$@" ;;
  -h | --help | help) usage ;;
  "") usage >&2; exit 2 ;;
  *) usage >&2; die "unknown command '$1'" ;;
esac

# Shell functions shared by mlflow/server.sh and mlflow/postgres.sh (sourced, not run).
# The sourcing script sets $prog (its name in messages) and $script_dir (this directory).
# shellcheck shell=bash
: "${prog:?set by the sourcing script}" "${script_dir:?set by the sourcing script}"
repo_root="$(cd "$script_dir/.." && pwd -P)"

die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

now_us() { local t="${EPOCHREALTIME/[.,]/}"; printf '%s' "$((10#$t))"; }

find_mlflow() {
  if [[ -n "${MLFLOW_CPP_SERVER_EXE:-}" ]]; then
    [[ -x "$MLFLOW_CPP_SERVER_EXE" ]] || die "MLFLOW_CPP_SERVER_EXE=$MLFLOW_CPP_SERVER_EXE is not an executable file."
    printf '%s' "$MLFLOW_CPP_SERVER_EXE"
  elif [[ -x "$repo_root/mlflow/.venv/bin/mlflow" ]]; then
    printf '%s' "$repo_root/mlflow/.venv/bin/mlflow"
  elif command -v mlflow >/dev/null 2>&1; then
    command -v mlflow
  else
    die "no MLflow server found. Run \`bash cmake/install-deps.sh\` (creates mlflow/.venv with the pinned mlflow) or set MLFLOW_CPP_SERVER_EXE=/path/to/mlflow."
  fi
}

# Python for picking a free port: the one next to mlflow (its venv), else the system's.
find_python() {
  local exe_dir
  exe_dir="$(dirname "$1")"
  if [[ -x "$exe_dir/python" ]]; then printf '%s' "$exe_dir/python"
  elif [[ -x /usr/bin/python3 ]]; then printf '%s' /usr/bin/python3
  elif command -v python3 >/dev/null 2>&1; then command -v python3
  else die "python3 not found (needed to pick a free port; or pass --port N)."
  fi
}

# $1 python, $2 host, $3 port: binds host:port (0 = any free port) the way uvicorn does
# (SO_REUSEADDR) and prints the port; fails when the port is taken.
bind_port() {
  "$1" - "$2" "$3" <<'PY'
import socket, sys
host, port = sys.argv[1].strip("[]"), int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
with socket.socket(family, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError as e:
        sys.exit(f"cannot bind {host}:{port}: {e.strerror}")
    print(s.getsockname()[1])
PY
}

# $1 python (with psycopg), $2 database URL: connects once (5 s timeout) and exits 0, or prints why
# not, naming the URL with any password replaced by ***. SQLAlchemy's "+driver" suffix is dropped.
check_database_url() {
  "$1" - "$2" <<'PY'
import re, sys
url = sys.argv[1]
shown = re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)
if not re.match(r"postgres(ql)?(\+\w+)?://", url):
    sys.exit(f"{shown}: not a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)")
try:
    import psycopg
except ImportError:
    sys.exit("the PostgreSQL driver psycopg is missing from the server's Python: run "
             "`bash cmake/install-deps.sh` (mlflow/requirements.txt pins it)")
try:
    psycopg.connect(re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url), connect_timeout=5).close()
except psycopg.Error as e:
    reason = " ".join(str(e).split())
    sys.exit(f"cannot connect to the database {shown}: {reason} (check the host, port, user and "
             "database name, that the database accepts connections from this machine, and the "
             "password: PGPASSWORD or ~/.pgpass, kept out of the URL)")
PY
}

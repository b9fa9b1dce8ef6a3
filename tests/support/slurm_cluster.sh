#!/usr/bin/env bash
# Starts, stops and reports on a throwaway one-node Slurm cluster on this machine, for the Slurm
# sweep test and for trying sweeps/deploy/slurm_array.sh out. Run it with --help for usage.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage:
  tests/support/slurm_cluster.sh start  --dir DIR [--munge-key FILE] [--timeout S]
  tests/support/slurm_cluster.sh stop   --dir DIR
  tests/support/slurm_cluster.sh status --dir DIR
  tests/support/slurm_cluster.sh --help

A one-node Slurm cluster (Debian's slurm-wlm 22.05: slurmctld, slurmd and the
client tools) with its own munged, everything in DIR: for the Slurm sweep test
(tests/sweep/integration/slurm_sweep_test.py) and for trying
sweeps/deploy/slurm_array.sh on one machine. It never touches /etc/slurm,
/etc/munge or a munged or Slurm the system runs.

start   Writes DIR/slurm.conf (this host as controller and only node, its real
        CPUs and memory as `slurmd -C` reports them, one partition `debug`,
        ports picked free on 127.0.0.1), makes a munge key in DIR/munge/ unless
        --munge-key names one, starts munged, slurmctld and slurmd, and waits
        until `sinfo` shows the node idle. Prints `export SLURM_CONF=DIR/slurm.conf`:
        the client tools (sbatch, squeue, scancel, sinfo) need it. On failure it
        prints the end of the daemons' logs and stops what it started. If the
        cluster in DIR is already up, prints the line and succeeds.
stop    Cancels every job of the cluster, stops slurmd, slurmctld and munged
        (SIGTERM, SIGKILL after 10 s) and any job step daemon (slurmstepd) they
        left. Succeeds when nothing is running. Leaves DIR in place.
status  Prints "running SLURM_CONF=DIR/slurm.conf" (exit 0), "unhealthy: ..."
        (exit 1) or "not running" (exit 3).

Options:
  --dir DIR         the cluster's directory (required; created if missing):
                    slurm.conf, munge/ (key, socket, munged.log), state/, spool/,
                    log/ (slurmctld.log, slurmd.log)
  --munge-key FILE  use this munge key (it must exist, owned by root, mode 0600
                    or 0400) instead of making DIR/munge/munge.key
  --timeout S       seconds to wait for the node to become idle (default 60)

Requirements: root (slurmd starts jobs as their user, and munged, slurmctld
and slurmd here all run as root: SlurmUser=root, which Slurm allows; munge
0.5.15 runs as root without --force when the key and its directory are root's),
the packages slurm-wlm and munge (cmake/install-deps.sh installs them),
python3 to pick free ports, and a DIR whose folders others may search and not
write to (munged checks the path of its socket: /tmp is fine) and short enough
for a Unix socket path. No systemd and no cgroups are needed: processes are
tracked through /proc (ProctrackType=proctrack/linuxproc), tasks are not bound
to CPUs (TaskPlugin=task/none), there is no accounting database (sacct does not
work; squeue and scontrol show finished jobs for 5 minutes).
EOF
}

die() { printf 'slurm_cluster.sh: error: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'slurm_cluster.sh: error: %s\n' "$*" >&2; exit 2; }
note() { printf 'slurm_cluster.sh: %s\n' "$*" >&2; }

action=""
dir=""
munge_key=""
timeout=60
while [[ $# -gt 0 ]]; do
  case "$1" in
    start | stop | status) [[ -z "$action" ]] || usage_error "one action at a time"; action=$1 ;;
    --dir) [[ $# -ge 2 ]] || usage_error "--dir needs a value"; dir=$2; shift ;;
    --dir=*) dir=${1#--dir=} ;;
    --munge-key) [[ $# -ge 2 ]] || usage_error "--munge-key needs a value"; munge_key=$2; shift ;;
    --munge-key=*) munge_key=${1#--munge-key=} ;;
    --timeout) [[ $# -ge 2 ]] || usage_error "--timeout needs a value"; timeout=$2; shift ;;
    --timeout=*) timeout=${1#--timeout=} ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; usage_error "unknown argument: $1" ;;
  esac
  shift
done
[[ -n "$action" ]] || { usage >&2; usage_error "say start, stop or status"; }
[[ -n "$dir" ]] || usage_error "--dir DIR is required (the cluster's own directory)"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout must be a positive number of seconds, not '$timeout'"

if [[ ! -d "$dir" ]]; then
  [[ "$action" == start ]] || { [[ "$action" == status ]] && echo "not running" && exit 3; exit 0; }
  mkdir -p "$dir"
fi
dir="$(cd "$dir" && pwd -P)"
conf="$dir/slurm.conf"
socket="$dir/munge/munge.socket"
export SLURM_CONF="$conf"
# Every daemon started here carries this in its environment, and so do the slurmstepd processes
# slurmd forks: stop finds leftovers by it.
marker="MLFLOW_CPP_SLURM_CLUSTER=$dir"

# $1 pid file, $2 program name: prints the pid when that program runs under it.
live_pid() {
  local pid
  [[ -r "$1" ]] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$2" || return 1
  printf '%s' "$pid"
}

munge_ok() { munge -n -S "$socket" 2>/dev/null | unmunge -S "$socket" >/dev/null 2>&1; }
node_state() { sinfo -h -o '%T' 2>/dev/null | head -n1; }

# $1 pid, $2 name: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local i
  kill -TERM "$1" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    [[ -d "/proc/$1" ]] || return 0
    grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && return 0
    sleep 0.1
  done
  note "$2 (pid $1) ignored SIGTERM for 10 s; sending SIGKILL"
  kill -KILL "$1" 2>/dev/null || true
}

# Processes whose environment holds the marker (the daemons and the slurmstepd they forked).
marked_pids() {
  local env_file pid
  for env_file in /proc/[0-9]*/environ; do
    pid=${env_file#/proc/}
    pid=${pid%/environ}
    [[ "$pid" != "$$" ]] || continue
    tr '\0' '\n' 2>/dev/null <"$env_file" | grep -qxF "$marker" && printf '%s\n' "$pid"
  done
  return 0
}

do_status() {
  local down=()
  live_pid "$dir/munge/munged.pid" munged >/dev/null || down+=(munged)
  live_pid "$dir/slurmctld.pid" slurmctld >/dev/null || down+=(slurmctld)
  live_pid "$dir/slurmd.pid" slurmd >/dev/null || down+=(slurmd)
  if [[ ${#down[@]} -eq 3 ]]; then
    echo "not running"
    return 3
  fi
  if [[ ${#down[@]} -gt 0 ]]; then
    echo "unhealthy: not running: ${down[*]} (logs in $dir/log and $dir/munge)"
    return 1
  fi
  munge_ok || { echo "unhealthy: munged does not answer on $socket"; return 1; }
  local state
  state="$(node_state)"
  case "$state" in
    idle | mixed | allocated | completing) echo "running SLURM_CONF=$conf" ;;
    *) echo "unhealthy: node state '${state:-unknown}' (sinfo)"; return 1 ;;
  esac
}

do_stop() {
  local pid
  if live_pid "$dir/slurmctld.pid" slurmctld >/dev/null && munge_ok; then
    # Jobs first: slurmd does not end its job steps when it stops.
    scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      [[ -z "$(squeue -h -t running,completing,pending -o %i 2>/dev/null)" ]] && break
      sleep 0.1
    done
  fi
  pid="$(live_pid "$dir/slurmd.pid" slurmd)" && stop_pid "$pid" slurmd
  pid="$(live_pid "$dir/slurmctld.pid" slurmctld)" && stop_pid "$pid" slurmctld
  pid="$(live_pid "$dir/munge/munged.pid" munged)" && stop_pid "$pid" munged
  for pid in $(marked_pids); do
    note "stopping leftover $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) (pid $pid)"
    stop_pid "$pid" leftover
  done
  rm -f "$dir/slurmctld.pid" "$dir/slurmd.pid"
  return 0
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

log_tails() {
  local f
  for f in "$dir/munge/munged.log" "$dir/log/slurmctld.log" "$dir/log/slurmd.log" "$dir/log/daemons.out"; do
    [[ -s "$f" ]] || continue
    printf -- '--- last lines of %s ---\n' "$f" >&2
    tail -n 15 "$f" >&2
  done
}

fail_start() {
  printf 'slurm_cluster.sh: error: %s\n' "$*" >&2
  log_tails
  do_stop
  exit 1
}

write_conf() {
  local node_line host ctld_port slurmd_port
  # NodeName=HOST CPUs=.. Boards=.. SocketsPerBoard=.. CoresPerSocket=.. ThreadsPerCore=.. RealMemory=..
  node_line="$(slurmd -C | head -n1)"
  [[ "$node_line" == NodeName=* ]] || die "slurmd -C did not describe this node: '$node_line'"
  host="${node_line%% *}"
  host="${host#NodeName=}"
  ctld_port="$(free_port)"
  slurmd_port="$(free_port)"
  [[ "$slurmd_port" != "$ctld_port" ]] || slurmd_port="$(free_port)"
  cat >"$conf" <<EOF
# Written by tests/support/slurm_cluster.sh: a throwaway one-node cluster in $dir.
ClusterName=mlflowcpp
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No systemd, no cgroups: processes tracked through /proc, tasks not bound to CPUs.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
# Refuse at submission a job no node can run (more CPUs or memory than it has), as sites usually do,
# instead of queueing it forever.
EnforcePartLimits=ALL
# scancel: SIGTERM, then SIGKILL 10 s later (default 30 s).
KillWait=10
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

do_start() {
  local tool
  for tool in slurmctld slurmd sinfo sbatch munged mungekey munge python3; do
    command -v "$tool" >/dev/null 2>&1 ||
      die "$tool not found: install the Debian packages slurm-wlm and munge (bash cmake/install-deps.sh does)."
  done
  [[ "$(id -u)" == 0 ]] || die "must run as root: slurmd starts jobs as their user (run it with sudo)."
  # The longest Unix socket path is 107 bytes.
  [[ ${#socket} -le 100 ]] || die "--dir is too long for munge's socket path $socket (${#socket} bytes; at most 100): use a shorter DIR."
  local key="$dir/munge/munge.key"
  if [[ -n "$munge_key" ]]; then
    [[ -f "$munge_key" ]] ||
      usage_error "munge key $munge_key not found. Create one with \`mungekey --create --keyfile $munge_key\` (every node of a cluster needs the same key), or leave out --munge-key and start makes one in $dir/munge/."
    [[ -r "$munge_key" ]] || usage_error "munge key $munge_key is not readable."
    key="$(cd "$(dirname "$munge_key")" && pwd -P)/$(basename "$munge_key")"
  fi

  local d=$dir
  while [[ "$d" != / ]]; do
    [[ "$(stat -c %A "$d")" == ?????????[xt] ]] ||
      die "$d is not searchable by others (chmod o+x $d): munged requires that of every folder above its socket $socket."
    d="$(dirname "$d")"
  done

  if do_status >/dev/null; then
    echo "export SLURM_CONF=$conf"
    return 0
  fi
  do_stop  # whatever half of an earlier cluster is left
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  # munged refuses a socket directory that others cannot search, and a key others can read.
  chmod 0755 "$dir/munge"
  if [[ -z "$munge_key" && ! -f "$key" ]]; then
    mungekey --create --keyfile "$key" || die "mungekey could not create $key"
  fi
  : >"$dir/log/daemons.out"
  rm -f "$dir/munge/munged.log"

  # Each daemon forks into the background; their own output goes to daemons.out.
  env "$marker" munged --socket "$socket" --key-file "$key" --log-file "$dir/munge/munged.log" \
    --pid-file "$dir/munge/munged.pid" --seed-file "$dir/munge/munged.seed" \
    </dev/null >>"$dir/log/daemons.out" 2>&1 || fail_start "munged did not start (key $key, socket $socket)."
  munge_ok || fail_start "munged started but does not answer on $socket."

  write_conf
  env "$marker" slurmctld -f "$conf" </dev/null >>"$dir/log/daemons.out" 2>&1 ||
    fail_start "slurmctld did not start."
  env "$marker" slurmd -f "$conf" </dev/null >>"$dir/log/daemons.out" 2>&1 ||
    fail_start "slurmd did not start."

  local deadline=$((SECONDS + timeout)) state=""
  while ((SECONDS < deadline)); do
    state="$(node_state)"
    [[ "$state" == idle ]] && break
    live_pid "$dir/slurmctld.pid" slurmctld >/dev/null || fail_start "slurmctld exited."
    live_pid "$dir/slurmd.pid" slurmd >/dev/null || fail_start "slurmd exited."
    sleep 0.5
  done
  [[ "$state" == idle ]] ||
    fail_start "the node did not become idle within ${timeout}s (sinfo says '${state:-nothing}')."
  note "one-node Slurm cluster up in $dir ($(sinfo -h -o '%N, %c CPUs, partition %P')); logs in $dir/log"
  echo "export SLURM_CONF=$conf"
}

case "$action" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
esac

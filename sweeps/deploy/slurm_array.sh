#!/usr/bin/env bash
# One shard of a sweep per Slurm array task. Each task runs one trial at a time on its own CPUs.
# sweep_runner reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN itself,
# so task K of an N-task array runs trials i with i % N == K. No --shard or --shards flag is needed.
#
# Usage (from the repository root; the job runs in the directory you submit from):
#   export MLFLOW_TRACKING_URI=https://mlflow.example.org   # required: one server all nodes reach
#   export MLFLOW_TRACKING_USERNAME=... MLFLOW_TRACKING_PASSWORD=...   # if the server needs them
#   sbatch --array=0-3 sweeps/deploy/slurm_array.sh sweeps/batch_size.yaml
# sbatch passes your environment on (--export=ALL by default). Arguments after the spec go to
# sweep_runner, e.g. `... sweeps/batch_size.yaml --stale-after 120`.
#
# Or run this file with bash, and it submits itself: sbatch options, then --, then the spec and
# sweep_runner's flags. It first checks what the tasks will need on this host (MLFLOW_TRACKING_URI,
# the spec, sweep_runner on PATH, munged answering), and when sbatch refuses the job it prints
# sbatch's message and what to do. On success it prints the job id.
#   bash sweeps/deploy/slurm_array.sh --array=0-3 -- sweeps/batch_size.yaml
# The sweep itself is created by sweep_runner in the tasks: a job that is refused, or cancelled
# before it starts, leaves nothing in MLflow.
#
# - Array size: with more tasks than trials, the extra tasks find nothing to run and exit. With
#   fewer, each task runs its trials one after another.
# - Dependencies (e.g. batch_size needs fmnist-backbone@pretrained from pretrain_backbone.yaml) are
#   sharded the same way. Task 0 runs the one pretraining trial and the others wait for it, so give
#   the whole array enough --time for the chain.
# - To resume (after failures, a time limit or scancel), submit the same full array again. Finished
#   trials are skipped. Resubmitting only some tasks, e.g. --array=2, renumbers the shards: task 2
#   of a one-task array is shard 0/1 (it runs every unfinished trial). To rerun exactly shard 2 of
#   4, give the shard count (the task id is then the shard as is):
#   `sbatch --array=2 sweeps/deploy/slurm_array.sh SPEC --shards 4`.
# - Use a contiguous range (0-3 or 1-4). Steps (0-6:2) and lists (1,3,5) do not map to shards.
#
#SBATCH --job-name=sweep
#SBATCH --array=0-3
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=sweep-%A_%a.out
# Before the time limit, send SIGINT to sweep_runner (the batch shell, see exec below) 5 minutes
# early. It stops its trials (they end KILLED, with a 60 s grace) and exits 130. Resubmit to resume.
#SBATCH --signal=B:INT@300

set -euo pipefail

me="slurm_array.sh"
die() { printf '%s: error: %s\n' "$me" "$*" >&2; exit 2; }
usage="usage: sbatch --array=0-3 sweeps/deploy/slurm_array.sh SPEC [sweep_runner flags...]
   or: bash sweeps/deploy/slurm_array.sh [sbatch options...] -- SPEC [sweep_runner flags...]"

tracking_uri_check() {
  # Where runs go. Without it, each task would start its own local server over ./mlflow.db.
  [[ -n "${MLFLOW_TRACKING_URI:-}" ]] ||
    die "set MLFLOW_TRACKING_URI to the MLflow server shared by all tasks (export it before submitting)"
}

# Outside a job: check, then submit this file with sbatch.
submit() {
  local sbatch_opts=()
  while [[ $# -gt 0 && "$1" != -- ]]; do
    sbatch_opts+=("$1")
    shift
  done
  if [[ $# -eq 0 ]]; then
    # No --: every argument is the spec and sweep_runner's flags.
    set -- "${sbatch_opts[@]}"
    sbatch_opts=()
    [[ $# -ge 1 ]] || die "no spec given
$usage"
    [[ "$1" != -* ]] || die "'$1' is not a spec: put sbatch options before -- and the spec after it
$usage"
  else
    shift
    [[ $# -ge 1 ]] || die "no spec after --
$usage"
  fi
  local spec=$1
  shift

  tracking_uri_check
  [[ -f "$spec" ]] || die "spec $spec not found (the tasks run in the directory you submit from: $PWD)"
  command -v sweep_runner >/dev/null 2>&1 ||
    die "sweep_runner is not on PATH. The tasks get your environment: add its folder to PATH (e.g. export PATH=/opt/mlflow-cpp/bin:\$PATH) and submit again."
  command -v sbatch >/dev/null 2>&1 || die "sbatch not found: this host is not a Slurm submit host"
  munge_check

  local err out rc=0
  err="$(mktemp)"
  out="$(sbatch --parsable "${sbatch_opts[@]}" "${BASH_SOURCE[0]}" "$spec" "$@" 2>"$err")" || rc=$?
  if [[ $rc -ne 0 ]]; then
    printf '%s: error: sbatch refused the job (exit %d); nothing was submitted and nothing was created in MLflow:\n' \
      "$me" "$rc" >&2
    sed 's/^/  /' "$err" >&2
    printf '%s: what to do: %s\n' "$me" "$(refusal_hint "$(cat "$err")")" >&2
    rm -f "$err"
    exit "$rc"
  fi
  cat "$err" >&2
  rm -f "$err"
  local job=${out%%;*}
  echo "$me: submitted array job $job for $spec; follow it with: squeue -j $job" >&2
  printf '%s\n' "$job"
}

# The munge socket of the cluster sbatch talks to (AuthInfo=socket=... in slurm.conf), when it
# authenticates with munge (the default).
munge_socket() {
  local conf=${SLURM_CONF:-/etc/slurm/slurm.conf} auth_type="" auth_info=""
  if [[ -r "$conf" ]]; then
    auth_type="$(sed -nE 's/^[[:space:]]*AuthType[[:space:]]*=[[:space:]]*([^[:space:]#]+).*/\1/Ip' "$conf" | tail -n1)"
    auth_info="$(sed -nE 's/^[[:space:]]*AuthInfo[[:space:]]*=[[:space:]]*([^[:space:]#]+).*/\1/Ip' "$conf" | tail -n1)"
  fi
  [[ -z "$auth_type" || "$auth_type" == auth/munge ]] || return 1
  local socket=/run/munge/munge.socket.2 item items
  IFS=, read -ra items <<<"$auth_info"
  for item in "${items[@]}"; do
    [[ "$item" == socket=* ]] && socket=${item#socket=}
  done
  printf '%s' "$socket"
}

munge_check() {
  local socket msg
  socket="$(munge_socket)" || return 0
  command -v munge >/dev/null 2>&1 || return 0  # sbatch will say what is wrong
  msg="$(munge -n -S "$socket" 2>&1 >/dev/null)" && return 0
  local key_note=""
  [[ -e /etc/munge/munge.key ]] || key_note=" /etc/munge/munge.key, the key munged reads by default, does not exist here."
  die "munged does not answer on $socket, so Slurm cannot authenticate the job (munge: ${msg#munge: }).
  Start munged on this host with the cluster's key (the same file on every node; \`mungekey --create\` makes a new one): \`systemctl start munge\` or, as root, \`munged\`.$key_note
  For the test cluster of tests/support/slurm_cluster.sh: bash tests/support/slurm_cluster.sh start --dir DIR."
}

# $1 sbatch's message: what to do about it.
refusal_hint() {
  case "$1" in
    *"Invalid partition"*) echo "name a partition that exists (\`sinfo -s\` lists them) or leave out --partition for the default one." ;;
    *"node configuration is not available"* | *"More processors requested"* | *"Memory specification"*)
      echo "ask for what a node has: this file asks for --cpus-per-task=4 and --mem=8G per task; override them on the command line (\`sinfo -o '%P %c %m'\` shows CPUs and MB per node)." ;;
    *[Mm]unge* | *"authentication"*) echo "munged must run on this host and the controller's, with the same key: see \`munge -n | unmunge\`." ;;
    *"Unable to contact slurm controller"*)
      echo "slurmctld is not reachable: check \`scontrol ping\` and SLURM_CONF (now ${SLURM_CONF:-unset, /etc/slurm/slurm.conf})." ;;
    *"array"*) echo "give --array a contiguous range such as 0-3 within the cluster's MaxArraySize." ;;
    *"time limit"*) echo "ask for a --time within the partition's limit (\`sinfo -o '%P %l'\`)." ;;
    *"account"* | *"QOS"* | *"qos"*) echo "use an account and QOS you may submit to (\`sacctmgr show assoc user=\$USER\`), or ask your administrators." ;;
    *) echo "check the sbatch options you gave against \`man sbatch\` and \`sinfo\`, then submit again." ;;
  esac
}

if [[ -z "${SLURM_JOB_ID:-}" ]]; then
  submit "$@"
  exit 0
fi

# In a task.
if [[ $# -lt 1 ]]; then
  echo "$usage" >&2
  exit 2
fi
spec=$1
shift

tracking_uri_check
: "${SLURM_ARRAY_TASK_ID:?not an array task: submit with sbatch --array=0-3 ...}"

# sweep_runner must be on PATH. fmnist_train must be next to it, or named by
# MLFLOW_CPP_FMNIST_TRAIN; sweep_runner does not look for it on PATH. The data is read from
# $MLFLOW_CPP_FMNIST_DIR, else from /usr/share/datasets/fashion-mnist.
# export PATH=/opt/mlflow-cpp/bin:$PATH
command -v sweep_runner >/dev/null 2>&1 ||
  die "sweep_runner is not on PATH on $(hostname) (PATH=$PATH): add its folder to PATH before submitting"

# --cores: the task's CPUs. sweep_runner also reads its CPU affinity, which Slurm sets when it binds
# tasks to cores; the flag keeps it right when it does not.
# exec: sweep_runner replaces this shell, so it receives the --signal above.
exec sweep_runner --cores "${SLURM_CPUS_PER_TASK:-1}" "$spec" "$@"

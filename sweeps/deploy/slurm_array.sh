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

if [[ $# -lt 1 ]]; then
  echo "usage: sbatch --array=0-3 sweeps/deploy/slurm_array.sh SPEC [sweep_runner flags...]" >&2
  exit 2
fi
spec=$1
shift

# Where runs go. Without it, each task would start its own local server over ./mlflow.db.
# export MLFLOW_TRACKING_URI=https://mlflow.example.org
: "${MLFLOW_TRACKING_URI:?set MLFLOW_TRACKING_URI to the MLflow server shared by all tasks}"
: "${SLURM_ARRAY_TASK_ID:?not an array task: submit with sbatch --array=0-3 ...}"

# sweep_runner must be on PATH. fmnist_train must be next to it, or named by
# MLFLOW_CPP_FMNIST_TRAIN; sweep_runner does not look for it on PATH. The data is read from
# $MLFLOW_CPP_FMNIST_DIR, else from /usr/share/datasets/fashion-mnist.
# export PATH=/opt/mlflow-cpp/bin:$PATH

# --cores: the task's CPUs. sweep_runner also reads its CPU affinity, which Slurm sets when it binds
# tasks to cores; the flag keeps it right when it does not.
# exec: sweep_runner replaces this shell, so it receives the --signal above.
exec sweep_runner --cores "${SLURM_CPUS_PER_TASK:-1}" "$spec" "$@"

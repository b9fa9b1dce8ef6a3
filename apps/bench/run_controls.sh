#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The controls of the frozen-backbone experiment, each a tracked fmnist_train run on the same split and test
# set, and one table of their test accuracies (issue: "a frozen backbone that transfers"). See --help.
set -euo pipefail

usage() {
  cat <<'EOF2'
Usage: bash apps/bench/run_controls.sh [--build DIR] [--only LIST] [--finetune-epochs N] [--out FILE]

Runs in the current directory's tracking store (MLFLOW_TRACKING_URI, else local mode ./mlflow.db),
experiment fashion-mnist-controls, every run with batch size 64 (but o's SimCLR), Adam 1e-3, seed 42,
split_seed 42, 2 threads:
  a   logistic regression on raw pixels           (model pixels, head linear, 15 epochs)
  a2  the frozen runs' head on raw pixels          (model pixels, head mlp, 15 epochs)
  b   that head on a random, frozen MobileNetV2    (width 0.5, layout small, 15 epochs)
  c   that head on today's rotation backbone       (rotation pretraining as sweeps/pretrain_backbone.yaml
                                                    had it: paper layout, width 1, 12k images, 2 epochs)
  d   that head on the shipped SimCLR backbone     (sweeps/backbones/fmnist-backbone-simclr, 15 epochs)
  e   MobileNetV2 fine-tuned from the SimCLR backbone  (--finetune-epochs, default 15; random crop and
                                                        flip, cosine learning rate)
  e2  MobileNetV2 fine-tuned from random weights       (the same recipe)
  f   SmallCNN                                     (15 epochs)
  o   the pretraining objectives at the same budget: SimCLR and rotation prediction on the same network,
      48,000 training passes each, then the same frozen linear head on each backbone
and prints (and with --out writes) a Markdown table: control, test accuracy, run id, wall time.
--only takes a comma-separated subset, e.g. --only a,a2,b,d.
EOF2
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$script_dir/../.." && pwd -P)"
build="$repo/build"
only="a,a2,b,c,d,e,e2,f"
finetune_epochs=15
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$(cd "${2:?--build needs a directory}" && pwd -P)"; shift ;;
    --only) only="${2:?--only needs a list}"; shift ;;
    --finetune-epochs) finetune_epochs="${2:?--finetune-epochs needs a number}"; shift ;;
    --out) out="${2:?--out needs a file}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "run_controls.sh: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
train="$build/apps/fmnist_train/fmnist_train"
[[ -x "$train" ]] || { echo "run_controls.sh: $train is not built (bash cmake/run.sh build)" >&2; exit 2; }
[[ "$finetune_epochs" =~ ^[1-9][0-9]*$ ]] || { echo "run_controls.sh: --finetune-epochs must be a positive number" >&2; exit 2; }

experiment=fashion-mnist-controls
common=(--experiment "$experiment" --learning_rate 1e-3 --optimizer adam --seed 42 --split_seed 42 --threads 2)
batch=64  # every control's batch size but the objective comparison's pretraining
mnv2=(--model mobilenet_v2 --width_multiplier 0.5 --layout small)
# Fine-tuning trains 2.2M weights on 48k images: without augmentation it overfits within a few epochs.
finetune=(--augmentation true --lr_schedule cosine)
rows=()

# Runs one control: NAME, DESCRIPTION, then fmnist_train's arguments. Its last line has the test accuracy.
control() {
  local name="$1" what="$2"
  shift 2
  [[ ",$only,import," == *",${name%%-*},"* ]] || return 0  # c-pretrain belongs to c
  echo "== $name: $what" >&2
  local start log run acc
  start=$(date +%s)
  log="$(mktemp)"
  "$train" "${common[@]}" --batch_size "$batch" --run-name "control-$name" "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
  run="$(sed -n 's/^run \([0-9a-f]\{32\}\) .*/\1/p' "$log" | tail -n 1)"
  acc="$(sed -n 's/^test accuracy \([0-9.]*%\).*/\1/p' "$log" | tail -n 1)"
  rm -f "$log"
  rows+=("| $name | $what | $acc | \`$run\` | $(( $(date +%s) - start )) s |")
  echo "   test accuracy $acc (run $run)" >&2
}

backbone_uri="models:/fmnist-backbone@pretrained"
if [[ ",$only," == *",d,"* || ",$only," == *",e,"* ]]; then
  # The shipped backbone, registered as the sweeps do it (its linear probe measured again here).
  control import "the shipped SimCLR backbone, registered (its linear probe)" --task simclr "${mnv2[@]}" \
    --initial_weights "$repo/sweeps/backbones/fmnist-backbone-simclr" --max_epochs 0 \
    --register fmnist-backbone --alias pretrained
fi
control a "logistic regression on raw pixels" --model pixels --head linear --max_epochs 15
control a2 "the frozen runs' head (MLP) on raw pixels" --model pixels --max_epochs 15
control b "the head on a random frozen MobileNetV2" "${mnv2[@]}" --frozen_backbone true --max_epochs 15
if [[ ",$only," == *",c,"* ]]; then
  control c-pretrain "rotation pretraining (old recipe)" --task rotation --model mobilenet_v2 --layout imagenet \
    --train_limit 12000 --max_epochs 2 --register fmnist-backbone-rotation --alias pretrained
  control c "the head on the rotation backbone (old layout)" --model mobilenet_v2 --layout imagenet \
    --frozen_backbone true --backbone_weights models:/fmnist-backbone-rotation@pretrained --max_epochs 15
fi
control d "the head on the shipped SimCLR backbone, frozen" "${mnv2[@]}" --frozen_backbone true \
  --backbone_weights "$backbone_uri" --max_epochs 15
control e "MobileNetV2 fine-tuned from the SimCLR backbone" "${mnv2[@]}" "${finetune[@]}" \
  --backbone_weights "$backbone_uri" --max_epochs "$finetune_epochs"
control e2 "MobileNetV2 fine-tuned from random weights" "${mnv2[@]}" "${finetune[@]}" --max_epochs "$finetune_epochs"
control f "SmallCNN" --model small_cnn --max_epochs 15
if [[ ",$only," == *",o,"* ]]; then
  # The objectives at the same budget on the same network (width 0.5, layout small): 48,000 forward and
  # backward passes each, 256 views a step (SimCLR: 12,000 images x 2 views, batch 128; rotation: 6,000
  # images x 4 rotations, batch 64), 2 epochs; then the same frozen linear head on each.
  batch=128
  control o-simclr "SimCLR, 12k images x 2 views, 2 epochs" --task simclr "${mnv2[@]}" --temperature 0.2 \
    --train_limit 12000 --max_epochs 2 --register fmnist-backbone-o-simclr --alias pretrained
  batch=64
  control o-rotation "rotation, 6k images x 4 rotations, 2 epochs" --task rotation "${mnv2[@]}" \
    --train_limit 6000 --max_epochs 2 --register fmnist-backbone-o-rotation --alias pretrained
  for objective in simclr rotation; do
    control "o-$objective-head" "linear head on the frozen $objective backbone" "${mnv2[@]}" --head linear \
      --frozen_backbone true --backbone_weights "models:/fmnist-backbone-o-$objective@pretrained" --max_epochs 15
  done
fi

table="| control | what | test accuracy | run | wall |
|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")"
echo "$table"
[[ -z "$out" ]] || printf '%s\n' "$table" >"$out"

// SPDX-License-Identifier: Apache-2.0
// A trained model as a directory that can be shipped (e.g. in a repository) and trained on or
// registered later: the weights, their sha256, the model config, the settings and the per-epoch
// history that made it. LibTorch-free.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mlflow/status.h"
#include "mlflow/training/training_logger.h"

namespace mlflow::libtorch {

/// What checkpoint.json records beside model.pt.
struct CheckpointInfo {
  std::string dir;                ///< the checkpoint directory
  std::string weights_path;       ///< dir/model.pt
  std::string weights_sha256;     ///< of model.pt, checked by read_checkpoint()
  std::string model_config_json;  ///< ModelConfig::to_json()
  std::vector<std::pair<std::string, std::string>> settings;  ///< the training run's params
  std::vector<training::EpochMetrics> history;                ///< every epoch, in order
  std::int64_t best_epoch = 0;                                ///< the epoch whose weights these are
  double linear_probe_val_accuracy = -1;                      ///< -1 when not measured
  double linear_probe_test_accuracy = -1;                     ///< -1 when not measured
  std::string source;  ///< where it was made: the MLflow run id, the tracking server, the date
  std::string recipe;  ///< the command that makes it again
};

/// Writes `info` and a copy of `weights_path` into `dir` (replacing what is there): everything goes
/// into a sibling temporary directory first, which is then renamed, so `dir` is never half-written.
/// Fills in weights_sha256. kInternal naming the path on failure.
Status save_checkpoint(const std::string& dir, const std::string& weights_path,
                       CheckpointInfo info);

/// Reads dir/checkpoint.json and checks that dir/model.pt has the recorded sha256. kNotFound when
/// the directory or a file is missing, kInvalidArgument (naming the file and the field) when the
/// JSON is bad, kDataLoss when the weights do not match their sha256.
StatusOr<CheckpointInfo> read_checkpoint(const std::string& dir);

}  // namespace mlflow::libtorch

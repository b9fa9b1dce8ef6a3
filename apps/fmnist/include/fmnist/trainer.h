// SPDX-License-Identifier: Apache-2.0
// The Fashion-MNIST training loop, untracked: epochs, validation, early stopping, the
// frozen-backbone feature cache, rotation pretraining and test evaluation. LibTorch-free interface;
// tracked_training.h adds MLflow.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fmnist/train_config.h"
#include "mlflow/status.h"
#include "mlflow/training/training_logger.h"

namespace mlflow::fmnist {

struct FmnistSplits;
class FeatureCache;

/// Callbacks during training; every member may be empty. Called on the training thread.
struct TrainCallbacks {
  /// After each batch: epoch, images done and total in this epoch, running mean loss, seconds since
  /// epoch start.
  std::function<void(std::int64_t epoch, std::int64_t done, std::int64_t total, double loss,
                     double seconds)>
      on_batch;
  /// After each epoch; returning a non-ok Status stops training with that error.
  std::function<Status(const training::EpochMetrics&)> on_epoch;
  /// Polled between batches; returning true stops training (Cancelled) - e.g. after Ctrl-C.
  std::function<bool()> cancelled;
};

/// Predictions and loss on one split.
struct Evaluation {
  std::vector<std::int64_t> predictions;
  std::vector<std::int64_t> labels;
  double loss = 0;
  double accuracy = 0;
};

/// The outcome of train_fmnist().
struct TrainOutcome {
  std::vector<training::EpochMetrics> history;
  std::int64_t best_epoch =
      0;  ///< by validation accuracy (earliest among equals); its weights are kept
  bool stopped_early = false;
  double feature_cache_seconds =
      0;  ///< time to compute (or read) the frozen backbone's features (0: not cached)
  bool feature_cache_hit = false;  ///< the features came from the on-disk FeatureCache
  Evaluation test;  ///< the best epoch's model on the test split (simclr: the linear probe's)
  double linear_probe_val_accuracy =
      -1;                    ///< simclr: the linear probe's validation accuracy (else -1)
  std::string weights_path;  ///< the best epoch's weights (save_weights archive) in the work dir
  std::string architecture;  ///< the model's architecture name
  std::string model_config_json;  ///< ModelConfig::to_json() of the trained model
  std::vector<std::string>
      class_names;  ///< of the task: Fashion-MNIST classes or the four rotations
  std::int64_t parameters = 0, trainable_parameters = 0;
  std::string backbone_source;  ///< where the backbone weights came from (empty: random init)
};

/// A saved whole model: its ModelConfig::to_json() and its save_weights() archive.
struct SavedModel {
  std::string model_config_json;
  std::string weights_path;
};

/// Resolves `backbone_weights` given as a model URI (runs:/, models:/) to a local saved model;
/// supplied by the tracked layer, which knows the MLflow client. A plain path is read as a
/// save_backbone() archive.
using BackboneResolver = std::function<StatusOr<SavedModel>(const std::string& uri)>;

/// Trains on `data` as `config` says and evaluates the best epoch on the test split. Pretraining by
/// simclr ends with a linear probe: a logistic regression on the backbone's frozen features of the
/// training split, scored on the validation and test splits. Writes the best weights to
/// `work_dir`/model.pt. Errors: kInvalidArgument (config, backbone), kCancelled, kInternal
/// (LibTorch failures, with LibTorch's first message line). Not thread-safe: sets LibTorch's global
/// seed and thread count. With `cache`, a frozen backbone's features are looked up there first (see
/// feature_cache.h).
StatusOr<TrainOutcome> train_fmnist(const TrainConfig& config, const FmnistSplits& data,
                                    const std::string& work_dir,
                                    const TrainCallbacks& callbacks = {},
                                    const BackboneResolver& resolver = {},
                                    FeatureCache* cache = nullptr);

/// Rotation task class names, by label: "rot0", "rot90", "rot180", "rot270".
const std::vector<std::string>& rotation_class_names();

/// Evaluates a saved model on the test split (rotated copies when it has four outputs, i.e. a
/// rotation model). `limit` > 0 takes only the first images. kInvalidArgument when the weights do
/// not fit the config.
StatusOr<Evaluation> evaluate_saved_model(const SavedModel& model, const FmnistSplits& data,
                                          int threads, std::int64_t limit = 0);

/// Class probabilities of `n` images by a saved model, as the model server computes them:
/// `images` holds n x 784 floats in the training scale (pixel / 255), normalised here with
/// kFmnistPixelMean / kFmnistPixelStd; returns n x classes softmax probabilities. kInvalidArgument
/// when the weights do not fit the config; kInternal for LibTorch failures. Sets LibTorch's thread
/// count (`threads`, 0 = all cores).
StatusOr<std::vector<float>> predict_saved_model(const SavedModel& model, const float* images,
                                                 std::int64_t n, int threads);

}  // namespace mlflow::fmnist

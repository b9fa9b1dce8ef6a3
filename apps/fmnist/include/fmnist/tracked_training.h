// SPDX-License-Identifier: Apache-2.0
// A Fashion-MNIST training run recorded completely in MLflow: params, dataset inputs, per-epoch
// metrics, test evaluation, pictures, logs and the model. What fmnist_train does, as a library
// call.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include "fmnist/trainer.h"
#include "mlflow/libtorch/model_store.h"
#include "mlflow/run.h"
#include "mlflow/training/classification_report.h"
#include "mlflow/training/progress.h"

namespace mlflow::fmnist {

struct TrackedTrainingOptions {
  training::ProgressOptions progress;  ///< how the per-epoch progress is shown on `out`
  std::FILE* out = stderr;             ///< progress and epoch lines
  std::string
      register_model_name;     ///< when not empty, register the logged model under this name...
  std::string register_alias;  ///< ...and point this alias at the new version (when not empty)
  std::function<bool()> cancelled;  ///< polled between batches (Ctrl-C)
  /// Frozen backbone features are kept here across runs (FeatureCache); empty: computed in each
  /// run.
  std::string feature_cache_dir;
  /// When not empty, the trained model is also written there as a checkpoint (checkpoint.h) that
  /// records `recipe`, the command that made it.
  std::string save_checkpoint_dir;
  std::string recipe;
};

struct TrackedTrainingResult {
  TrainOutcome outcome;
  training::ClassificationReport report;  ///< of the test split
  training::LoggedModelRef model;
  training::ModelVersionRef version;  ///< empty when not registered
};

/// Runs train_fmnist() inside `run`: logs every setting plus LibTorch version, device, build type
/// and git commit as params; the three dataset inputs; per-epoch metrics (step = epoch); at the end
/// test_loss, test_accuracy, macro_f1, per-class precision/recall/F1, best_epoch; artifacts
/// confusion_matrix.json/.png, curves.png, metrics.json, train.log, class_names.json; and the best
/// epoch's model as an MLflow logged model "model" linked to the run (registered when asked),
/// holding, for the classify task, drift_reference.json: the model's drift reference on the
/// validation split (drift_calibration.h; one more pass over the validation split). Does
/// not end the run. Errors of each step, with what failed in front. Backbone URIs (runs:/,
/// models:/) are fetched through the run's client.
StatusOr<TrackedTrainingResult> run_tracked_training(const TrainConfig& config,
                                                     const FmnistSplits& data,
                                                     const std::string& data_dir, ActiveRun& run,
                                                     const TrackedTrainingOptions& options = {});

/// A BackboneResolver that fetches model URIs with fetch_model() into a private directory under
/// `scratch_dir`.
BackboneResolver model_uri_resolver(MlflowClient& client, const std::string& scratch_dir);

}  // namespace mlflow::fmnist

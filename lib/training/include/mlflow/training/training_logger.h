// SPDX-License-Identifier: Apache-2.0
// TrainingLogger: params, epoch metrics, learning curves and final evaluation of a training run.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mlflow/async_logger.h"
#include "mlflow/client.h"
#include "mlflow/run.h"
#include "mlflow/status.h"
#include "mlflow/training/classification_report.h"

namespace mlflow::training {

/// What one epoch of training measured.
struct EpochMetrics {
  std::int64_t epoch = 0;        ///< 1-based; the step of every metric of the epoch
  double train_loss = 0;         ///< mean loss over the epoch's training batches
  double train_accuracy = 0;     ///< fraction in [0, 1]
  double val_loss = 0;           ///< mean loss on the validation split
  double val_accuracy = 0;       ///< fraction in [0, 1]
  double learning_rate = 0;      ///< the optimizer's learning rate during the epoch
  double epoch_seconds = 0;      ///< wall-clock time of the epoch
  double images_per_second = 0;  ///< training throughput of the epoch
};

/// Logs a classifier's training in MLflow's usual shape: params, one step per epoch, curves.png,
/// the test evaluation (per-class metrics, confusion matrix) and metrics.json. Works for any
/// trainer (no LibTorch), over a synchronous ActiveRun or an AsyncRun. Artifacts are written into a
/// private temporary directory under $TMPDIR and removed after upload.
///
/// Errors: the failed call's Status (kInvalidArgument for keys MLflow rejects, server and transport
/// errors as the client returns them); what was logged before stays logged.
/// Thread-safety: not thread-safe; use one logger from one thread.
class TrainingLogger {
 public:
  /// Logs through `run`, which must outlive the logger.
  explicit TrainingLogger(ActiveRun& run);
  /// Logs params and metrics through `run` (queued: never blocks, spooled while the server is away)
  /// and uploads files with `client` once the run has its server id, waiting at most `id_timeout`
  /// for it; when the run has none by then (the server is away, or the logger is offline) a file
  /// upload fails with kDeadlineExceeded / kFailedPrecondition while params and metrics stay
  /// queued. `run` must outlive the logger.
  TrainingLogger(AsyncRun& run, MlflowClient client,
                 std::chrono::milliseconds id_timeout = std::chrono::seconds(30));
  /// Takes over the other logger's run and history.
  TrainingLogger(TrainingLogger&&) noexcept;
  /// Takes over the other logger's run and history.
  TrainingLogger& operator=(TrainingLogger&&) noexcept;
  ~TrainingLogger();

  /// Logs params in one log-batch request (split only beyond MLflow's 100 params per request).
  /// kInvalidArgument, sending nothing, when a key appears twice with different values.
  Status log_params(const std::vector<std::pair<std::string, std::string>>& params);

  /// Logs train_loss, train_accuracy, val_loss, val_accuracy, learning_rate, epoch_seconds and
  /// images_per_second with step = m.epoch, in one request. `m` is appended to history() even when
  /// logging fails, so the curves and metrics.json stay complete.
  Status log_epoch(const EpochMetrics& m);

  /// Every EpochMetrics given to log_epoch, in order.
  const std::vector<EpochMetrics>& history() const { return history_; }

  /// Logs the artifact "curves.png": two panels, loss and accuracy, each with the train and
  /// validation line by epoch. Non-finite values are left out of the lines. kFailedPrecondition
  /// when no epoch was logged.
  Status log_curves();

  /// Logs a final evaluation under `prefix` (e.g. "test"): PREFIX_accuracy, the macro F1 (key
  /// "macro_f1" when prefix is "test", else "PREFIX_macro_f1"), and per class
  /// PREFIX_precision_KEY, PREFIX_recall_KEY, PREFIX_f1_KEY (KEY: ClassMetrics::key), plus
  /// `extra_metrics` under their own keys (e.g. test_loss, best_epoch), in one request at step 0.
  /// Artifacts: confusion_matrix.json, confusion_matrix.png and class_names.json, named
  /// "PREFIX_..." when the prefix is not "test". kInvalidArgument, sending nothing, for an empty
  /// prefix or two classes with the same key.
  Status log_evaluation(const ClassificationReport& report, const std::string& prefix,
                        const std::map<std::string, double>& extra_metrics);

  /// Logs the artifact "metrics.json": {"history": [one object per epoch], "final": {every metric
  /// logged by log_evaluation}, "params": {every param logged}}. Non-finite values become null.
  Status log_metrics_json();

  /// The run kind behind a logger (ActiveRun or AsyncRun); defined in the implementation.
  class RunSink;

 private:
  std::unique_ptr<RunSink> run_;
  std::vector<EpochMetrics> history_;
  std::map<std::string, std::string> params_;
  std::map<std::string, double> final_metrics_;
};

}  // namespace mlflow::training

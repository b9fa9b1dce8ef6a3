// SPDX-License-Identifier: Apache-2.0
// The served model watched for drift: each model version's own reference (drift_reference.json,
// logged beside its MLmodel at training time) feeds a DriftMonitor; each full window goes to
// /metrics and to whoever logs it (the MLflow monitoring run). A model without a reference is
// served unwatched, and /health says so.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "drift_monitor.h"
#include "predictor.h"
#include "serve_metrics.h"

namespace mlflow::serve {

/// Thread-safe: observe() runs on the batch worker, health() on any HTTP thread.
class DriftWatch {
 public:
  /// Told of each full window with the model it watched; on the batch worker's thread, so it must
  /// not block (AsyncRun's logging calls do not).
  using OnWindow = std::function<void(const DriftWindow& window, const ModelInfo& model)>;

  DriftWatch(ServeMetrics& metrics, OnWindow on_window = {});

  /// Counts a forward pass of `model`. A model other than the last one seen starts a new monitor
  /// from its own reference (read from model.info().local_dir), or none when it has none.
  void observe(const float* images, const float* probabilities, std::int64_t n,
               const Predictor& model);

  /// {"drift": {"watching", "reference", "window_size", "false_alarm_rate", "windows",
  /// "pending_images", "last": {...}}} for /health.
  nlohmann::json health() const;

 private:
  void switch_to(const Predictor& model);

  ServeMetrics& metrics_;
  OnWindow on_window_;
  mutable std::mutex mutex_;
  const Predictor* model_ = nullptr;  // the model the monitor below watches (identity only)
  ModelInfo info_;
  std::shared_ptr<DriftMonitor> monitor_;  // null: no reference for this model
  std::string note_;                       // why it is not watched, or where the reference is
};

}  // namespace mlflow::serve

// SPDX-License-Identifier: Apache-2.0
#include "drift_watch.h"

#include <filesystem>
#include <map>
#include <utility>

#include "fmnist/drift_reference_file.h"

namespace mlflow::serve {

DriftWatch::DriftWatch(ServeMetrics& metrics, OnWindow on_window)
    : metrics_(metrics), on_window_(std::move(on_window)) {}

void DriftWatch::switch_to(const Predictor& model) {
  model_ = &model;
  info_ = model.info();
  monitor_.reset();
  const auto path =
      (std::filesystem::path(info_.local_dir) / fmnist::kDriftReferenceFileName).string();
  std::error_code ec;
  if (info_.local_dir.empty() || !std::filesystem::exists(path, ec)) {
    note_ = "no " + std::string(fmnist::kDriftReferenceFileName) +
            " was logged with this model: it is served unwatched";
    return;
  }
  auto reference = fmnist::load_drift_reference(path);
  if (!reference.ok()) {
    note_ = "the drift reference cannot be used: " + reference.status().message();
    return;
  }
  monitor_ = std::make_shared<DriftMonitor>(std::move(*reference));
  note_ = path;
}

void DriftWatch::observe(const float* images, const float* probabilities, std::int64_t n,
                         const Predictor& model) {
  std::shared_ptr<DriftMonitor> monitor;
  ModelInfo info;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (&model != model_) switch_to(model);
    monitor = monitor_;
    if (monitor) info = info_;
  }
  if (!monitor) return;
  auto windows = monitor->observe(images, probabilities, n);
  if (!windows.ok()) return;  // a non-finite output: nothing was counted
  for (const auto& window : *windows) {
    std::map<std::string, double> gauges;
    // Labelled without the metric names' "drift_" prefix: fmnist_serve_drift{statistic="alert"}.
    for (const auto& [name, value] : drift_window_metrics(window)) gauges[name.substr(6)] = value;
    gauges["window_index"] = static_cast<double>(window.index);
    metrics_.set_drift(gauges);
    if (on_window_) on_window_(window, info);
  }
}

nlohmann::json DriftWatch::health() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json drift{{"watching", monitor_ != nullptr}};
  if (!monitor_) {
    drift["note"] = model_ ? note_ : "no request yet";
    return {{"drift", drift}};
  }
  const auto& thresholds = monitor_->reference().thresholds;
  drift["reference"] = note_;
  drift["window_size"] = thresholds.window_size;
  drift["false_alarm_rate"] = thresholds.false_alarm_rate;
  drift["windows"] = monitor_->windows();
  drift["pending_images"] = monitor_->pending_images();
  if (auto last = monitor_->last_window()) {
    nlohmann::json stats;
    for (const auto& [name, value] : drift_window_metrics(*last)) stats[name] = value;
    drift["last"] = {{"index", last->index},
                     {"alert", last->alert},
                     {"crossed", last->crossed},
                     {"metrics", stats}};
  }
  return {{"drift", drift}};
}

}  // namespace mlflow::serve

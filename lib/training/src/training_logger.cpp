// SPDX-License-Identifier: Apache-2.0
// TrainingLogger: metrics through a run (ActiveRun or AsyncRun), charts through mlflow::plot, files
// via a temporary directory.
#include "mlflow/training/training_logger.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mlflow/plot/charts.h"
#include "mlflow/training/staging_dir.h"
#include "mlflow/validation.h"

namespace mlflow::training {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

// NaN and infinities are not JSON; null says "no value".
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json epoch_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"train_loss", number(m.train_loss)},
          {"train_accuracy", number(m.train_accuracy)},
          {"val_loss", number(m.val_loss)},
          {"val_accuracy", number(m.val_accuracy)},
          {"learning_rate", number(m.learning_rate)},
          {"epoch_seconds", number(m.epoch_seconds)},
          {"images_per_second", number(m.images_per_second)}};
}

// One line of a curve: the epochs whose value is finite.
plot::LineSeries series(const std::string& name, const std::vector<EpochMetrics>& history,
                        double EpochMetrics::*field) {
  plot::LineSeries s;
  s.name = name;
  for (const auto& m : history) {
    if (!std::isfinite(m.*field)) continue;
    s.x.push_back(static_cast<double>(m.epoch));
    s.y.push_back(m.*field);
  }
  return s;
}

plot::LineChart panel(const std::string& title, const std::string& y_label,
                      std::vector<plot::LineSeries> lines) {
  plot::LineChart c;
  c.labels = {title, "epoch", y_label};
  for (auto& s : lines) {
    if (!s.x.empty()) c.series.push_back(std::move(s));
  }
  return c;
}

}  // namespace

/// Where a TrainingLogger's params, metrics and files go.
class TrainingLogger::RunSink {
 public:
  virtual ~RunSink() = default;
  virtual Status log_params(const std::map<std::string, std::string>& params) = 0;
  virtual Status log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) = 0;
  virtual Status log_artifact(const std::string& local_file) = 0;
};

namespace {

class ActiveRunSink final : public TrainingLogger::RunSink {
 public:
  explicit ActiveRunSink(ActiveRun& run) : run_(run) {}
  Status log_params(const std::map<std::string, std::string>& params) override {
    return run_.log_params(params);
  }
  Status log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) override {
    return run_.log_metrics(metrics, step);
  }
  Status log_artifact(const std::string& local_file) override {
    return run_.log_artifact(local_file);
  }

 private:
  ActiveRun& run_;
};

class AsyncRunSink final : public TrainingLogger::RunSink {
 public:
  AsyncRunSink(AsyncRun& run, MlflowClient client, std::chrono::milliseconds id_timeout)
      : run_(run), client_(std::move(client)), id_timeout_(id_timeout) {}
  Status log_params(const std::map<std::string, std::string>& params) override {
    // Checked (and refused) one by one at the call, before any is queued: validate all first.
    for (const auto& [k, v] : params) MLFLOW_CPP_RETURN_IF_ERROR(validate_param(k, v));
    for (const auto& [k, v] : params) MLFLOW_CPP_RETURN_IF_ERROR(run_.log_param(k, v));
    return ok_status();
  }
  Status log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) override {
    for (const auto& [k, v] : metrics) MLFLOW_CPP_RETURN_IF_ERROR(validate_metric(k, 0));
    const TimestampMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    for (const auto& [k, v] : metrics) MLFLOW_CPP_RETURN_IF_ERROR(run_.log_metric(k, v, step, now));
    return ok_status();
  }
  Status log_artifact(const std::string& local_file) override {
    auto id = run_.wait_for_id(id_timeout_);
    if (!id.ok()) return id.status().with_context("uploading " + local_file);
    return client_.log_artifact(*id, local_file);
  }

 private:
  AsyncRun& run_;
  MlflowClient client_;
  std::chrono::milliseconds id_timeout_;
};

}  // namespace

TrainingLogger::TrainingLogger(ActiveRun& run) : run_(std::make_unique<ActiveRunSink>(run)) {}
TrainingLogger::TrainingLogger(AsyncRun& run, MlflowClient client,
                               std::chrono::milliseconds id_timeout)
    : run_(std::make_unique<AsyncRunSink>(run, std::move(client), id_timeout)) {}
TrainingLogger::TrainingLogger(TrainingLogger&&) noexcept = default;
TrainingLogger& TrainingLogger::operator=(TrainingLogger&&) noexcept = default;
TrainingLogger::~TrainingLogger() = default;

Status TrainingLogger::log_params(const std::vector<std::pair<std::string, std::string>>& params) {
  std::map<std::string, std::string> batch;
  for (const auto& [k, v] : params) {
    auto [it, inserted] = batch.emplace(k, v);
    if (!inserted && it->second != v) {
      return Status(StatusCode::kInvalidArgument, fmt::format("log_params: param '{}' given twice "
                                                              "('{}' and '{}')",
                                                              k, it->second, v));
    }
  }
  MLFLOW_CPP_RETURN_IF_ERROR(run_->log_params(batch));
  for (auto& [k, v] : batch) params_[k] = v;
  return ok_status();
}

Status TrainingLogger::log_epoch(const EpochMetrics& m) {
  history_.push_back(m);
  return run_->log_metrics({{"train_loss", m.train_loss},
                            {"train_accuracy", m.train_accuracy},
                            {"val_loss", m.val_loss},
                            {"val_accuracy", m.val_accuracy},
                            {"learning_rate", m.learning_rate},
                            {"epoch_seconds", m.epoch_seconds},
                            {"images_per_second", m.images_per_second}},
                           m.epoch);
}

Status TrainingLogger::log_curves() {
  if (history_.empty()) {
    return Status(StatusCode::kFailedPrecondition, "log_curves: no epoch has been logged");
  }
  plot::LineChart loss = panel("Loss", "loss",
                               {series("train", history_, &EpochMetrics::train_loss),
                                series("validation", history_, &EpochMetrics::val_loss)});
  plot::LineChart acc = panel("Accuracy", "accuracy",
                              {series("train", history_, &EpochMetrics::train_accuracy),
                               series("validation", history_, &EpochMetrics::val_accuracy)});
  // Accuracies are fractions: a fixed 0..1 axis makes runs comparable at a glance.
  bool fractions = true;
  for (const auto& s : acc.series) {
    for (double y : s.y) fractions = fractions && y >= 0 && y <= 1;
  }
  if (fractions) {
    acc.y_min = 0;
    acc.y_max = 1;
  }
  std::vector<plot::LineChart> panels;
  for (auto* p : {&loss, &acc}) {
    if (!p->series.empty()) panels.push_back(std::move(*p));
  }
  if (panels.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "log_curves: no finite loss or accuracy to draw");
  }
  auto dir = StagingDir::make("mlflow-training");
  if (!dir.ok()) return dir.status();
  const std::string path = dir->file("curves.png");
  MLFLOW_CPP_RETURN_IF_ERROR(plot::write_line_charts(path, panels));
  return run_->log_artifact(path);
}

Status TrainingLogger::log_evaluation(const ClassificationReport& report, const std::string& prefix,
                                      const std::map<std::string, double>& extra_metrics) {
  if (prefix.empty()) {
    return Status(StatusCode::kInvalidArgument, "log_evaluation: the metric prefix is empty");
  }
  std::map<std::string, double> metrics;
  metrics[prefix + "_accuracy"] = report.accuracy;
  metrics[prefix == "test" ? "macro_f1" : prefix + "_macro_f1"] = report.macro_f1;
  std::set<std::string> keys;
  for (const auto& c : report.per_class) {
    if (!keys.insert(c.key).second) {
      return Status(StatusCode::kInvalidArgument,
                    "log_evaluation: two classes share the metric key '" + c.key + "' (class '" +
                        c.name + "')");
    }
    metrics[prefix + "_precision_" + c.key] = c.precision;
    metrics[prefix + "_recall_" + c.key] = c.recall;
    metrics[prefix + "_f1_" + c.key] = c.f1;
  }
  for (const auto& [k, v] : extra_metrics) metrics[k] = v;
  MLFLOW_CPP_RETURN_IF_ERROR(run_->log_metrics(metrics, 0));
  for (const auto& [k, v] : metrics) final_metrics_[k] = v;

  auto dir = StagingDir::make("mlflow-training");
  if (!dir.ok()) return dir.status();
  const std::string name_prefix = prefix == "test" ? "" : prefix + "_";
  const std::string json_path = dir->file(name_prefix + "confusion_matrix.json");
  const std::string png_path = dir->file(name_prefix + "confusion_matrix.png");
  const std::string names_path = dir->file(name_prefix + "class_names.json");
  MLFLOW_CPP_RETURN_IF_ERROR(write_text(json_path, confusion_matrix_json(report)));
  char accuracy[32];
  std::snprintf(accuracy, sizeof accuracy, "%.2f%%", 100 * report.accuracy);
  MLFLOW_CPP_RETURN_IF_ERROR(write_confusion_matrix_png(
      report, png_path, "Confusion matrix (" + prefix + ", accuracy " + accuracy + ")"));
  MLFLOW_CPP_RETURN_IF_ERROR(write_text(names_path, dump(json(report.class_names))));
  for (const auto& path : {json_path, png_path, names_path}) {
    MLFLOW_CPP_RETURN_IF_ERROR(run_->log_artifact(path));
  }
  return ok_status();
}

Status TrainingLogger::log_metrics_json() {
  json history = json::array();
  for (const auto& m : history_) history.push_back(epoch_json(m));
  json final_metrics = json::object();
  for (const auto& [k, v] : final_metrics_) final_metrics[k] = number(v);
  const json doc = {
      {"history", std::move(history)}, {"final", std::move(final_metrics)}, {"params", params_}};
  auto dir = StagingDir::make("mlflow-training");
  if (!dir.ok()) return dir.status();
  const std::string path = dir->file("metrics.json");
  MLFLOW_CPP_RETURN_IF_ERROR(write_text(path, dump(doc)));
  return run_->log_artifact(path);
}

}  // namespace mlflow::training

// SPDX-License-Identifier: Apache-2.0
// TrainingLogger against the real server: params, epoch history, curves, evaluation, metrics.json.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "mlflow/async_logger.h"
#include "mlflow/run.h"
#include "mlflow/training/training_logger.h"
#include "support/test_support.h"

namespace mlflow::training {
namespace {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};

ActiveRun start_run(const std::string& prefix) {
  RunOptions options;
  options.experiment_name = testing::unique_name(prefix);
  options.run_name = "training-logger";
  auto run = ActiveRun::start(testing::test_client(), options);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  return std::move(*run);
}

EpochMetrics epoch(std::int64_t e) {
  EpochMetrics m;
  m.epoch = e;
  m.train_loss = 1.0 / static_cast<double>(e);
  m.train_accuracy = 0.6 + 0.1 * static_cast<double>(e);
  m.val_loss = 1.2 / static_cast<double>(e);
  m.val_accuracy = 0.55 + 0.1 * static_cast<double>(e);
  m.learning_rate = 1e-3;
  m.epoch_seconds = 10.0 + static_cast<double>(e);
  m.images_per_second = 4800.0;
  return m;
}

// A 10-class report: every class right except some Shirts predicted as T-shirt/top.
ClassificationReport fashion_report() {
  std::vector<std::int64_t> labels, predictions;
  for (std::int64_t c = 0; c < 10; ++c) {
    for (int i = 0; i < 10; ++i) {
      labels.push_back(c);
      predictions.push_back(c == 6 && i < 4 ? 0 : c);
    }
  }
  auto r = make_classification_report(predictions, labels, kFashionClasses);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return *r;
}

std::set<std::string> artifact_names(MlflowClient& client, const std::string& run_id) {
  auto list = client.list_artifacts(run_id);
  REQUIRE_MESSAGE(list.ok(), list.status().to_string());
  std::set<std::string> names;
  for (const auto& f : *list) names.insert(f.path);
  return names;
}

TEST_CASE("training logger: params, epoch metrics by step, curves, evaluation and metrics.json") {
  ActiveRun run = start_run("training-logger");
  TrainingLogger logger(run);
  Status s = logger.log_params({{"batch_size", "64"}, {"lr", "0.001"}, {"epochs", "3"}});
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  for (std::int64_t e = 1; e <= 3; ++e) {
    s = logger.log_epoch(epoch(e));
    REQUIRE_MESSAGE(s.ok(), s.to_string());
  }
  CHECK(logger.history().size() == 3);
  s = logger.log_curves();
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  const ClassificationReport report = fashion_report();
  s = logger.log_evaluation(report, "test", {{"test_loss", 0.31}, {"best_epoch", 3}});
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  s = logger.log_metrics_json();
  REQUIRE_MESSAGE(s.ok(), s.to_string());

  MlflowClient client = testing::test_client();
  auto got = client.get_run(run.id());
  REQUIRE_MESSAGE(got.ok(), got.status().to_string());
  std::map<std::string, std::string> params;
  for (const auto& p : got->data.params) params[p.key] = p.value;
  CHECK(params["batch_size"] == "64");
  CHECK(params["lr"] == "0.001");
  CHECK(params["epochs"] == "3");

  auto history = client.get_metric_history(run.id(), "val_accuracy");
  REQUIRE_MESSAGE(history.ok(), history.status().to_string());
  REQUIRE(history->size() == 3);
  std::sort(history->begin(), history->end(),
            [](const Metric& a, const Metric& b) { return a.step < b.step; });
  for (std::int64_t e = 1; e <= 3; ++e) {
    const Metric& m = (*history)[static_cast<std::size_t>(e - 1)];
    CHECK(m.step == e);
    CHECK(m.value == doctest::Approx(epoch(e).val_accuracy));
  }
  std::map<std::string, double> latest;
  for (const auto& m : got->data.metrics) latest[m.key] = m.value;
  for (const char* key : {"train_loss", "train_accuracy", "val_loss", "learning_rate",
                          "epoch_seconds", "images_per_second"}) {
    CHECK_MESSAGE(latest.count(key) == 1, key);
  }
  CHECK(latest["train_loss"] == doctest::Approx(1.0 / 3));
  CHECK(latest["test_accuracy"] == doctest::Approx(0.96));
  CHECK(latest["macro_f1"] == doctest::Approx(report.macro_f1));
  CHECK(latest["test_loss"] == doctest::Approx(0.31));
  CHECK(latest["best_epoch"] == 3.0);
  CHECK(latest["test_recall_shirt"] == doctest::Approx(0.6));
  CHECK(latest["test_precision_t_shirt_top"] == doctest::Approx(10.0 / 14));
  for (const auto& name : kFashionClasses) {
    const std::string key = metric_safe_name(name);
    for (const char* kind : {"test_precision_", "test_recall_", "test_f1_"}) {
      const std::string metric = kind + key;
      CHECK_MESSAGE(latest.count(metric) == 1, metric);
    }
  }

  const std::set<std::string> names = artifact_names(client, run.id());
  for (const char* f : {"curves.png", "confusion_matrix.json", "confusion_matrix.png",
                        "class_names.json", "metrics.json"}) {
    CHECK_MESSAGE(names.count(f) == 1, f);
  }
  auto png = client.read_artifact(run.id(), "curves.png");
  REQUIRE_MESSAGE(png.ok(), png.status().to_string());
  CHECK(png->substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));

  auto cls = client.read_artifact(run.id(), "class_names.json");
  REQUIRE_MESSAGE(cls.ok(), cls.status().to_string());
  CHECK(nlohmann::json::parse(*cls) == nlohmann::json(kFashionClasses));

  auto cm = client.read_artifact(run.id(), "confusion_matrix.json");
  REQUIRE_MESSAGE(cm.ok(), cm.status().to_string());
  const auto cmj = nlohmann::json::parse(*cm);
  CHECK(cmj.at("counts").at(6).at(0) == 4);
  CHECK(cmj.at("counts").at(6).at(6) == 6);

  auto mj = client.read_artifact(run.id(), "metrics.json");
  REQUIRE_MESSAGE(mj.ok(), mj.status().to_string());
  const auto metrics = nlohmann::json::parse(*mj);
  REQUIRE(metrics.at("history").size() == 3);
  CHECK(metrics.at("history").at(2).at("epoch") == 3);
  CHECK(metrics.at("history").at(2).at("val_accuracy").get<double>() == doctest::Approx(0.85));
  CHECK(metrics.at("final").at("test_accuracy").get<double>() == doctest::Approx(0.96));
  CHECK(metrics.at("final").at("best_epoch").get<double>() == 3.0);
  CHECK(metrics.at("final").contains("test_f1_ankle_boot"));
  CHECK(metrics.at("params").at("batch_size") == "64");
  CHECK(run.end().ok());
}

TEST_CASE("training logger over an AsyncRun: the same params, epoch metrics and files") {
  testing::TempDir spool;
  AsyncLoggerOptions options;
  options.spool_dir = spool.path();
  MlflowClient client = testing::test_client();
  auto async = AsyncLogger::open(client, options);
  REQUIRE_MESSAGE(async.ok(), async.status().to_string());
  RunOptions run_options;
  run_options.experiment_name = testing::unique_name("training-logger-async");
  auto run = (*async)->start_run(run_options);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  {
    TrainingLogger logger(*run, client);
    Status s = logger.log_params({{"batch_size", "64"}, {"epochs", "2"}});
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    for (std::int64_t e = 1; e <= 2; ++e) REQUIRE(logger.log_epoch(epoch(e)).ok());
    s = logger.log_curves();  // waits for the run's server id, then uploads
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    s = logger.log_evaluation(fashion_report(), "test", {});
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    // A bad key is refused before anything of the call is queued.
    CHECK(logger.log_params({{"fine", "1"}, {"bad key!", "2"}}).code() ==
          StatusCode::kInvalidArgument);
  }
  const std::string run_id = run->id();
  run->end();
  auto report = (*async)->close(std::chrono::seconds(30));
  REQUIRE_MESSAGE(report.status().ok(), report.status().to_string());

  auto got = client.get_run(run_id);
  REQUIRE_MESSAGE(got.ok(), got.status().to_string());
  std::map<std::string, std::string> params;
  for (const auto& p : got->data.params) params[p.key] = p.value;
  CHECK(params == std::map<std::string, std::string>{{"batch_size", "64"}, {"epochs", "2"}});
  auto history = client.get_metric_history(run_id, "val_accuracy");
  REQUIRE_MESSAGE(history.ok(), history.status().to_string());
  CHECK(history->size() == 2);
  std::map<std::string, double> latest;
  for (const auto& m : got->data.metrics) latest[m.key] = m.value;
  CHECK(latest["test_accuracy"] == doctest::Approx(0.96));
  const auto names = artifact_names(client, run_id);
  for (const char* f :
       {"curves.png", "confusion_matrix.json", "confusion_matrix.png", "class_names.json"}) {
    CHECK_MESSAGE(names.count(f) == 1, f);
  }
}

TEST_CASE("training logger: a prefix other than test names the metrics and files after it") {
  ActiveRun run = start_run("training-logger-val");
  TrainingLogger logger(run);
  const Status s = logger.log_evaluation(fashion_report(), "val", {});
  REQUIRE_MESSAGE(s.ok(), s.to_string());

  MlflowClient client = testing::test_client();
  auto got = client.get_run(run.id());
  REQUIRE_MESSAGE(got.ok(), got.status().to_string());
  std::set<std::string> keys;
  for (const auto& m : got->data.metrics) keys.insert(m.key);
  CHECK(keys.count("val_accuracy") == 1);
  CHECK(keys.count("val_macro_f1") == 1);
  CHECK(keys.count("macro_f1") == 0);
  CHECK(keys.count("val_f1_sneaker") == 1);
  CHECK(keys.size() == 2 + 3 * kFashionClasses.size());
  const std::set<std::string> names = artifact_names(client, run.id());
  CHECK(names == std::set<std::string>{"val_class_names.json", "val_confusion_matrix.json",
                                       "val_confusion_matrix.png"});
  CHECK(run.end().ok());
}

TEST_CASE("training logger: invalid calls fail without sending anything") {
  ActiveRun run = start_run("training-logger-errors");
  TrainingLogger logger(run);
  const Status dup = logger.log_params({{"lr", "0.1"}, {"lr", "0.2"}});
  CHECK(dup.code() == StatusCode::kInvalidArgument);
  CHECK(dup.message().find("'lr'") != std::string::npos);
  CHECK(logger.log_curves().code() == StatusCode::kFailedPrecondition);
  CHECK(logger.log_evaluation(fashion_report(), "", {}).code() == StatusCode::kInvalidArgument);
  auto clash = make_classification_report({0, 1}, {0, 1}, {"a b", "a-b"});
  REQUIRE(clash.ok());
  CHECK(logger.log_evaluation(*clash, "test", {}).code() == StatusCode::kInvalidArgument);

  MlflowClient client = testing::test_client();
  auto got = client.get_run(run.id());
  REQUIRE_MESSAGE(got.ok(), got.status().to_string());
  CHECK(got->data.params.empty());
  CHECK(got->data.metrics.empty());
  CHECK(artifact_names(client, run.id()).empty());
  CHECK(run.end().ok());
}

}  // namespace
}  // namespace mlflow::training

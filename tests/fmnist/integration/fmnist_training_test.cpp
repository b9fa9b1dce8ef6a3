// SPDX-License-Identifier: Apache-2.0
// Training on the real Fashion-MNIST files, recorded in the real MLflow server: the course's
// acceptance test (a short run on 5k images reaches 80% and predicts more than one class), a
// complete run, and the model's round trip through the registry; then rotation pretraining feeding
// a frozen-backbone run.
#include "fmnist/models.h"

#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_tensors.h"
#include "fmnist/tracked_training.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "real_fmnist.h"
#include "support/test_support.h"

using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
namespace ml = mlflow::libtorch;
namespace fm = mlflow::fmnist;

namespace {

const fm::FmnistSplits& real_data() { return mlflow::testing::real_fmnist_splits(); }

struct Trained {
  std::string run_id;
  fm::TrackedTrainingResult result;
};

Trained train_tracked(mlflow::MlflowClient& client, const std::string& experiment,
                      const fm::TrainConfig& config, const std::string& register_name = {},
                      const std::string& alias = {}) {
  mlflow::RunOptions ro;
  ro.experiment_name = experiment;
  auto run = mlflow::ActiveRun::start(client, ro);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  fm::TrackedTrainingOptions options;
  options.progress.quiet = true;
  options.register_model_name = register_name;
  options.register_alias = alias;
  auto result = fm::run_tracked_training(config, real_data(), fm::fmnist_data_dir(), *run, options);
  REQUIRE_MESSAGE(result.ok(), result.status().to_string());
  REQUIRE(run->end().ok());
  return {run->id(), std::move(*result)};
}

std::set<std::string> artifact_names(mlflow::MlflowClient& client, const std::string& run_id) {
  auto files = client.list_artifacts(run_id);
  REQUIRE_MESSAGE(files.ok(), files.status().to_string());
  std::set<std::string> names;
  for (const auto& f : *files) names.insert(f.path);
  return names;
}

std::vector<std::int64_t> predictions_of(mlflow::MlflowClient& client, const std::string& uri) {
  TempDir dir;
  auto model = ml::fetch_model(client, uri, dir.path() + "/model");
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  auto eval =
      fm::evaluate_saved_model({model->flavor.config_json, model->weights_path}, real_data(), 2);
  REQUIRE_MESSAGE(eval.ok(), eval.status().to_string());
  return eval->predictions;
}

}  // namespace

TEST_CASE("fmnist training: 2 epochs on 5k images reach 80% and the run is complete in MLflow") {
  auto client = test_client();
  fm::TrainConfig config;
  config.train_limit = 5000;
  config.max_epochs = 2;
  config.batch_size = 32;
  config.threads = 2;
  const std::string model_name = unique_name("fmnist-small-cnn");
  const Trained t = train_tracked(client, unique_name("fmnist"), config, model_name, "champion");
  const auto& r = t.result;

  CHECK(r.report.accuracy >= 0.80);
  const std::set<std::int64_t> predicted(r.outcome.test.predictions.begin(),
                                         r.outcome.test.predictions.end());
  CHECK(predicted.size() > 1);
  CHECK(r.report.total == 10000);

  auto run = client.get_run(t.run_id);
  REQUIRE(run.ok());
  CHECK(run->info.status == mlflow::RunStatus::kFinished);
  std::set<std::string> params;
  for (const auto& p : run->data.params) params.insert(p.key);
  for (const auto& key : fm::train_config_keys())
    CHECK_MESSAGE(params.count(key.name) == 1, key.name);
  for (const char* key : {"libtorch_version", "device", "build_type", "git_commit"})
    CHECK(params.count(key) == 1);

  std::set<std::string> metrics;
  for (const auto& m : run->data.metrics) metrics.insert(m.key);
  for (const char* key :
       {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "learning_rate",
        "epoch_seconds", "images_per_second", "test_loss", "test_accuracy", "macro_f1",
        "best_epoch", "best_val_accuracy", "best_val_loss", "test_precision_t_shirt_top",
        "test_recall_ankle_boot", "test_f1_pullover"}) {
    CHECK_MESSAGE(metrics.count(key) == 1, key);
  }
  auto history = client.get_metric_history(t.run_id, "val_accuracy");
  REQUIRE(history.ok());
  REQUIRE(history->size() == 2);
  CHECK(history->at(0).step == 1);
  CHECK(history->at(1).step == 2);
  CHECK(history->at(1).value == doctest::Approx(r.outcome.history[1].val_accuracy));

  std::set<std::string> contexts;
  for (const auto& in : run->dataset_inputs) {
    for (const auto& tag : in.tags) {
      if (tag.key == "mlflow.data.context") contexts.insert(tag.value);
    }
  }
  CHECK(contexts == std::set<std::string>{"training", "validation", "test"});
  REQUIRE(run->model_outputs.size() == 1);
  CHECK(run->model_outputs[0].model_id == r.model.model_id);

  const auto names = artifact_names(client, t.run_id);
  for (const char* f : {"confusion_matrix.json", "confusion_matrix.png", "curves.png",
                        "metrics.json", "train.log", "class_names.json"}) {
    CHECK_MESSAGE(names.count(f) == 1, f);
  }

  // The model comes back from every kind of URI with identical predictions.
  const auto& expected = r.outcome.test.predictions;
  CHECK(predictions_of(client, "models:/" + model_name + "@champion") == expected);
  CHECK(predictions_of(client, "models:/" + model_name + "/" + r.version.version) == expected);
  CHECK(predictions_of(client, "runs:/" + t.run_id + "/model") == expected);
}

TEST_CASE(
    "fmnist training: rotation pretraining registers a backbone that a frozen run loads by alias") {
  auto client = test_client();
  const std::string experiment = unique_name("fmnist-pretrain");
  fm::TrainConfig pre;
  pre.task = fm::kTaskRotation;
  pre.train_limit = 1000;
  pre.max_epochs = 1;
  pre.threads = 2;
  const std::string backbone_name = unique_name("fmnist-backbone");
  const Trained p = train_tracked(client, experiment, pre, backbone_name, "pretrained");
  CHECK(p.result.report.class_names == fm::rotation_class_names());
  CHECK(p.result.report.accuracy > 0.25);  // better than guessing the rotation

  fm::TrainConfig frozen;
  frozen.frozen_backbone = true;
  frozen.backbone_weights = "models:/" + backbone_name + "@pretrained";
  frozen.train_limit = 1000;
  frozen.max_epochs = 1;
  frozen.threads = 2;
  const Trained f = train_tracked(client, experiment, frozen);
  CHECK(f.result.outcome.backbone_source == frozen.backbone_weights);
  CHECK(f.result.outcome.feature_cache_seconds > 0);
  CHECK(f.result.outcome.trainable_parameters < f.result.outcome.parameters);

  // The frozen run's model carries the pretrained backbone unchanged.
  auto load = [&](const std::string& uri) {
    TempDir dir;
    auto m = ml::fetch_model(client, uri, dir.path() + "/m");
    REQUIRE_MESSAGE(m.ok(), m.status().to_string());
    auto cfg = fm::ModelConfig::from_json(m->flavor.config_json, uri);
    REQUIRE(cfg.ok());
    fm::Classifier c(*cfg);
    REQUIRE(fm::load_weights(c, m->weights_path).ok());
    return c;
  };
  auto pretrained = load(frozen.backbone_weights);
  auto trained = load("runs:/" + f.run_id + "/model");
  const auto a = pretrained->backbone->parameters();
  const auto b = trained->backbone->parameters();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].equal(b[i]));
  CHECK_FALSE(pretrained->head->parameters().back().sizes() ==
              trained->head->parameters().back().sizes());
}

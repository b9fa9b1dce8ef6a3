// SPDX-License-Identifier: Apache-2.0
// A trainer without LibTorch: softmax regression in plain C++ on synthetic data, tracked with
// mlflow::training: params, one step per epoch, curves, the test confusion matrix and a registered
// model. Usage: consumer_training EXPERIMENT MODEL_NAME (tracking server from MLFLOW_TRACKING_URI).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "mlflow/client.h"
#include "mlflow/options.h"
#include "mlflow/run.h"
#include "mlflow/training/classification_report.h"
#include "mlflow/training/logged_model.h"
#include "mlflow/training/mlmodel.h"
#include "mlflow/training/training_logger.h"

namespace {

constexpr int kClasses = 3;
constexpr int kFeatures = 2;
const std::vector<std::string> kClassNames = {"left", "right", "top"};

struct Sample {
  std::array<double, kFeatures> x;
  std::int64_t label;
};

// Three Gaussian blobs, one per class.
std::vector<Sample> make_data(int n, unsigned seed) {
  const double centres[kClasses][kFeatures] = {{-2, 0}, {2, 0}, {0, 2.5}};
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<Sample> data;
  for (int i = 0; i < n; ++i) {
    const int c = i % kClasses;
    data.push_back({{centres[c][0] + noise(rng), centres[c][1] + noise(rng)}, c});
  }
  return data;
}

struct Model {
  double w[kClasses][kFeatures] = {};
  double b[kClasses] = {};

  std::array<double, kClasses> probabilities(const Sample& s) const {
    std::array<double, kClasses> p{};
    double sum = 0;
    for (int c = 0; c < kClasses; ++c) {
      p[c] = std::exp(b[c] + w[c][0] * s.x[0] + w[c][1] * s.x[1]);
      sum += p[c];
    }
    for (double& v : p) v /= sum;
    return p;
  }
  std::int64_t predict(const Sample& s) const {
    const auto p = probabilities(s);
    return static_cast<std::int64_t>(std::max_element(p.begin(), p.end()) - p.begin());
  }
};

// Mean cross-entropy and accuracy of `model` on `data`; one gradient step first when `lr` > 0.
std::pair<double, double> epoch(Model& model, const std::vector<Sample>& data, double lr) {
  double loss = 0, correct = 0;
  Model grad;
  for (const Sample& s : data) {
    const auto p = model.probabilities(s);
    loss -= std::log(p[s.label]);
    correct += model.predict(s) == s.label ? 1 : 0;
    for (int c = 0; c < kClasses; ++c) {
      const double g = p[c] - (c == s.label ? 1.0 : 0.0);
      grad.b[c] += g;
      for (int f = 0; f < kFeatures; ++f) grad.w[c][f] += g * s.x[f];
    }
  }
  const double n = static_cast<double>(data.size());
  for (int c = 0; lr > 0 && c < kClasses; ++c) {
    model.b[c] -= lr * grad.b[c] / n;
    for (int f = 0; f < kFeatures; ++f) model.w[c][f] -= lr * grad.w[c][f] / n;
  }
  return {loss / n, correct / n};
}

// Ends the program with the error when `st` is not ok.
void check(const mlflow::Status& st, const char* what) {
  if (st.ok()) return;
  std::cerr << "consumer_training: " << what << ": " << st.to_string() << "\n";
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer_training EXPERIMENT MODEL_NAME\n";
    return 2;
  }
  auto options = mlflow::ClientOptions::from_env();
  check(options.status(), "tracking options");
  auto client = mlflow::MlflowClient::make(*options);
  check(client.status(), "client");
  mlflow::RunOptions run_options;
  run_options.experiment_name = argv[1];
  run_options.run_name = "softmax-regression";
  auto run = mlflow::ActiveRun::start(*client, run_options);
  check(run.status(), "starting the run");

  const auto train = make_data(600, 1), validation = make_data(150, 2), test = make_data(300, 3);
  const double learning_rate = 0.5;
  const int epochs = 20;
  mlflow::training::TrainingLogger logger(*run);
  check(logger.log_params(
            {{"learning_rate", "0.5"}, {"epochs", "20"}, {"model", "softmax_regression"}}),
        "params");
  Model model;
  for (int e = 1; e <= epochs; ++e) {
    mlflow::training::EpochMetrics m;
    m.epoch = e;
    std::tie(m.train_loss, m.train_accuracy) = epoch(model, train, learning_rate);
    std::tie(m.val_loss, m.val_accuracy) = epoch(model, validation, 0);
    m.learning_rate = learning_rate;
    check(logger.log_epoch(m), "epoch metrics");
  }
  check(logger.log_curves(), "curves");

  std::vector<std::int64_t> predictions, labels;
  for (const Sample& s : test) {
    predictions.push_back(model.predict(s));
    labels.push_back(s.label);
  }
  auto report = mlflow::training::make_classification_report(predictions, labels, kClassNames);
  check(report.status(), "classification report");
  check(logger.log_evaluation(*report, "test", {{"test_loss", epoch(model, test, 0).first}}),
        "evaluation");

  // The model's own format (here the weights as text) plus an MLmodel file naming its flavor.
  std::string weights;
  for (int c = 0; c < kClasses; ++c) {
    weights += std::to_string(model.b[c]) + " " + std::to_string(model.w[c][0]) + " " +
               std::to_string(model.w[c][1]) + "\n";
  }
  auto logged = mlflow::training::log_model(
      *client, {run->experiment_id(), run->id(), "model", {{"classes", "3"}}, epochs},
      {{"weights.txt", weights}}, [](const std::string& model_id, const std::string& artifact_uri) {
        mlflow::training::MlmodelSpec spec;
        spec.flavors_json =
            R"({"softmax_regression_cpp": {"weights_file": "weights.txt", "classes": 3}})";
        spec.model_id = model_id;
        spec.artifact_path = artifact_uri;
        spec.signature_inputs = mlflow::training::TensorSpec{"float64", {-1, kFeatures}};
        spec.signature_outputs = mlflow::training::TensorSpec{"float64", {-1, kClasses}};
        return mlflow::training::mlmodel_yaml(spec);
      });
  check(logged.status(), "logging the model");
  auto version = mlflow::training::register_logged_model(*client, *logged, argv[2], "champion");
  check(version.status(), "registering the model");
  check(run->end(), "ending the run");
  std::cout << "test accuracy " << report->accuracy << "\n" << run->id() << "\n";
  return 0;
}

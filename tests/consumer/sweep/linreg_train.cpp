// SPDX-License-Identifier: Apache-2.0
// A user's own trainer for sweep_runner: a linear regression in plain C++ on synthetic data. It
// follows the sweep protocol (sweeps/README.md): --describe-params prints what it accepts; a trial
// gets --key value per parameter and logs into the run MLFLOW_RUN_ID names: its settings, train_mse
// and val_rmse per epoch, and the model, which the sweep registers when it wins.
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "mlflow/options.h"
#include "mlflow/run.h"
#include "mlflow/training/logged_model.h"
#include "mlflow/training/mlmodel.h"

namespace {

// What --describe-params prints: every parameter with its type and range.
constexpr const char* kParams = R"({"parameters": [
  {"name": "learning_rate", "type": "float", "min": 0, "min_exclusive": true, "max": 1,
   "default": "0.1"},
  {"name": "epochs", "type": "int", "min": 1, "max": 1000, "default": "30"},
  {"name": "l2", "type": "float", "min": 0, "max": 1, "default": "0", "help": "weight decay"}
 ],
 "other_parameters": false})";

struct Sample {
  double x0, x1, y;
};

// y = 3 x0 - 2 x1 + 0.5 plus a little noise.
std::vector<Sample> make_data(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> feature(0.0, 1.0), noise(0.0, 0.1);
  std::vector<Sample> data;
  for (int i = 0; i < n; ++i) {
    const double x0 = feature(rng), x1 = feature(rng);
    data.push_back({x0, x1, 3 * x0 - 2 * x1 + 0.5 + noise(rng)});
  }
  return data;
}

struct Model {
  double w0 = 0, w1 = 0, b = 0;
  double predict(const Sample& s) const { return w0 * s.x0 + w1 * s.x1 + b; }
};

double mse(const Model& m, const std::vector<Sample>& data) {
  double sum = 0;
  for (const Sample& s : data) sum += (m.predict(s) - s.y) * (m.predict(s) - s.y);
  return sum / static_cast<double>(data.size());
}

// One full-batch gradient step on the mean squared error plus l2 * |w|^2.
void step(Model& m, const std::vector<Sample>& data, double lr, double l2) {
  double g0 = 0, g1 = 0, gb = 0;
  for (const Sample& s : data) {
    const double e = 2 * (m.predict(s) - s.y);
    g0 += e * s.x0;
    g1 += e * s.x1;
    gb += e;
  }
  const double n = static_cast<double>(data.size());
  m.w0 -= lr * (g0 / n + 2 * l2 * m.w0);
  m.w1 -= lr * (g1 / n + 2 * l2 * m.w1);
  m.b -= lr * gb / n;
}

// The parameter `key` as a number; a value that is not one ends the program naming it.
double number(const std::map<std::string, std::string>& params, const std::string& key) {
  const std::string& text = params.at(key);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') {
    std::cerr << "linreg_train: --" << key << " '" << text << "' is not a number\n";
    std::exit(2);
  }
  return v;
}

void check(const mlflow::Status& st, const char* what) {
  if (st.ok()) return;
  std::cerr << "linreg_train: " << what << ": " << st.to_string() << "\n";
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> params = {
      {"learning_rate", "0.1"}, {"epochs", "30"}, {"l2", "0"}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--describe-params") {
      std::cout << kParams << "\n";
      return 0;
    }
    if (arg.rfind("--", 0) != 0 || !params.count(arg.substr(2)) || i + 1 == argc) {
      std::cerr << "linreg_train: unknown or incomplete argument '" << arg
                << "' (see --describe-params)\n";
      return 2;
    }
    params[arg.substr(2)] = argv[++i];
  }
  const double lr = number(params, "learning_rate"), l2 = number(params, "l2");
  const int epochs = static_cast<int>(number(params, "epochs"));

  auto options = mlflow::ClientOptions::from_env();
  check(options.status(), "tracking options");
  auto client = mlflow::MlflowClient::make(*options);
  check(client.status(), "client");
  mlflow::RunOptions run_options;
  run_options.run_name = "linreg";
  // Under sweep_runner MLFLOW_RUN_ID names the trial's run, which this resumes.
  auto run = mlflow::ActiveRun::start(*client, run_options.with_env_defaults());
  check(run.status(), "starting the run");
  check(run->log_params(params), "params");

  const auto train = make_data(400, 1), validation = make_data(100, 2);
  Model model;
  double val_rmse = 0;
  for (int e = 1; e <= epochs; ++e) {
    step(model, train, lr, l2);
    val_rmse = std::sqrt(mse(model, validation));
    check(run->log_metrics({{"train_mse", mse(model, train)}, {"val_rmse", val_rmse}}, e),
          "metrics");
  }

  // The model's own format (the weights as text) plus an MLmodel file naming its flavor.
  const std::string weights = std::to_string(model.w0) + " " + std::to_string(model.w1) + " " +
                              std::to_string(model.b) + "\n";
  auto logged = mlflow::training::log_model(
      *client, {run->experiment_id(), run->id(), "model", {}, epochs}, {{"weights.txt", weights}},
      [](const std::string& model_id, const std::string& artifact_uri) {
        mlflow::training::MlmodelSpec spec;
        spec.flavors_json = R"({"linreg_cpp": {"weights_file": "weights.txt"}})";
        spec.model_id = model_id;
        spec.artifact_path = artifact_uri;
        spec.signature_inputs = mlflow::training::TensorSpec{"float64", {-1, 2}};
        spec.signature_outputs = mlflow::training::TensorSpec{"float64", {-1}};
        return mlflow::training::mlmodel_yaml(spec);
      });
  check(logged.status(), "logging the model");
  check(run->end(), "ending the run");
  std::cout << "val_rmse " << val_rmse << "\n";
  return 0;
}

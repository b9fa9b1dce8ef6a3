// SPDX-License-Identifier: Apache-2.0
// A LibTorch trainer of its own model (an MLP over 3 x 8 sensor windows, 4 classes) tracked with
// mlflow::training and logged with its ONNX copy (mlflow::onnx): registered as MODEL_NAME@champion,
// loaded back into a freshly built module by that URI, and checked to give exactly the same
// outputs. Prints the fetched model's ONNX file, which run_consumer.sh feeds to mlflow.pyfunc.
// Usage: consumer_libtorch EXPERIMENT MODEL_NAME (tracking server from MLFLOW_TRACKING_URI).
#include <torch/torch.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "mlflow/client.h"
#include "mlflow/libtorch/module_io.h"
#include "mlflow/onnx/log_module.h"
#include "mlflow/options.h"
#include "mlflow/run.h"
#include "mlflow/training/logged_model.h"
#include "mlflow/training/training_logger.h"

namespace {

constexpr std::int64_t kChannels = 3, kSteps = 8, kClasses = 4;

torch::nn::Sequential make_model() {
  return torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(kChannels * kSteps, 32),
                               torch::nn::ReLU(), torch::nn::Linear(32, kClasses));
}

// Windows whose class is which channel carries a ramp, plus noise.
std::pair<torch::Tensor, torch::Tensor> make_data(std::int64_t n) {
  auto labels = torch::randint(kClasses, {n}, torch::kLong);
  auto x = 0.3 * torch::randn({n, kChannels, kSteps});
  auto ramp = torch::linspace(-1, 1, kSteps);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = labels[i].item<std::int64_t>();
    if (c < kChannels) x[i][c] += ramp;
  }
  return {x, labels};
}

void check(const mlflow::Status& st, const char* what) {
  if (st.ok()) return;
  std::cerr << "consumer_libtorch: " << what << ": " << st.to_string() << "\n";
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer_libtorch EXPERIMENT MODEL_NAME\n";
    return 2;
  }
  torch::manual_seed(7);
  auto options = mlflow::ClientOptions::from_env();
  check(options.status(), "tracking options");
  auto client = mlflow::MlflowClient::make(*options);
  check(client.status(), "client");
  mlflow::RunOptions run_options;
  run_options.experiment_name = argv[1];
  run_options.run_name = "sensor-mlp";
  auto run = mlflow::ActiveRun::start(*client, run_options);
  check(run.status(), "starting the run");

  auto [x_train, y_train] = make_data(512);
  auto [x_val, y_val] = make_data(128);
  auto model = make_model();
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
  mlflow::training::TrainingLogger logger(*run);
  check(logger.log_params({{"model", "sensor_mlp"}, {"optimizer", "adam"}, {"epochs", "10"}}),
        "params");
  for (std::int64_t epoch = 1; epoch <= 10; ++epoch) {
    model->train();
    optimizer.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(x_train), y_train);
    loss.backward();
    optimizer.step();
    model->eval();
    torch::NoGradGuard no_grad;
    auto val_logits = model->forward(x_val);
    mlflow::training::EpochMetrics m;
    m.epoch = epoch;
    m.train_loss = loss.item<double>();
    m.val_loss = torch::nn::functional::cross_entropy(val_logits, y_val).item<double>();
    m.val_accuracy = val_logits.argmax(1).eq(y_val).to(torch::kDouble).mean().item<double>();
    check(logger.log_epoch(m), "epoch metrics");
  }

  // The libtorch flavor: which architecture to build (the caller's own name), the input of one
  // sample.
  mlflow::libtorch::LibtorchFlavor flavor;
  flavor.architecture = "sensor_mlp";
  flavor.input_shape = {kChannels, kSteps};
  flavor.class_names = {"x", "y", "z", "none"};
  flavor.libtorch_version = TORCH_VERSION;
  auto logged = mlflow::onnx::log_module(
      *client, {run->experiment_id(), run->id(), "model", {}, 10}, *model, flavor);
  check(logged.status(), "logging the model");
  const std::string name = argv[2];
  check(mlflow::training::register_logged_model(*client, *logged, name, "champion").status(),
        "registering");
  check(run->end(), "ending the run");

  // Load it back by alias into a freshly built module: the outputs must be identical.
  auto loaded = make_model();
  const std::string dest = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                           "/consumer-libtorch-" + std::to_string(::getpid());
  auto fetched =
      mlflow::libtorch::load_module_from(*client, "models:/" + name + "@champion", dest, *loaded);
  check(fetched.status(), "loading the model back");
  loaded->eval();
  torch::NoGradGuard no_grad;
  const bool same = torch::equal(model->forward(x_val), loaded->forward(x_val));
  const bool has_onnx = std::filesystem::is_regular_file(dest + "/model.onnx");
  std::filesystem::remove_all(dest);
  if (!has_onnx) {
    std::cerr << "consumer_libtorch: the fetched model has no model.onnx\n";
    return 1;
  }
  if (!same) {
    std::cerr << "consumer_libtorch: the loaded model's outputs differ from the trained model's\n";
    return 1;
  }
  std::cout << "outputs identical after loading models:/" << name << "@champion\n"
            << run->id() << "\n";
  return 0;
}

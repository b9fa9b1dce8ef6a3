// SPDX-License-Identifier: Apache-2.0
#include "classifier_predictor.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <utility>

#include <ATen/Parallel.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/softmax.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "fmnist/fmnist_data.h"
#include "fmnist/models.h"

namespace mlflow::serve {
namespace {

class ClassifierPredictor final : public Predictor {
 public:
  ClassifierPredictor(fmnist::Classifier model, ModelInfo info, double mean, double std_dev)
      : model_(std::move(model)), info_(std::move(info)), mean_(mean), std_(std_dev) {}

  const ModelInfo& info() const override { return info_; }

  StatusOr<std::vector<float>> predict(const float* images, std::int64_t n) override {
    if (n <= 0) return std::vector<float>{};
    try {
      c10::InferenceMode guard;
      // from_blob does not copy; the normalisation below makes the tensor the model reads.
      auto input = at::from_blob(const_cast<float*>(images), {n, 1, kImageSide, kImageSide},
                                 at::TensorOptions().dtype(at::kFloat));
      auto normalised = (input - mean_) / std_;
      auto probs = at::softmax(model_->forward(normalised), 1).contiguous();
      std::vector<float> out(static_cast<std::size_t>(probs.numel()));
      std::memcpy(out.data(), probs.data_ptr<float>(), out.size() * sizeof(float));
      return out;
    } catch (const std::exception& e) {
      const std::string msg = e.what();
      return Status(StatusCode::kInternal, "inference failed: " + msg.substr(0, msg.find('\n')));
    }
  }

 private:
  fmnist::Classifier model_;
  ModelInfo info_;
  double mean_;
  double std_;
};

}  // namespace

void set_inference_threads(int threads) {
  at::set_num_threads(
      threads > 0 ? threads : static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
}

StatusOr<std::unique_ptr<Predictor>> make_classifier_predictor(const libtorch::LocalModel& model,
                                                               ModelInfo info) {
  const auto& flavor = model.flavor;
  const std::vector<std::int64_t> want_shape = {1, kImageSide, kImageSide};
  if (flavor.input_shape != want_shape || flavor.input_dtype != "float32") {
    return Status(
        StatusCode::kInvalidArgument,
        fmt::format("{}: the server serves float32 1x28x28 image classifiers; the model "
                    "reads {} {}",
                    model.source_uri, flavor.input_dtype, fmt::join(flavor.input_shape, "x")));
  }
  auto config = fmnist::ModelConfig::from_json(flavor.config_json, model.source_uri);
  if (!config.ok()) return config.status();
  if (config->num_classes != fmnist::kFmnistNumClasses) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{}: the model has {} outputs, not the {} Fashion-MNIST classes (a "
                              "pretraining model?)",
                              model.source_uri, config->num_classes, fmnist::kFmnistNumClasses));
  }
  MLFLOW_CPP_RETURN_IF_ERROR(fmnist::validate_model_config(*config));
  // Models logged before the flavor carried its normalisation were all trained with these.
  const double mean = flavor.input_mean.empty() ? fmnist::kFmnistPixelMean : flavor.input_mean[0];
  const double std_dev = flavor.input_std.empty() ? fmnist::kFmnistPixelStd : flavor.input_std[0];
  try {
    fmnist::Classifier net(*config);
    MLFLOW_CPP_RETURN_IF_ERROR(fmnist::load_weights(net, model.weights_path));
    net->eval();
    info.architecture = flavor.architecture;
    info.class_names = flavor.class_names;
    if (info.class_names.size() != static_cast<std::size_t>(fmnist::kFmnistNumClasses)) {
      info.class_names.assign(fmnist::kFmnistClassNames.begin(), fmnist::kFmnistClassNames.end());
    }
    info.local_dir = model.dir;
    if (info.model_id.empty()) info.model_id = model.model_id;
    return std::unique_ptr<Predictor>(
        new ClassifierPredictor(std::move(net), std::move(info), mean, std_dev));
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    return Status(StatusCode::kInvalidArgument,
                  model.source_uri + ": cannot build the model: " + msg.substr(0, msg.find('\n')));
  }
}

}  // namespace mlflow::serve

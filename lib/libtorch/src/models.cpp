// SPDX-License-Identifier: Apache-2.0
// SmallCNN and MobileNetV2 for 28x28 grayscale, freezing, and weight archives.
#include "mlflow/libtorch/models.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/serialize/archive.h>
#include <torch/utils.h>
#include <torch/version.h>

namespace mlflow::libtorch {
namespace {

namespace nn = torch::nn;

nn::Sequential conv_bn(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                       std::int64_t groups, bool activation) {
  nn::Sequential s(nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                                  .stride(stride)
                                  .padding(kernel / 2)
                                  .groups(groups)
                                  .bias(false)),
                   nn::BatchNorm2d(out));
  if (activation) s->push_back(nn::ReLU6());
  return s;
}

// MobileNetV2's block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection; a residual when shapes match.
class InvertedResidualImpl : public nn::Module {
 public:
  InvertedResidualImpl(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t expand)
      : residual_(stride == 1 && in == out) {
    const std::int64_t hidden = in * expand;
    nn::Sequential layers;
    if (expand != 1) layers->extend(*conv_bn(in, hidden, 1, 1, 1, true));
    layers->extend(*conv_bn(hidden, hidden, 3, stride, hidden, true));
    layers->extend(*conv_bn(hidden, out, 1, 1, 1, false));
    block_ = register_module("block", layers);
  }
  at::Tensor forward(const at::Tensor& x) { return residual_ ? x + block_->forward(x) : block_->forward(x); }

 private:
  bool residual_;
  nn::Sequential block_{nullptr};
};
TORCH_MODULE(InvertedResidual);

// Channels scaled by the width multiplier, rounded to a multiple of 8 as in the MobileNetV2 paper.
std::int64_t scaled(std::int64_t channels, double width) {
  const auto v = std::max<std::int64_t>(8, static_cast<std::int64_t>(channels * width + 4) / 8 * 8);
  return v < 0.9 * channels * width ? v + 8 : v;
}

// Two conv blocks (conv, batch norm, ReLU, 2x2 max pool): 28x28 -> 14x14 -> 7x7, 64 channels.
std::pair<nn::Sequential, std::int64_t> small_cnn_backbone() {
  nn::Sequential s(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1).bias(false)), nn::BatchNorm2d(32), nn::ReLU(),
                   nn::MaxPool2d(2),
                   nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1).bias(false)), nn::BatchNorm2d(64), nn::ReLU(),
                   nn::MaxPool2d(2), nn::Flatten());
  return {s, 64 * 7 * 7};
}

// MobileNetV2 with the paper's stem and stages (strides 2,1,2,2,2,1,2,1), one input channel: 28x28 ends at 1x1.
// A stride-1 stem (28x28 through the first stages) costs 4x the multiply-adds and measured 2x slower per
// epoch on 2 cores (187 vs 371 img/s), too slow for sweeps on CPU.
std::pair<nn::Sequential, std::int64_t> mobilenet_v2_backbone(double width) {
  struct Stage {
    std::int64_t expand, channels, repeats, stride;
  };
  const Stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                          {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  std::int64_t in = scaled(32, width);
  nn::Sequential s;
  s->extend(*conv_bn(1, in, 3, 2, 1, true));
  for (const Stage& st : stages) {
    const std::int64_t out = scaled(st.channels, width);
    for (std::int64_t i = 0; i < st.repeats; ++i) {
      s->push_back(InvertedResidual(in, out, i == 0 ? st.stride : 1, st.expand));
      in = out;
    }
  }
  const std::int64_t last = width > 1.0 ? scaled(1280, width) : 1280;
  s->extend(*conv_bn(in, last, 1, 1, 1, true));
  s->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
  s->push_back(nn::Flatten());
  return {s, last};
}

nn::Sequential make_head(std::int64_t features, const ModelConfig& config) {
  const std::int64_t hidden = config.architecture == kSmallCnn ? 128 : 256;
  return nn::Sequential(nn::Linear(features, hidden), nn::ReLU(), nn::Dropout(config.dropout),
                        nn::Linear(hidden, config.num_classes));
}

Status internal_error(const std::string& what, const std::string& path, const std::exception& e) {
  std::string msg = e.what();
  msg = msg.substr(0, msg.find('\n'));  // LibTorch appends a C++ stack trace
  return Status(StatusCode::kInvalidArgument, what + " '" + path + "': " + msg);
}

Status save_module(nn::Module& module, const std::string& path) {
  const std::string part = path + ".part";
  try {
    torch::serialize::OutputArchive archive;
    module.save(archive);
    archive.save_to(part);
  } catch (const std::exception& e) {
    std::remove(part.c_str());
    return Status(StatusCode::kInternal, "cannot write weights '" + path + "': " + e.what());
  }
  std::error_code ec;
  std::filesystem::rename(part, path, ec);
  if (ec) {
    std::remove(part.c_str());
    return Status(StatusCode::kInternal, "cannot write weights '" + path + "': " + ec.message());
  }
  return ok_status();
}

Status load_module(nn::Module& module, const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status(StatusCode::kNotFound, what + " '" + path + "': no such file");
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    module.load(archive);
  } catch (const std::exception& e) {
    return internal_error("cannot load " + what, path, e);
  }
  return ok_status();
}

}  // namespace

std::string ModelConfig::to_json() const {
  return nlohmann::json{{"architecture", architecture},
                        {"width_multiplier", width_multiplier},
                        {"num_classes", num_classes},
                        {"dropout", dropout}}
      .dump();
}

StatusOr<ModelConfig> ModelConfig::from_json(const std::string& json_text, const std::string& source) {
  ModelConfig c;
  try {
    const auto j = nlohmann::json::parse(json_text);
    if (!j.is_object()) throw std::invalid_argument("not a JSON object");
    c.architecture = j.value("architecture", c.architecture);
    c.width_multiplier = j.value("width_multiplier", c.width_multiplier);
    c.num_classes = j.value("num_classes", c.num_classes);
    c.dropout = j.value("dropout", c.dropout);
  } catch (const std::exception& e) {
    return Status(StatusCode::kInvalidArgument, "model config in " + source + ": " + e.what());
  }
  MLFLOW_CPP_RETURN_IF_ERROR(validate_model_config(c).with_context("model config in " + source));
  return c;
}

Status validate_model_config(const ModelConfig& c) {
  auto bad = [](const std::string& m) { return Status(StatusCode::kInvalidArgument, m); };
  if (c.architecture != kSmallCnn && c.architecture != kMobileNetV2) {
    return bad("model: unknown architecture '" + c.architecture + "' (expected small_cnn or mobilenet_v2)");
  }
  if (!(c.width_multiplier >= 0.25 && c.width_multiplier <= 2.0)) {
    return bad("width_multiplier: " + std::to_string(c.width_multiplier) + " is outside [0.25, 2]");
  }
  if (c.num_classes < 2) return bad("num_classes: must be at least 2, got " + std::to_string(c.num_classes));
  if (!(c.dropout >= 0.0 && c.dropout < 1.0)) {
    return bad("dropout: " + std::to_string(c.dropout) + " is outside [0, 1)");
  }
  return ok_status();
}

ClassifierImpl::ClassifierImpl(ModelConfig config) : config_(std::move(config)) {
  if (!validate_model_config(config_).ok()) throw std::invalid_argument(validate_model_config(config_).message());
  auto [b, features] =
      config_.architecture == kSmallCnn ? small_cnn_backbone() : mobilenet_v2_backbone(config_.width_multiplier);
  feature_size_ = features;
  backbone = register_module("backbone", b);
  head = register_module("head", make_head(features, config_));
}

at::Tensor ClassifierImpl::features(const at::Tensor& images) { return backbone->forward(images); }
at::Tensor ClassifierImpl::classify(const at::Tensor& f) { return head->forward(f); }
at::Tensor ClassifierImpl::forward(const at::Tensor& images) { return classify(features(images)); }

void ClassifierImpl::set_backbone_frozen(bool frozen) {
  frozen_ = frozen;
  for (auto& p : backbone->parameters()) p.set_requires_grad(!frozen);
  train(is_training());
}

void ClassifierImpl::train(bool on) {
  torch::nn::Module::train(on);
  // Running statistics of a frozen backbone must not drift with the new data.
  if (frozen_) backbone->train(false);
}

StatusOr<Classifier> make_classifier(const ModelConfig& config, std::uint64_t seed) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_model_config(config));
  torch::manual_seed(seed);
  return Classifier(config);
}

std::int64_t count_parameters(const torch::nn::Module& module, bool trainable_only) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) {
    if (!trainable_only || p.requires_grad()) n += p.numel();
  }
  return n;
}

Status save_weights(Classifier& model, const std::string& path) { return save_module(*model, path); }
Status load_weights(Classifier& model, const std::string& path) { return load_module(*model, path, "model weights"); }
Status save_backbone(Classifier& model, const std::string& path) { return save_module(*model->backbone, path); }
Status load_backbone(Classifier& model, const std::string& path) {
  return load_module(*model->backbone, path, "backbone weights");
}

Status copy_backbone(Classifier& from, Classifier& to) {
  auto src_p = from->backbone->named_parameters(true);
  auto src_b = from->backbone->named_buffers(true);
  auto dst_p = to->backbone->named_parameters(true);
  auto dst_b = to->backbone->named_buffers(true);
  if (src_p.size() != dst_p.size() || src_b.size() != dst_b.size()) {
    return Status(StatusCode::kInvalidArgument,
                  "backbones differ: " + from->config().architecture + " -> " + to->config().architecture);
  }
  torch::NoGradGuard no_grad;
  auto copy = [](auto& src, auto& dst) -> Status {
    for (const auto& item : src) {
      at::Tensor* d = dst.find(item.key());
      if (d == nullptr || !d->sizes().equals(item.value().sizes())) {
        return Status(StatusCode::kInvalidArgument, "backbones differ at '" + item.key() + "'");
      }
      d->copy_(item.value());
    }
    return ok_status();
  };
  MLFLOW_CPP_RETURN_IF_ERROR(copy(src_p, dst_p));
  return copy(src_b, dst_b);
}

std::string libtorch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace mlflow::libtorch

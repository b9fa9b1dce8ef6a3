// SPDX-License-Identifier: Apache-2.0
// SmallCNN and MobileNetV2 for 28x28 grayscale, freezing, and weight archives.
#include "fmnist/models.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <nlohmann/json.hpp>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/utils.h>
#include <torch/version.h>

#include "inverted_residual.h"
#include "mlflow/libtorch/module_io.h"

namespace mlflow::fmnist {
namespace {

namespace nn = torch::nn;

// Channels scaled by the width multiplier, rounded to a multiple of 8 as in the MobileNetV2 paper.
std::int64_t scaled(std::int64_t channels, double width) {
  const auto v = std::max<std::int64_t>(8, static_cast<std::int64_t>(channels * width + 4) / 8 * 8);
  return v < 0.9 * channels * width ? v + 8 : v;
}

// Two conv blocks (conv, batch norm, ReLU, 2x2 max pool): 28x28 -> 14x14 -> 7x7, 64 channels.
std::pair<nn::Sequential, std::int64_t> small_cnn_backbone() {
  nn::Sequential s(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1).bias(false)),
                   nn::BatchNorm2d(32), nn::ReLU(), nn::MaxPool2d(2),
                   nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1).bias(false)),
                   nn::BatchNorm2d(64), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten());
  return {s, 64 * 7 * 7};
}

// MobileNetV2's stages (expansion, channels, blocks, first block's stride) and the strides of each
// layout.
struct Stage {
  std::int64_t expand, channels, repeats;
};
constexpr Stage kStages[] = {{1, 16, 1}, {6, 24, 2},  {6, 32, 3}, {6, 64, 4},
                             {6, 96, 3}, {6, 160, 3}, {6, 320, 1}};
struct Layout {
  std::int64_t stem_stride;
  std::int64_t stage_strides[7];
};
// The paper's (ImageNet, 224x224): 28x28 is 1x1 before the last stage.
constexpr Layout kImagenetLayout = {2, {1, 2, 2, 2, 1, 2, 1}};
// For 28x28 images (as CIFAR-style MobileNetV2s do for 32x32): a stride-1 stem, total stride 16, so
// the stages see 28, 28, 14, 7, 4, 4, 2, 2 pixels; 4.4x the multiply-adds of the paper's layout at
// width 0.5.
constexpr Layout kSmallLayout = {1, {1, 2, 2, 2, 1, 2, 1}};

// Where a stage ends: its last block's index in the Sequential, its channels and its side in pixels
// (28x28 in).
struct StageEnd {
  std::int64_t index, channels, side;
};

// Stem and inverted-residual blocks; `ends` gets each stage's end.
nn::Sequential mobilenet_v2_blocks(double width, const Layout& layout,
                                   std::vector<StageEnd>& ends) {
  std::int64_t in = scaled(32, width);
  std::int64_t side =
      (28 + layout.stem_stride - 1) / layout.stem_stride;  // 3x3, padding 1: ceil(n / stride)
  nn::Sequential s;
  s->extend(*conv_bn(1, in, 3, layout.stem_stride, 1, true));
  for (std::size_t k = 0; k < std::size(kStages); ++k) {
    const Stage& st = kStages[k];
    const std::int64_t out = scaled(st.channels, width);
    for (std::int64_t i = 0; i < st.repeats; ++i) {
      s->push_back(InvertedResidual(in, out, i == 0 ? layout.stage_strides[k] : 1, st.expand));
      in = out;
    }
    side = (side + layout.stage_strides[k] - 1) / layout.stage_strides[k];
    ends.push_back({static_cast<std::int64_t>(s->size()) - 1, out, side});
  }
  return s;
}

// The paper's network: a 1x1 convolution to 1280 channels and global average pooling after the last
// stage.
std::pair<nn::Sequential, std::int64_t> mobilenet_v2_imagenet(double width) {
  std::vector<StageEnd> ends;
  nn::Sequential s = mobilenet_v2_blocks(width, kImagenetLayout, ends);
  const std::int64_t in = ends.back().channels;
  const std::int64_t last = width > 1.0 ? scaled(1280, width) : 1280;
  s->extend(*conv_bn(in, last, 1, 1, 1, true));
  s->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
  s->push_back(nn::Flatten());
  return {s, last};
}

// No backbone: the head sees the 784 normalised pixels (the controls of the frozen-backbone
// experiment).
std::pair<nn::Sequential, std::int64_t> pixels_backbone() {
  return {nn::Sequential(nn::Flatten()), 28 * 28};
}

// Features pooled from several stages need a common scale before a head trained on them: the head
// starts with a batch norm there (and on raw pixels, so that the pixel control has exactly the same
// head).
bool head_normalises_input(const ModelConfig& c) {
  return c.architecture == kPixels || (c.architecture == kMobileNetV2 && c.layout == kLayoutSmall);
}

nn::Sequential make_head(std::int64_t features, const ModelConfig& config) {
  nn::Sequential head;
  if (head_normalises_input(config)) head->push_back(nn::BatchNorm1d(features));
  if (config.head == kHeadLinear) {
    head->push_back(nn::Linear(features, config.num_classes));
    return head;
  }
  const std::int64_t hidden = config.architecture == kSmallCnn ? 128 : 256;
  head->push_back(nn::Linear(features, hidden));
  head->push_back(nn::ReLU());
  head->push_back(nn::Dropout(config.dropout));
  head->push_back(nn::Linear(hidden, config.num_classes));
  return head;
}

}  // namespace

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

InvertedResidualImpl::InvertedResidualImpl(std::int64_t in, std::int64_t out, std::int64_t stride,
                                           std::int64_t expand)
    : residual_(stride == 1 && in == out) {
  const std::int64_t hidden = in * expand;
  nn::Sequential layers;
  if (expand != 1) layers->extend(*conv_bn(in, hidden, 1, 1, 1, true));
  layers->extend(*conv_bn(hidden, hidden, 3, stride, hidden, true));
  layers->extend(*conv_bn(hidden, out, 1, 1, 1, false));
  block_ = register_module("block", layers);
}

std::string ModelConfig::to_json() const {
  return nlohmann::json{{"architecture", architecture},
                        {"width_multiplier", width_multiplier},
                        {"num_classes", num_classes},
                        {"dropout", dropout},
                        {"layout", layout},
                        {"head", head},
                        {"input", input}}
      .dump();
}

StatusOr<ModelConfig> ModelConfig::from_json(const std::string& json_text,
                                             const std::string& source) {
  ModelConfig c;
  try {
    const auto j = nlohmann::json::parse(json_text);
    if (!j.is_object()) throw std::invalid_argument("not a JSON object");
    c.architecture = j.value("architecture", c.architecture);
    c.width_multiplier = j.value("width_multiplier", c.width_multiplier);
    c.num_classes = j.value("num_classes", c.num_classes);
    c.dropout = j.value("dropout", c.dropout);
    // Models saved before layouts existed are the paper's MobileNetV2 with the MLP head.
    c.layout = j.value("layout", std::string(kLayoutImagenet));
    c.head = j.value("head", std::string(kHeadMlp));
    c.input = j.value("input", std::string(kFmnistInput));  // older models read the same
  } catch (const std::exception& e) {
    return Status(StatusCode::kInvalidArgument, "model config in " + source + ": " + e.what());
  }
  MLFLOW_CPP_RETURN_IF_ERROR(validate_model_config(c).with_context("model config in " + source));
  return c;
}

Status validate_model_config(const ModelConfig& c) {
  auto bad = [](const std::string& m) { return Status(StatusCode::kInvalidArgument, m); };
  if (c.architecture != kSmallCnn && c.architecture != kMobileNetV2 && c.architecture != kPixels) {
    return bad("model: unknown architecture '" + c.architecture +
               "' (expected small_cnn, mobilenet_v2 or pixels)");
  }
  if (c.layout != kLayoutSmall && c.layout != kLayoutImagenet) {
    return bad("layout: unknown MobileNetV2 layout '" + c.layout +
               "' (expected small or imagenet)");
  }
  if (c.head != kHeadMlp && c.head != kHeadLinear) {
    return bad("head: unknown head '" + c.head + "' (expected mlp or linear)");
  }
  if (!(c.width_multiplier >= 0.25 && c.width_multiplier <= 2.0)) {
    return bad("width_multiplier: " + std::to_string(c.width_multiplier) + " is outside [0.25, 2]");
  }
  if (c.num_classes < 2)
    return bad("num_classes: must be at least 2, got " + std::to_string(c.num_classes));
  if (!(c.dropout >= 0.0 && c.dropout < 1.0)) {
    return bad("dropout: " + std::to_string(c.dropout) + " is outside [0, 1)");
  }
  return ok_status();
}

ClassifierImpl::ClassifierImpl(ModelConfig config) : config_(std::move(config)) {
  if (!validate_model_config(config_).ok())
    throw std::invalid_argument(validate_model_config(config_).message());
  nn::Sequential b{nullptr};
  if (config_.architecture == kSmallCnn) {
    std::tie(b, feature_size_) = small_cnn_backbone();
  } else if (config_.architecture == kPixels) {
    std::tie(b, feature_size_) = pixels_backbone();
  } else if (config_.layout == kLayoutImagenet) {
    std::tie(b, feature_size_) = mobilenet_v2_imagenet(config_.width_multiplier);
  } else {
    // The last five stages' outputs, each average-pooled to at most kTapPool x kTapPool,
    // concatenated: a pretext task shapes the last stages most, earlier ones keep more general
    // information, and Fashion-MNIST's classes differ by where things are (sleeves, collars,
    // heels), which global pooling would average away.
    std::vector<StageEnd> ends;
    b = mobilenet_v2_blocks(config_.width_multiplier, kSmallLayout, ends);
    for (std::size_t k = 2; k < ends.size(); ++k) {
      const std::int64_t side = std::min(kTapPool, ends[k].side);
      taps_.push_back({ends[k].index, side});
      feature_size_ += ends[k].channels * side * side;
    }
    embedding_size_ = ends.back().channels;
  }
  backbone = register_module("backbone", b);
  head = register_module("head", make_head(feature_size_, config_));
}

std::vector<at::Tensor> ClassifierImpl::tapped(const at::Tensor& images) {
  std::vector<at::Tensor> outputs;
  at::Tensor x = images;
  std::size_t next = 0;
  std::int64_t index = 0;
  for (auto& layer : *backbone) {
    x = layer.forward(x);
    if (next < taps_.size() && index == taps_[next].index) {
      outputs.push_back(x);
      ++next;
    }
    ++index;
  }
  return outputs;
}

at::Tensor ClassifierImpl::features(const at::Tensor& images) {
  if (taps_.empty()) return backbone->forward(images);
  std::vector<at::Tensor> outputs = tapped(images);
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    outputs[k] = at::adaptive_avg_pool2d(outputs[k], {taps_[k].side, taps_[k].side}).flatten(1);
  }
  return at::cat(outputs, 1);
}

at::Tensor ClassifierImpl::embedding(const at::Tensor& images) {
  if (taps_.empty()) return backbone->forward(images);
  return at::adaptive_avg_pool2d(tapped(images).back(), {1, 1}).flatten(1);
}
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

Status save_weights(Classifier& model, const std::string& path) {
  return libtorch::save_module(*model, path);
}
Status load_weights(Classifier& model, const std::string& path) {
  return libtorch::load_module(*model, path, "model weights");
}
StatusOr<Classifier> load_classifier(const std::string& config_json,
                                     const std::string& weights_path) {
  auto config = ModelConfig::from_json(config_json, weights_path);
  if (!config.ok()) return config.status();
  Classifier model(*config);
  MLFLOW_CPP_RETURN_IF_ERROR(load_weights(model, weights_path));
  return model;
}
Status save_backbone(Classifier& model, const std::string& path) {
  return libtorch::save_module(*model->backbone, path);
}
Status load_backbone(Classifier& model, const std::string& path) {
  return libtorch::load_module(*model->backbone, path, "backbone weights");
}

namespace {
std::string shape_text(const at::Tensor& t) {
  std::string out = "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) out += (i > 0 ? ", " : "") + std::to_string(t.size(i));
  return out + "]";
}
}  // namespace

Status copy_backbone(Classifier& from, Classifier& to) {
  auto src_p = from->backbone->named_parameters(true);
  auto src_b = from->backbone->named_buffers(true);
  auto dst_p = to->backbone->named_parameters(true);
  auto dst_b = to->backbone->named_buffers(true);
  // Every tensor is checked before any is copied: a mismatch leaves `to` as it was.
  auto check = [](auto& src, auto& dst) -> Status {
    for (const auto& item : src) {
      const at::Tensor* d = dst.find(item.key());
      if (d == nullptr) {
        return Status(StatusCode::kInvalidArgument, "backbones differ: the weights have '" +
                                                        item.key() + "', the model does not");
      }
      if (!d->sizes().equals(item.value().sizes())) {
        return Status(StatusCode::kInvalidArgument,
                      "backbones differ at '" + item.key() + "': the weights' shape " +
                          shape_text(item.value()) + ", the model's " + shape_text(*d));
      }
    }
    for (const auto& item : dst) {
      if (src.find(item.key()) == nullptr) {
        return Status(StatusCode::kInvalidArgument,
                      "backbones differ: the model has '" + item.key() + "', the weights do not");
      }
    }
    return ok_status();
  };
  MLFLOW_CPP_RETURN_IF_ERROR(check(src_p, dst_p));
  MLFLOW_CPP_RETURN_IF_ERROR(check(src_b, dst_b));
  torch::NoGradGuard no_grad;
  for (const auto& item : src_p) dst_p.find(item.key())->copy_(item.value());
  for (const auto& item : src_b) dst_b.find(item.key())->copy_(item.value());
  return ok_status();
}

std::string libtorch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace mlflow::fmnist

// SPDX-License-Identifier: Apache-2.0
// Fashion-MNIST classifiers built as `backbone` + `head`: SmallCNN and MobileNetV2 for 28x28
// grayscale.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "fmnist/train_config.h"
#include "mlflow/status.h"

namespace mlflow::fmnist {

/// The preprocessing of every model here (fmnist_tensors.h): pixel / 255, minus 0.2860406, divided
/// by 0.3530242.
inline constexpr const char* kFmnistInput = "fashion-mnist 1x28x28 (x/255-0.2860406)/0.3530242";

/// What to build. Serialised into the MLmodel file so that a model can be rebuilt before its
/// weights load.
struct ModelConfig {
  std::string architecture = kSmallCnn;  ///< kSmallCnn or kMobileNetV2
  double width_multiplier = 1.0;         ///< MobileNetV2 channel multiplier, in [0.25, 2]
  std::int64_t num_classes = 10;         ///< outputs of the head (4 for rotation pretraining)
  double dropout = 0.25;                 ///< before the head's last layer, in [0, 1)
  std::string layout =
      kLayoutSmall;  ///< MobileNetV2 strides and features: kLayoutSmall or kLayoutImagenet
  std::string head = kHeadMlp;  ///< kHeadMlp (hidden layer, dropout) or kHeadLinear
  /// What the model reads: the preprocessing its weights were trained on. A backbone is only reused
  /// by a model that reads the same (kFmnistInput: 28x28 grey, x / 255 normalised by the training
  /// set's mean/std).
  std::string input = kFmnistInput;

  /// {"architecture": ..., "width_multiplier": ..., "num_classes": ..., "dropout": ..., "layout":
  /// ..., "head": ...}
  std::string to_json() const;
  /// Inverse of to_json(); missing keys keep their defaults, except a missing layout, which is
  /// kLayoutImagenet (models saved before layouts existed). kInvalidArgument naming `source` on bad
  /// JSON.
  static StatusOr<ModelConfig> from_json(const std::string& json_text, const std::string& source);
};

/// kInvalidArgument naming the field when `config` cannot be built (unknown architecture, bad
/// width...).
Status validate_model_config(const ModelConfig& config);

/// A classifier whose `backbone` maps B x 1 x 28 x 28 images to B x feature_size() features and
/// whose `head` maps features to B x num_classes logits. A MobileNetV2 of kLayoutSmall takes its
/// features from the outputs of its last five stages, each average-pooled to at most 4x4 and
/// concatenated; the other models from the backbone's output. Thread-safety: like any
/// torch::nn::Module.
class ClassifierImpl : public torch::nn::Module {
 public:
  /// Builds the layers (call validate_model_config() first; an invalid config throws
  /// std::invalid_argument).
  explicit ClassifierImpl(ModelConfig config);

  at::Tensor forward(const at::Tensor& images);
  at::Tensor features(const at::Tensor& images);
  at::Tensor classify(const at::Tensor& features);
  /// One vector per image for contrastive pretraining: the last stage's output, globally
  /// average-pooled (B x embedding_size()); the same as features() for models without stage taps.
  at::Tensor embedding(const at::Tensor& images);
  std::int64_t embedding_size() const {
    return embedding_size_ > 0 ? embedding_size_ : feature_size_;
  }

  /// Frozen: backbone parameters get no gradient and its batch norm stays in eval mode even in
  /// train().
  void set_backbone_frozen(bool frozen);
  bool backbone_frozen() const { return frozen_; }
  void train(bool on = true) override;

  const ModelConfig& config() const { return config_; }
  std::int64_t feature_size() const { return feature_size_; }

  torch::nn::Sequential backbone{nullptr};
  torch::nn::Sequential head{nullptr};

  /// A backbone layer whose output goes into the features.
  struct Tap {
    std::int64_t index;  ///< in `backbone`
    std::int64_t side;   ///< pooled to side x side
  };
  /// The layers whose outputs make the features, in order (empty: the backbone's output).
  const std::vector<Tap>& taps() const { return taps_; }

 private:
  static constexpr std::int64_t kTapPool =
      4;  ///< tapped stage outputs are pooled to at most kTapPool x kTapPool
  std::vector<at::Tensor> tapped(const at::Tensor& images);

  ModelConfig config_;
  std::vector<Tap> taps_;
  std::int64_t feature_size_ = 0;
  std::int64_t embedding_size_ = 0;
  bool frozen_ = false;
};
TORCH_MODULE(Classifier);

/// Validates `config`, seeds LibTorch's generator with `seed` and builds the model (same seed, same
/// weights).
StatusOr<Classifier> make_classifier(const ModelConfig& config, std::uint64_t seed);

/// Number of parameters (all, or only those requiring a gradient).
std::int64_t count_parameters(const torch::nn::Module& module, bool trainable_only = false);

/// Writes the whole model's parameters and buffers as a LibTorch archive (save_module: written
/// atomically). kInternal naming the path on failure.
Status save_weights(Classifier& model, const std::string& path);
/// Loads an archive written by save_weights() into a model of the same config; kInvalidArgument
/// naming the path when it is missing, not an archive, or of another architecture.
Status load_weights(Classifier& model, const std::string& path);

/// The model of `config_json` (ModelConfig::to_json()) with the weights at `weights_path`
/// (save_weights()) loaded. Errors name the weights file; config errors as
/// ModelConfig::from_json().
StatusOr<Classifier> load_classifier(const std::string& config_json,
                                     const std::string& weights_path);

/// The same for the backbone alone: a backbone archive can be shared between models with different
/// heads.
Status save_backbone(Classifier& model, const std::string& path);
Status load_backbone(Classifier& model, const std::string& path);
/// Copies `from`'s backbone parameters and buffers into `to`'s; kInvalidArgument when the backbones
/// differ.
Status copy_backbone(Classifier& from, Classifier& to);

/// LibTorch's version, e.g. "1.13.1".
std::string libtorch_version();

}  // namespace mlflow::fmnist

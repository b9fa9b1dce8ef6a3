// SPDX-License-Identifier: Apache-2.0
// The Fashion-MNIST trainer's settings: defaults, validation, `--key value` / YAML parsing, MLflow
// params. LibTorch-free, so that apps and the sweep engine can parse and check settings cheaply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::fmnist {

/// Architectures (see models.h).
inline constexpr const char* kSmallCnn = "small_cnn";
inline constexpr const char* kMobileNetV2 = "mobilenet_v2";
inline constexpr const char* kPixels =
    "pixels";  ///< no backbone: the head on raw pixels (a control)

/// MobileNetV2 layouts: strides for 28x28 images with pooled multi-stage features, or the paper's
/// (ImageNet).
inline constexpr const char* kLayoutSmall = "small";
inline constexpr const char* kLayoutImagenet = "imagenet";

/// Heads: a hidden layer with ReLU and dropout, or one linear layer (logistic regression on the
/// features).
inline constexpr const char* kHeadMlp = "mlp";
inline constexpr const char* kHeadLinear = "linear";

/// What the trainer learns: the ten classes, or the rotation of the image (self-supervised
/// pretraining).
inline constexpr const char* kTaskClassify = "classify";
inline constexpr const char* kTaskRotation = "rotation";
/// Contrastive pretraining (SimCLR): two augmented views of each image must find each other in the
/// batch.
inline constexpr const char* kTaskSimclr = "simclr";

/// True for the tasks that pretrain a backbone without class labels.
inline bool is_pretraining_task(const std::string& task) {
  return task == kTaskRotation || task == kTaskSimclr;
}

/// Every setting of a training run; names match the reference experiments and are logged as params.
struct TrainConfig {
  std::string task = kTaskClassify;   ///< classify | rotation | simclr
  std::string model = kSmallCnn;      ///< small_cnn | mobilenet_v2 | pixels
  double width_multiplier = 1.0;      ///< mobilenet_v2 only
  std::string layout = kLayoutSmall;  ///< mobilenet_v2 only: small | imagenet
  std::string head = kHeadMlp;        ///< mlp | linear
  std::int64_t batch_size = 64;
  double learning_rate = 1e-3;
  std::int64_t max_epochs = 15;
  std::string optimizer = "adam";  ///< adam | adamw | sgd (with momentum)
  double momentum = 0.9;           ///< sgd only
  double weight_decay = 0.0;
  std::string lr_schedule = "cosine";  ///< none | cosine (annealed to 0 over max_epochs)
  double dropout = 0.25;
  std::uint64_t seed = 42;  ///< weights, shuffling, dropout, augmentation
  std::uint64_t split_seed =
      42;  ///< which images are validation: fixed apart from `seed`, so seeds compare alike
  double train_val_split = 0.8;
  double temperature = 0.2;  ///< simclr only: softmax temperature of the contrastive loss
  bool frozen_backbone = false;
  std::string backbone_weights;  ///< file, runs:/..., models:/... ; empty = random init
  std::string
      initial_weights;  ///< a checkpoint directory (checkpoint.h) to start from, history included
  std::int64_t early_stopping_patience =
      0;                      ///< epochs without val_accuracy gain before stopping; 0 = off
  int threads = 0;            ///< intra-op threads; 0 = all cores
  bool augmentation = false;  ///< random crop with padding + horizontal flip
  bool feature_cache =
      true;  ///< frozen backbone, no augmentation: compute its features once, train the head
  std::int64_t train_limit = 0;  ///< use only the first N training images (0 = all); for quick runs
  std::string data_dir;          ///< empty: $MLFLOW_CPP_FMNIST_DIR, else Debian's path
};

/// One settable key: its name, a one-line description, and the values it takes (what
/// train_config_schema_json() describes to sweep_runner).
struct ConfigKey {
  std::string name;
  std::string help;
  std::string type;                  ///< int, float, bool, choice or string
  std::optional<double> min, max;    ///< int / float: the range set_config_value() enforces
  bool min_exclusive = false;        ///< min itself is refused
  std::vector<std::string> choices;  ///< choice: the accepted names
};
/// All keys accepted by set_config_value(), in a stable order (for --help and for flags).
const std::vector<ConfigKey>& train_config_keys();

/// Sets one key from text ("true"/"false", numbers, names). kInvalidArgument naming the key and the
/// value when the key is unknown or the value does not parse or is out of range.
Status set_config_value(TrainConfig& config, const std::string& key, const std::string& value);

/// Applies a YAML mapping of keys to scalars from `path` (a config file); kInvalidArgument naming
/// the file, line and key on an unknown key or a bad value, kNotFound when the file is missing.
Status apply_config_file(TrainConfig& config, const std::string& path);

/// Checks the whole config (ranges, combinations such as frozen_backbone without a model that has
/// one).
Status validate_train_config(const TrainConfig& config);

/// Every setting as MLflow params, values as set_config_value() reads them back.
std::vector<std::pair<std::string, std::string>> train_config_params(const TrainConfig& config);

/// The value of `key` as text; empty for an unknown key.
std::string config_value(const TrainConfig& config, const std::string& key);

}  // namespace mlflow::fmnist

// SPDX-License-Identifier: Apache-2.0
// What the server serves: a classifier of float32 [N, 1, 28, 28] images in the training scale
// (pixel / 255: 0 is the black background, 1 white), answering class probabilities. LibTorch-free:
// the LibTorch implementation is fmnist/classifier_predictor.h; tests use fakes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::serve {

/// Side of the square images every model here reads.
inline constexpr std::int64_t kImageSide = 28;
/// Floats per image: 1 x 28 x 28.
inline constexpr std::int64_t kImageSize = kImageSide * kImageSide;

/// Which model answers, as the page, /health, /metrics and the logs name it.
struct ModelInfo {
  std::string name;          ///< registered model name, or the logged model's name, or the path
  std::string version;       ///< registered version ("" when not from the registry)
  std::string alias;         ///< the alias it was resolved through ("" when none)
  std::string uri;           ///< what it was loaded from, e.g. models:/fmnist-classifier@champion
  std::string model_id;      ///< MLflow logged model id ("" when unknown)
  std::string run_id;        ///< source run ("" when unknown)
  std::string architecture;  ///< e.g. mobilenet_v2
  std::string local_dir;     ///< the directory holding its MLmodel (artifacts such as the drift
                             ///< reference sit beside it)
  std::vector<std::string> class_names;  ///< by class index
};

/// A loaded model. predict() is called by one thread at a time (the batcher's worker); info() from
/// any thread (it never changes after construction).
class Predictor {
 public:
  virtual ~Predictor() = default;
  virtual const ModelInfo& info() const = 0;
  /// `images` holds n x kImageSize floats in the training scale; returns n x classes probabilities
  /// (each row sums to 1). Errors are kInternal naming what failed.
  virtual StatusOr<std::vector<float>> predict(const float* images, std::int64_t n) = 0;
};

}  // namespace mlflow::serve

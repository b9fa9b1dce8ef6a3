// SPDX-License-Identifier: Apache-2.0
// A Predictor for tests: the probability of class k is (k == argmax rule), where the class is the
// image's first pixel x 10, so answers are predictable; it records the batch sizes it saw.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "predictor.h"

namespace mlflow::serve::testing {

class FakePredictor final : public Predictor {
 public:
  explicit FakePredictor(std::string version = "1", bool fail = false) : fail_(fail) {
    info_.name = "fake";
    info_.version = version;
    info_.class_names = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"};
  }
  /// With the ModelInfo given (its version is `version`).
  FakePredictor(std::string version, bool fail, ModelInfo info)
      : info_(std::move(info)), fail_(fail) {
    info_.version = std::move(version);
  }
  const ModelInfo& info() const override { return info_; }
  StatusOr<std::vector<float>> predict(const float* images, std::int64_t n) override {
    batches.push_back(n);
    if (fail_) return Status(StatusCode::kInternal, "inference failed: fake");
    std::vector<float> out(static_cast<std::size_t>(n) * 10, 0.0F);
    for (std::int64_t i = 0; i < n; ++i) {
      const int cls = std::clamp(static_cast<int>(images[i * kImageSize] * 10), 0, 9);
      out[static_cast<std::size_t>(i * 10 + cls)] = 1.0F;
    }
    return out;
  }
  std::vector<std::int64_t> batches;

 private:
  ModelInfo info_;
  bool fail_;
};

/// n images whose first pixels say their class (class / 10 + 0.05).
inline std::vector<float> images_of_classes(const std::vector<int>& classes) {
  std::vector<float> out(classes.size() * kImageSize, 0.0F);
  for (std::size_t i = 0; i < classes.size(); ++i) {
    out[i * kImageSize] = static_cast<float>(classes[i]) / 10.0F + 0.05F;
  }
  return out;
}

}  // namespace mlflow::serve::testing

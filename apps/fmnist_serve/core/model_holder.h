// SPDX-License-Identifier: Apache-2.0
// The model being served, swapped atomically when the registry moves: readers take a reference
// for the whole of a forward pass, so requests in flight finish on the model they started with.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

#include "predictor.h"

namespace mlflow::serve {

/// Holds the current model. Thread-safe.
class ModelHolder {
 public:
  /// The model now (null before the first load). The caller's reference keeps it alive.
  std::shared_ptr<Predictor> current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return model_;
  }
  /// Makes `model` the current one; the old one is freed when its last user lets go.
  void swap_in(std::shared_ptr<Predictor> model) {
    std::lock_guard<std::mutex> lock(mutex_);
    model_ = std::move(model);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<Predictor> model_;
};

}  // namespace mlflow::serve

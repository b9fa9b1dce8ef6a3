// SPDX-License-Identifier: Apache-2.0
// The real Fashion-MNIST files as splits (80/20, seed 42), loaded once per test executable.
#pragma once

#include <doctest/doctest.h>

#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_tensors.h"

namespace mlflow::testing {

inline const fmnist::FmnistSplits& real_fmnist_splits() {
  static const fmnist::FmnistSplits splits = [] {
    auto s = fmnist::load_fmnist_splits(fmnist::fmnist_data_dir(), {0.8, 42});
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    return std::move(*s);
  }();
  return splits;
}

}  // namespace mlflow::testing

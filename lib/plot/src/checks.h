// SPDX-License-Identifier: Apache-2.0
// Input checks shared by the charts; every message names the PNG path.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "mlflow/plot/charts.h"
#include "mlflow/status.h"

namespace mlflow::plot::internal {

inline constexpr int kMinSide = 64;
inline constexpr int kMaxSide = 8192;

inline Status invalid(const std::string& path, const std::string& message) {
  return Status(StatusCode::kInvalidArgument, "cannot plot '" + path + "': " + message);
}

inline Status check_path_and_size(const std::string& path, Size size) {
  if (path.empty()) return Status(StatusCode::kInvalidArgument, "PNG path is empty");
  if (size.width < kMinSide || size.width > kMaxSide || size.height < kMinSide ||
      size.height > kMaxSide) {
    return invalid(path, "image size " + std::to_string(size.width) + "x" +
                             std::to_string(size.height) + " is outside " +
                             std::to_string(kMinSide) + ".." + std::to_string(kMaxSide) +
                             " pixels per side");
  }
  return Status();
}

inline bool all_finite(const std::vector<double>& values) {
  for (double v : values) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

}  // namespace mlflow::plot::internal

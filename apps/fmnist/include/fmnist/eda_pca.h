// SPDX-License-Identifier: Apache-2.0
// Principal component analysis of flattened images (LibTorch's linear algebra behind a
// LibTorch-free interface).
#pragma once

#include <cstdint>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::fmnist {

/// A PCA fit and the fitted images' coordinates on the first two components.
struct PcaResult {
  /// Share of the total variance along each of the first components, descending, each in [0, 1]
  /// (all 0 when every image is the same). min(components, n, dim) values.
  std::vector<double> explained_variance_ratio;
  std::vector<double> x;  ///< per image, its coordinate on the first component (n values)
  std::vector<double> y;  ///< per image, its coordinate on the second component (n values)

  /// Share of the variance the 2-D projection keeps (the first two ratios summed).
  double explained_variance_2d() const {
    double sum = 0;
    for (std::size_t i = 0; i < explained_variance_ratio.size() && i < 2; ++i)
      sum += explained_variance_ratio[i];
    return sum;
  }
};

/// PCA of `n` images of `dim` bytes each (row after row in `pixels`), scaled to [0, 1] and centred
/// on their mean image, by LibTorch's linalg_eigh of the dim x dim covariance when n >= dim, else
/// by linalg_svd of the centred n x dim matrix (both give the same components up to rounding). Each
/// component's sign is fixed so that its largest loading is positive, so the same data always gives
/// the same picture. kInvalidArgument when n < 2, dim < 2, components < 2 or pixels.size() != n x
/// dim; kInternal when LibTorch fails. Thread-safety: may be called concurrently (LibTorch uses its
/// intra-op threads inside).
StatusOr<PcaResult> pca_2d(const std::vector<std::uint8_t>& pixels, std::int64_t n,
                           std::int64_t dim, int components = 10);

}  // namespace mlflow::fmnist

// SPDX-License-Identifier: Apache-2.0
// EDA statistics of one image split: seeded sampling, class counts, pixel histogram, mean images;
// LibTorch-free.
#pragma once

#include <cstdint>
#include <vector>

#include "fmnist/fmnist_data.h"
#include "mlflow/status.h"

namespace mlflow::fmnist {

/// Grey levels of an 8-bit pixel: the pixel histogram has one bin per level.
inline constexpr int kPixelLevels = 256;

/// `count` distinct rows of 0..n-1: the first `count` of seeded_permutation(n, seed), ascending, so
/// the same seed picks the same images everywhere. kInvalidArgument when count < 1 or count > n
/// ("sample of 70000 images is larger than the 60000 available"). Thread-safety: a pure function.
StatusOr<std::vector<std::int64_t>> sample_rows(std::int64_t n, std::int64_t count,
                                                std::uint64_t seed);

/// Rows `rows` of `part` (pixels and labels copied; the file names kept). Rows must be in
/// 0..part.n-1. Thread-safety: a pure function.
FmnistRaw select_rows(const FmnistRaw& part, const std::vector<std::int64_t>& rows);

/// How a set of labels spreads over the classes.
struct ClassDistribution {
  std::vector<std::int64_t> counts;  ///< one per class
  /// Largest class count over the smallest; an empty class counts as 1 so the figure stays finite.
  double imbalance = 0;
  std::vector<int> empty_classes;  ///< classes with no image, ascending
};

/// The class distribution of `labels`. kInvalidArgument when there is no label, when num_classes <
/// 1, or when a label is not below `num_classes` (naming its row). Thread-safety: a pure function.
StatusOr<ClassDistribution> class_distribution(const std::vector<std::uint8_t>& labels,
                                               int num_classes = kFmnistNumClasses);

/// What one split looks like.
struct SplitStats {
  std::int64_t images = 0;
  std::vector<std::int64_t> class_counts;  ///< one per class
  /// Largest class count over the smallest; an empty class counts as 1 so the figure stays finite.
  double imbalance = 0;
  std::vector<int> empty_classes;  ///< classes with no image, ascending
  std::vector<std::int64_t>
      pixel_histogram;             ///< kPixelLevels counts; they sum to images x rows x cols
  double pixel_mean = 0;           ///< over all pixels scaled to [0, 1]
  double pixel_std = 0;            ///< population standard deviation, same scale
  double background_fraction = 0;  ///< share of pixels at 0 (black background)
  /// Per class, the mean image (rows x cols values in 0..255, row-major); all zero for an empty
  /// class.
  std::vector<std::vector<double>> class_mean_images;
};

/// Computes the statistics of `split`. kInvalidArgument when it has no image, when pixels or labels
/// do not match n x rows x cols, or when a label is not below `num_classes` (naming its row).
/// Thread-safety: a pure function.
StatusOr<SplitStats> compute_split_stats(const FmnistRaw& split,
                                         int num_classes = kFmnistNumClasses);

}  // namespace mlflow::fmnist

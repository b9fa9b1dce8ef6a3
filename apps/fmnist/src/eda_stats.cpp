// SPDX-License-Identifier: Apache-2.0
// Sampling and per-split statistics for the exploratory data analysis.
#include "fmnist/eda_stats.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "mlflow/libtorch/seeded_shuffle.h"

namespace mlflow::fmnist {

StatusOr<std::vector<std::int64_t>> sample_rows(std::int64_t n, std::int64_t count,
                                                std::uint64_t seed) {
  if (count < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "a sample needs at least 1 image, not " + std::to_string(count));
  }
  if (count > n) {
    return Status(StatusCode::kInvalidArgument, "a sample of " + std::to_string(count) +
                                                    " images is larger than the " +
                                                    std::to_string(n) + " available");
  }
  std::vector<std::int64_t> rows = libtorch::seeded_permutation(n, seed);
  rows.resize(static_cast<std::size_t>(count));
  std::sort(rows.begin(), rows.end());
  return rows;
}

FmnistRaw select_rows(const FmnistRaw& part, const std::vector<std::int64_t>& rows) {
  FmnistRaw out;
  out.n = static_cast<std::int64_t>(rows.size());
  out.rows = part.rows;
  out.cols = part.cols;
  out.files = part.files;
  const auto image_bytes = static_cast<std::size_t>(part.rows * part.cols);
  out.pixels.reserve(rows.size() * image_bytes);
  out.labels.reserve(rows.size());
  for (std::int64_t r : rows) {
    const auto first = part.pixels.begin() +
                       static_cast<std::ptrdiff_t>(static_cast<std::size_t>(r) * image_bytes);
    out.pixels.insert(out.pixels.end(), first, first + static_cast<std::ptrdiff_t>(image_bytes));
    out.labels.push_back(part.labels[static_cast<std::size_t>(r)]);
  }
  return out;
}

StatusOr<ClassDistribution> class_distribution(const std::vector<std::uint8_t>& labels,
                                               int num_classes) {
  if (labels.empty() || num_classes < 1) {
    return Status(StatusCode::kInvalidArgument, "no labels, or fewer than one class");
  }
  ClassDistribution d;
  d.counts.assign(static_cast<std::size_t>(num_classes), 0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= num_classes) {
      return Status(StatusCode::kInvalidArgument, "image " + std::to_string(i) + " has label " +
                                                      std::to_string(labels[i]) + ", not below " +
                                                      std::to_string(num_classes));
    }
    ++d.counts[labels[i]];
  }
  std::int64_t largest = 0, smallest = static_cast<std::int64_t>(labels.size());
  for (int c = 0; c < num_classes; ++c) {
    const std::int64_t count = d.counts[static_cast<std::size_t>(c)];
    if (count == 0) d.empty_classes.push_back(c);
    largest = std::max(largest, count);
    smallest = std::min(smallest, std::max<std::int64_t>(count, 1));
  }
  d.imbalance = static_cast<double>(largest) / static_cast<double>(smallest);
  return d;
}

StatusOr<SplitStats> compute_split_stats(const FmnistRaw& split, int num_classes) {
  const auto image_bytes =
      static_cast<std::size_t>(std::max<std::int64_t>(split.rows * split.cols, 0));
  if (split.n < 1 || image_bytes == 0)
    return Status(StatusCode::kInvalidArgument, "the split has no image");
  const auto n = static_cast<std::size_t>(split.n);
  if (split.pixels.size() != n * image_bytes || split.labels.size() != n || num_classes < 1) {
    return Status(StatusCode::kInvalidArgument,
                  "the split has " + std::to_string(split.pixels.size()) + " pixels and " +
                      std::to_string(split.labels.size()) + " labels for " + std::to_string(n) +
                      " images");
  }
  auto classes = class_distribution(split.labels, num_classes);
  if (!classes.ok()) return classes.status();
  SplitStats s;
  s.images = split.n;
  s.class_counts = std::move(classes->counts);
  s.imbalance = classes->imbalance;
  s.empty_classes = std::move(classes->empty_classes);
  s.pixel_histogram.assign(kPixelLevels, 0);
  std::vector<std::vector<std::int64_t>> class_sums(static_cast<std::size_t>(num_classes),
                                                    std::vector<std::int64_t>(image_bytes, 0));
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::int64_t>& sums = class_sums[split.labels[i]];  // labels checked above
    const std::uint8_t* px = split.pixels.data() + i * image_bytes;
    for (std::size_t p = 0; p < image_bytes; ++p) {
      ++s.pixel_histogram[px[p]];
      sums[p] += px[p];
    }
  }

  // Moments from the histogram: integer sums, exact in double up to far more pixels than any split
  // holds.
  double sum = 0, sum_sq = 0;
  for (int v = 0; v < kPixelLevels; ++v) {
    sum += static_cast<double>(v) *
           static_cast<double>(s.pixel_histogram[static_cast<std::size_t>(v)]);
    sum_sq += static_cast<double>(v) * v *
              static_cast<double>(s.pixel_histogram[static_cast<std::size_t>(v)]);
  }
  const double pixels = static_cast<double>(n * image_bytes);
  s.pixel_mean = sum / pixels / 255.0;
  s.pixel_std =
      std::sqrt(std::max(0.0, sum_sq / pixels / (255.0 * 255.0) - s.pixel_mean * s.pixel_mean));
  s.background_fraction = static_cast<double>(s.pixel_histogram[0]) / pixels;

  for (int c = 0; c < num_classes; ++c) {
    const std::int64_t count = s.class_counts[static_cast<std::size_t>(c)];
    std::vector<double> mean(image_bytes, 0.0);
    if (count > 0) {
      const std::vector<std::int64_t>& sums = class_sums[static_cast<std::size_t>(c)];
      for (std::size_t p = 0; p < image_bytes; ++p)
        mean[p] = static_cast<double>(sums[p]) / static_cast<double>(count);
    }
    s.class_mean_images.push_back(std::move(mean));
  }
  return s;
}

}  // namespace mlflow::fmnist

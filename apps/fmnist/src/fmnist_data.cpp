// SPDX-License-Identifier: Apache-2.0
// Locates and loads the Fashion-MNIST parts and cuts the seeded train/validation split.
#include "fmnist/fmnist_data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "mlflow/libtorch/idx_reader.h"
#include "mlflow/libtorch/seeded_shuffle.h"

namespace mlflow::fmnist {
namespace {

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::string fmnist_data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv(kFmnistDirEnv); env != nullptr && *env != '\0') return env;
  return kFmnistDefaultDir;
}

FmnistFiles fmnist_files(const std::string& dir, FmnistPart part) {
  const std::string prefix = part == FmnistPart::kTrain ? "train" : "t10k";
  std::string base = dir;
  if (!base.empty() && base.back() != '/') base += '/';
  return {base + prefix + "-images-idx3-ubyte.gz", base + prefix + "-labels-idx1-ubyte.gz"};
}

StatusOr<FmnistRaw> load_fmnist_raw(const std::string& dir, FmnistPart part) {
  FmnistRaw raw;
  raw.files = fmnist_files(dir, part);
  auto images = libtorch::read_idx_images(raw.files.images, kFmnistRows, kFmnistCols);
  if (!images.ok()) return images.status();
  auto labels = libtorch::read_idx_labels(raw.files.labels, kFmnistNumClasses);
  if (!labels.ok()) return labels.status();
  if (static_cast<std::int64_t>(labels->size()) != images->n) {
    return Status(StatusCode::kInvalidArgument,
                  raw.files.images + " holds " + std::to_string(images->n) + " images but " +
                      raw.files.labels + " holds " + std::to_string(labels->size()) + " labels");
  }
  raw.n = images->n;
  raw.rows = images->rows;
  raw.cols = images->cols;
  raw.pixels = std::move(images->pixels);
  raw.labels = std::move(*labels);
  return raw;
}

StatusOr<SplitIndices> split_indices(std::int64_t n, const SplitOptions& options) {
  const double f = options.train_val_split;
  if (!(f > 0.0 && f < 1.0)) {
    return Status(StatusCode::kInvalidArgument,
                  "train_val_split must be between 0 and 1 (exclusive), got " + format_double(f));
  }
  if (n < 2) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot split " + std::to_string(n) + " images into training and validation");
  }
  const auto n_train = std::clamp<std::int64_t>(std::llround(f * static_cast<double>(n)), 1, n - 1);
  std::vector<std::int64_t> order = libtorch::seeded_permutation(n, options.seed);
  SplitIndices out;
  out.train.assign(order.begin(), order.begin() + n_train);
  out.validation.assign(order.begin() + n_train, order.end());
  // Sorted rows keep memory access sequential when the tensors are gathered; the epoch order is
  // shuffled later.
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.validation.begin(), out.validation.end());
  return out;
}

}  // namespace mlflow::fmnist

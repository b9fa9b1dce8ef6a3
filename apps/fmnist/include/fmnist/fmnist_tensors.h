// SPDX-License-Identifier: Apache-2.0
// Fashion-MNIST as in-memory LibTorch tensors: seeded train/validation split, batches and
// augmentation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "fmnist/fmnist_data.h"
#include "mlflow/status.h"

namespace mlflow::fmnist {

/// Images and labels of one split, on the CPU. (at::Tensor is torch::Tensor.)
struct TensorSet {
  at::Tensor
      images;  ///< float32 N x 1 x 28 x 28, (pixel / 255 - kFmnistPixelMean) / kFmnistPixelStd
  at::Tensor labels;  ///< int64 N, values 0..9
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

/// The three splits and where they came from.
struct FmnistSplits {
  TensorSet train;       ///< round(60000 * train_val_split) images of the official training part
  TensorSet validation;  ///< the other images of the official training part
  TensorSet test;        ///< the official 10 000 test images, in file order
  SplitIndices indices;  ///< rows of the official training part in `train` and `validation`
};

/// Converts raw bytes to normalised float images and int64 labels (copies; `raw` may be dropped
/// after).
TensorSet to_tensors(const FmnistRaw& raw);

/// The images of `set` back in the training scale (pixel / 255, as the model server takes them):
/// size() x 784 floats, row after row.
std::vector<float> training_scale_images(const TensorSet& set);

/// Builds the splits from raw parts (see split_indices()); kInvalidArgument on bad options.
StatusOr<FmnistSplits> make_splits(const FmnistRaw& train_part, const FmnistRaw& test_part,
                                   const SplitOptions& options);

/// Reads both parts from `dir` (see fmnist_data_dir()) and builds the splits; errors of
/// load_fmnist_raw().
StatusOr<FmnistSplits> load_fmnist_splits(const std::string& dir, const SplitOptions& options);

/// Optional training augmentation; off by default. Applied per batch with tensor ops, no per-image
/// loop.
struct Augmentation {
  bool enabled = false;
  std::int64_t crop_padding =
      2;  ///< pad each side with background, then crop 28x28 at a random offset
  bool horizontal_flip = true;  ///< mirror each image with probability 1/2
};

/// A batch: images B x 1 x 28 x 28 and labels B.
struct Batch {
  at::Tensor images;
  at::Tensor labels;
};

/// Rows [start, start + count) of `set` as views (narrow; no copy). Clamped to the end of the set.
Batch slice_batch(const TensorSet& set, std::int64_t start, std::int64_t count);

/// Rows `indices` (int64 tensor) of `set`, gathered with index_select.
Batch gather_batch(const TensorSet& set, const at::Tensor& indices);

/// Random crop (with `crop_padding` background padding) and horizontal flip of every image of
/// `images` (B x 1 x H x W, normalised), seeded: the same seed gives the same result. Returns
/// `images` itself when augmentation is disabled.
at::Tensor augment(const at::Tensor& images, const Augmentation& augmentation, std::uint64_t seed);

/// Batches over one TensorSet, epoch after epoch.
struct BatchOptions {
  std::int64_t batch_size = 64;
  bool shuffle = false;  ///< a new seeded order per epoch; off = file order, batches are views
  std::uint64_t seed =
      42;  ///< seeds shuffling and augmentation, mixed with the epoch and batch index
  Augmentation augmentation;  ///< for training only
};

/// Serves the batches of an epoch. Thread-safety: const methods may be called concurrently;
/// set_epoch not.
class BatchLoader {
 public:
  /// `set` must outlive the loader. batch_size < 1 is treated as 1.
  BatchLoader(const TensorSet& set, BatchOptions options);

  /// Chooses the epoch's order (when shuffling) and augmentation seeds. Epochs start at 0 or 1, as
  /// the caller likes.
  void set_epoch(std::int64_t epoch);
  std::int64_t num_batches() const;
  /// Batch `index` of the current epoch; the last one may be smaller.
  Batch batch(std::int64_t index) const;

 private:
  const TensorSet* set_;
  BatchOptions options_;
  std::int64_t epoch_ = 0;
  at::Tensor order_;  ///< int64 permutation of the current epoch when shuffling
};

}  // namespace mlflow::fmnist

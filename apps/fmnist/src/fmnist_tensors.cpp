// SPDX-License-Identifier: Apache-2.0
// Fashion-MNIST tensors: normalisation, the seeded split, batch slicing and batched augmentation.
// The only TU of the library that sees LibTorch; it includes per-operator headers, not
// <torch/torch.h>.
#include "fmnist/fmnist_tensors.h"

#include <algorithm>
#include <random>
#include <utility>

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/where.h>

#include "mlflow/libtorch/seeded_shuffle.h"

namespace mlflow::fmnist {
namespace {

// A CPU int64 tensor holding a copy of `v`.
at::Tensor to_index_tensor(const std::vector<std::int64_t>& v) {
  return at::from_blob(const_cast<std::int64_t*>(v.data()), {static_cast<std::int64_t>(v.size())},
                       at::kLong)
      .clone();
}

// Uint8 N x 1 x H x W to normalised float32 (a new tensor).
at::Tensor normalise(const at::Tensor& bytes) {
  return bytes.to(at::kFloat).div_(255.0).sub_(kFmnistPixelMean).div_(kFmnistPixelStd);
}

// Views of the raw bytes, without copying; valid while `raw` lives.
at::Tensor raw_images(const FmnistRaw& raw) {
  return at::from_blob(const_cast<std::uint8_t*>(raw.pixels.data()), {raw.n, 1, raw.rows, raw.cols},
                       at::kByte);
}
at::Tensor raw_labels(const FmnistRaw& raw) {
  return at::from_blob(const_cast<std::uint8_t*>(raw.labels.data()), {raw.n}, at::kByte);
}

// Rows `rows` of `raw`, selected as bytes before conversion so that only the subset is ever held as
// floats.
TensorSet select_rows(const FmnistRaw& raw, const std::vector<std::int64_t>& rows) {
  const at::Tensor idx = to_index_tensor(rows);
  return {normalise(raw_images(raw).index_select(0, idx)),
          raw_labels(raw).index_select(0, idx).to(at::kLong)};
}

}  // namespace

TensorSet to_tensors(const FmnistRaw& raw) {
  return {normalise(raw_images(raw)), raw_labels(raw).to(at::kLong)};
}

std::vector<float> training_scale_images(const TensorSet& set) {
  if (set.size() == 0) return {};
  const at::Tensor x = (set.images * kFmnistPixelStd + kFmnistPixelMean).contiguous();
  return {x.data_ptr<float>(), x.data_ptr<float>() + x.numel()};
}

StatusOr<FmnistSplits> make_splits(const FmnistRaw& train_part, const FmnistRaw& test_part,
                                   const SplitOptions& options) {
  auto indices = split_indices(train_part.n, options);
  if (!indices.ok()) return indices.status();
  FmnistSplits out;
  out.train = select_rows(train_part, indices->train);
  out.validation = select_rows(train_part, indices->validation);
  out.test = to_tensors(test_part);
  out.indices = std::move(*indices);
  return out;
}

StatusOr<FmnistSplits> load_fmnist_splits(const std::string& dir, const SplitOptions& options) {
  auto train_part = load_fmnist_raw(dir, FmnistPart::kTrain);
  if (!train_part.ok()) return train_part.status();
  auto test_part = load_fmnist_raw(dir, FmnistPart::kTest);
  if (!test_part.ok()) return test_part.status();
  return make_splits(*train_part, *test_part, options);
}

Batch slice_batch(const TensorSet& set, std::int64_t start, std::int64_t count) {
  const std::int64_t n = set.size();
  start = std::clamp<std::int64_t>(start, 0, n);
  count = std::clamp<std::int64_t>(count, 0, n - start);
  return {set.images.narrow(0, start, count), set.labels.narrow(0, start, count)};
}

Batch gather_batch(const TensorSet& set, const at::Tensor& indices) {
  return {set.images.index_select(0, indices), set.labels.index_select(0, indices)};
}

at::Tensor augment(const at::Tensor& images, const Augmentation& augmentation, std::uint64_t seed) {
  if (!augmentation.enabled || images.size(0) == 0) return images;
  const std::int64_t b = images.size(0), h = images.size(2), w = images.size(3);
  const std::int64_t pad = std::max<std::int64_t>(augmentation.crop_padding, 0);
  const std::int64_t hp = h + 2 * pad, wp = w + 2 * pad;

  // Per image: crop offsets in [0, 2 * pad] and a flip bit, drawn on the host (3 numbers per
  // image).
  std::mt19937_64 gen(seed);
  std::vector<std::int64_t> dy(b), dx(b), flip(b);
  for (std::int64_t i = 0; i < b; ++i) {
    dy[i] = static_cast<std::int64_t>(gen() % static_cast<std::uint64_t>(2 * pad + 1));
    dx[i] = static_cast<std::int64_t>(gen() % static_cast<std::uint64_t>(2 * pad + 1));
    flip[i] = augmentation.horizontal_flip ? static_cast<std::int64_t>(gen() & 1u) : 0;
  }
  const at::Tensor t_dy = to_index_tensor(dy).view({b, 1, 1});
  const at::Tensor t_dx = to_index_tensor(dx).view({b, 1, 1});
  const at::Tensor t_flip = to_index_tensor(flip).view({b, 1, 1}).to(at::kBool);

  // Padding uses the normalised value of a background (0) pixel, so a shifted image shows no seam.
  const double background = (0.0 - kFmnistPixelMean) / kFmnistPixelStd;
  const at::Tensor padded =
      at::constant_pad_nd(images.reshape({b, h, w}), {pad, pad, pad, pad}, background);

  // One gather for crop and flip: flat index of output pixel (k, i, j) in the padded batch.
  const at::Tensor i_idx = at::arange(h, at::kLong).view({1, h, 1});
  const at::Tensor j_idx = at::arange(w, at::kLong).view({1, 1, w});
  const at::Tensor col = t_dx + at::where(t_flip, (w - 1) - j_idx, j_idx);
  const at::Tensor row = t_dy + i_idx;
  const at::Tensor image = at::arange(b, at::kLong).view({b, 1, 1});
  const at::Tensor flat = (image * (hp * wp) + row * wp + col).reshape({-1});
  return padded.reshape({-1}).index_select(0, flat).view({b, 1, h, w});
}

BatchLoader::BatchLoader(const TensorSet& set, BatchOptions options)
    : set_(&set), options_(std::move(options)) {
  options_.batch_size = std::max<std::int64_t>(options_.batch_size, 1);
  set_epoch(0);
}

void BatchLoader::set_epoch(std::int64_t epoch) {
  epoch_ = epoch;
  if (options_.shuffle) {
    order_ = to_index_tensor(libtorch::seeded_permutation(
        set_->size(),
        libtorch::mix_seed({options_.seed, static_cast<std::uint64_t>(epoch), 0x5EEDu})));
  }
}

std::int64_t BatchLoader::num_batches() const {
  return (set_->size() + options_.batch_size - 1) / options_.batch_size;
}

Batch BatchLoader::batch(std::int64_t index) const {
  const std::int64_t start = index * options_.batch_size;
  Batch b;
  if (options_.shuffle) {
    const std::int64_t count =
        std::clamp<std::int64_t>(set_->size() - start, 0, options_.batch_size);
    b = gather_batch(*set_,
                     order_.narrow(0, std::clamp<std::int64_t>(start, 0, set_->size()), count));
  } else {
    b = slice_batch(*set_, start, options_.batch_size);
  }
  if (options_.augmentation.enabled) {
    b.images = augment(b.images, options_.augmentation,
                       libtorch::mix_seed({options_.seed, static_cast<std::uint64_t>(epoch_),
                                           static_cast<std::uint64_t>(index)}));
  }
  return b;
}

}  // namespace mlflow::fmnist

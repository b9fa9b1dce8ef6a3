// SPDX-License-Identifier: Apache-2.0
// Tests of the tensor side: normalisation, seeded splits, batch slicing, shuffling and
// augmentation. First, as LibTorch's headers pull in glog, whose CHECK macro doctest.h must then
// override.
#include "fmnist/fmnist_tensors.h"

#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include <ATen/ops/cat.h>

namespace mlflow::fmnist {
namespace {

// `n` 28x28 images; image k is filled with value k % 256 (so a row identifies its image), label k
// % 10.
FmnistRaw tagged_raw(std::int64_t n) {
  FmnistRaw raw;
  raw.n = n;
  raw.rows = 28;
  raw.cols = 28;
  for (std::int64_t k = 0; k < n; ++k) {
    raw.pixels.insert(raw.pixels.end(), 784, static_cast<std::uint8_t>(k % 256));
    raw.labels.push_back(static_cast<std::uint8_t>(k % 10));
  }
  return raw;
}

// The byte each image of `images` was filled with, recovered from its first pixel.
std::vector<std::int64_t> image_ids(const at::Tensor& images) {
  const at::Tensor first = images.reshape({images.size(0), -1}).select(1, 0).contiguous();
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < first.size(0); ++i) {
    const double v = first[i].item<double>() * kFmnistPixelStd + kFmnistPixelMean;
    ids.push_back(std::llround(v * 255.0));
  }
  return ids;
}

std::vector<std::int64_t> to_vector(const at::Tensor& t) {
  std::vector<std::int64_t> v;
  const at::Tensor c = t.contiguous();
  for (std::int64_t i = 0; i < c.size(0); ++i) v.push_back(c[i].item<std::int64_t>());
  return v;
}

TEST_CASE("tensors: raw bytes become normalised float images and int64 labels") {
  FmnistRaw raw = tagged_raw(2);
  raw.pixels[784] = 255;  // first pixel of image 1
  const TensorSet set = to_tensors(raw);
  CHECK((set.images.sizes() == at::IntArrayRef{2, 1, 28, 28}));
  CHECK((set.images.scalar_type() == at::kFloat));
  CHECK((set.labels.scalar_type() == at::kLong));
  CHECK(set.size() == 2);
  CHECK(set.images[0][0][0][0].item<double>() ==
        doctest::Approx(-kFmnistPixelMean / kFmnistPixelStd));
  CHECK(set.images[1][0][0][0].item<double>() ==
        doctest::Approx((1.0 - kFmnistPixelMean) / kFmnistPixelStd));
  CHECK(set.images[1][0][0][1].item<double>() ==
        doctest::Approx((1.0 / 255.0 - kFmnistPixelMean) / kFmnistPixelStd));
  CHECK(to_vector(set.labels) == std::vector<std::int64_t>{0, 1});
}

TEST_CASE("tensors: splits hold the rows their indices name, deterministic by seed") {
  const FmnistRaw train = tagged_raw(50), test = tagged_raw(7);
  auto a = make_splits(train, test, SplitOptions{0.8, 3});
  REQUIRE(a.ok());
  CHECK(a->train.size() == 40);
  CHECK(a->validation.size() == 10);
  CHECK(a->test.size() == 7);
  CHECK(image_ids(a->train.images) == a->indices.train);
  CHECK(image_ids(a->validation.images) == a->indices.validation);
  CHECK(image_ids(a->test.images) == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6});
  for (std::size_t i = 0; i < a->indices.train.size(); ++i) {
    CHECK(a->train.labels[static_cast<std::int64_t>(i)].item<std::int64_t>() ==
          a->indices.train[i] % 10);
  }

  auto b = make_splits(train, test, SplitOptions{0.8, 3});
  REQUIRE(b.ok());
  CHECK(a->train.images.equal(b->train.images));
  CHECK(a->validation.labels.equal(b->validation.labels));

  auto bad = make_splits(train, test, SplitOptions{1.0, 3});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("tensors: slice_batch and gather_batch return the right rows") {
  const TensorSet set = to_tensors(tagged_raw(10));
  const Batch mid = slice_batch(set, 3, 4);
  CHECK(image_ids(mid.images) == std::vector<std::int64_t>{3, 4, 5, 6});
  CHECK(to_vector(mid.labels) == std::vector<std::int64_t>{3, 4, 5, 6});
  CHECK(mid.images.data_ptr() == set.images[3].data_ptr());  // a view, no copy

  const Batch tail = slice_batch(set, 8, 4);
  CHECK(image_ids(tail.images) == std::vector<std::int64_t>{8, 9});
  CHECK(slice_batch(set, 12, 4).labels.size(0) == 0);

  const at::Tensor idx = set.labels.new_empty({3}).fill_(0);
  idx[0] = 7;
  idx[1] = 2;
  idx[2] = 7;
  const Batch g = gather_batch(set, idx);
  CHECK(image_ids(g.images) == std::vector<std::int64_t>{7, 2, 7});
  CHECK(to_vector(g.labels) == std::vector<std::int64_t>{7, 2, 7});
}

TEST_CASE("tensors: a loader without shuffling serves the set in order") {
  const TensorSet set = to_tensors(tagged_raw(10));
  BatchOptions opts;
  opts.batch_size = 4;
  BatchLoader loader(set, opts);
  CHECK(loader.num_batches() == 3);
  std::vector<at::Tensor> parts;
  for (std::int64_t i = 0; i < loader.num_batches(); ++i) parts.push_back(loader.batch(i).images);
  CHECK(parts[2].size(0) == 2);
  CHECK(at::cat(parts, 0).equal(set.images));
}

TEST_CASE("tensors: shuffled epochs visit every row once, differ by epoch, repeat by seed") {
  const TensorSet set = to_tensors(tagged_raw(23));
  BatchOptions opts;
  opts.batch_size = 5;
  opts.shuffle = true;
  opts.seed = 11;
  BatchLoader loader(set, opts), twin(set, opts);

  auto epoch_ids = [](BatchLoader& l, std::int64_t epoch) {
    l.set_epoch(epoch);
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 0; i < l.num_batches(); ++i) {
      const Batch b = l.batch(i);
      const auto part = image_ids(b.images);
      CHECK(to_vector(b.labels) == [&] {
        std::vector<std::int64_t> labels;
        for (auto id : part) labels.push_back(id % 10);
        return labels;
      }());
      ids.insert(ids.end(), part.begin(), part.end());
    }
    return ids;
  };
  const auto e1 = epoch_ids(loader, 1);
  const auto e2 = epoch_ids(loader, 2);
  CHECK(e1.size() == 23);
  CHECK(std::set<std::int64_t>(e1.begin(), e1.end()).size() == 23);
  CHECK(e1 != e2);
  CHECK(epoch_ids(twin, 1) == e1);
}

TEST_CASE("tensors: augmentation off is the identity") {
  const TensorSet set = to_tensors(tagged_raw(6));
  CHECK(augment(set.images, Augmentation{}, 5).is_same(set.images));
  BatchOptions opts;
  opts.batch_size = 6;
  BatchLoader loader(set, opts);
  CHECK(loader.batch(0).images.equal(set.images));
}

TEST_CASE("tensors: augmentation shifts by at most the padding, flips, and repeats by seed") {
  // One bright pixel per image at (10, 5): after crop and flip it must sit within 2 pixels of
  // (10, 5) or of its mirror (10, 22), and nothing else may change.
  const std::int64_t b = 64;
  FmnistRaw raw = tagged_raw(b);
  std::fill(raw.pixels.begin(), raw.pixels.end(), 0);
  for (std::int64_t k = 0; k < b; ++k)
    raw.pixels[static_cast<std::size_t>(k * 784 + 10 * 28 + 5)] = 255;
  const TensorSet set = to_tensors(raw);

  Augmentation aug;
  aug.enabled = true;
  const at::Tensor out = augment(set.images, aug, 99);
  CHECK((out.sizes() == set.images.sizes()));
  CHECK(out.equal(augment(set.images, aug, 99)));
  CHECK_FALSE(out.equal(augment(set.images, aug, 100)));

  const double bright = (1.0 - kFmnistPixelMean) / kFmnistPixelStd;
  int flipped = 0, shifted = 0;
  for (std::int64_t k = 0; k < b; ++k) {
    const at::Tensor img = out[k][0];
    const at::Tensor hits = img.gt(bright - 1e-3).nonzero();
    REQUIRE(hits.size(0) == 1);  // the bright pixel never falls off: it is 5 pixels from the border
    const std::int64_t r = hits[0][0].item<std::int64_t>(), c = hits[0][1].item<std::int64_t>();
    CHECK(std::abs(r - 10) <= 2);
    const bool is_flipped = std::abs(c - 22) <= 2;
    CHECK((is_flipped || std::abs(c - 5) <= 2));
    flipped += is_flipped ? 1 : 0;
    shifted += (r != 10 || (c != 5 && c != 22)) ? 1 : 0;
    // Everything else is background.
    CHECK(img.lt(bright - 1e-3).sum().item<std::int64_t>() == 783);
  }
  CHECK(flipped > 0);
  CHECK(flipped < b);
  CHECK(shifted > 0);

  Augmentation flip_only;
  flip_only.enabled = true;
  flip_only.crop_padding = 0;
  const at::Tensor f = augment(set.images, flip_only, 1);
  for (std::int64_t k = 0; k < b; ++k) {
    CHECK((f[k].equal(set.images[k]) || f[k].equal(set.images[k].flip({2}))));
  }
}

TEST_CASE("tensors: a loader augments per epoch and batch, reproducibly") {
  const TensorSet set = to_tensors(tagged_raw(16));
  BatchOptions opts;
  opts.batch_size = 8;
  opts.seed = 5;
  opts.augmentation.enabled = true;
  BatchLoader a(set, opts), b(set, opts);
  a.set_epoch(3);
  b.set_epoch(3);
  CHECK(a.batch(1).images.equal(b.batch(1).images));
  CHECK(to_vector(a.batch(1).labels) == std::vector<std::int64_t>{8, 9, 0, 1, 2, 3, 4, 5});
  const at::Tensor epoch3 = a.batch(1).images;
  a.set_epoch(4);
  CHECK_FALSE(a.batch(1).images.equal(epoch3));
}

}  // namespace
}  // namespace mlflow::fmnist

// SPDX-License-Identifier: Apache-2.0
// Tests of the EDA statistics: seeded samples, class counts, pixel histograms and mean images,
// exact.
#include "fmnist/eda_stats.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "idx_test_files.h"
#include "support/test_support.h"

namespace mlflow::fmnist {
namespace {

// n images of 2 x 2 pixels; image k is filled with the value pixels[k] and labelled labels[k].
FmnistRaw tiny_split(const std::vector<std::uint8_t>& pixels,
                     const std::vector<std::uint8_t>& labels) {
  FmnistRaw raw;
  raw.n = static_cast<std::int64_t>(labels.size());
  raw.rows = 2;
  raw.cols = 2;
  for (auto v : pixels) raw.pixels.insert(raw.pixels.end(), 4, v);
  raw.labels = labels;
  return raw;
}

TEST_CASE("eda stats: a sample is count distinct ascending rows, the same for the same seed") {
  auto rows = sample_rows(100, 30, 7);
  REQUIRE(rows.ok());
  CHECK(rows->size() == 30);
  CHECK(std::is_sorted(rows->begin(), rows->end()));
  CHECK(std::set<std::int64_t>(rows->begin(), rows->end()).size() == 30);
  CHECK(rows->back() < 100);
  CHECK(*sample_rows(100, 30, 7) == *rows);
  CHECK(*sample_rows(100, 30, 8) != *rows);
  auto everything = sample_rows(5, 5, 1);
  REQUIRE(everything.ok());
  CHECK(*everything == std::vector<std::int64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("eda stats: a sample larger than the split or below 1 is refused") {
  auto big = sample_rows(10, 11, 1);
  CHECK(big.status().code() == StatusCode::kInvalidArgument);
  CHECK(big.status().message() == "a sample of 11 images is larger than the 10 available");
  CHECK(sample_rows(10, 0, 1).status().message() == "a sample needs at least 1 image, not 0");
}

TEST_CASE("eda stats: select_rows copies the chosen images and labels") {
  const FmnistRaw raw = tiny_split({10, 20, 30}, {1, 2, 3});
  const FmnistRaw picked = select_rows(raw, {0, 2});
  CHECK(picked.n == 2);
  CHECK(picked.labels == std::vector<std::uint8_t>{1, 3});
  CHECK(picked.pixels == std::vector<std::uint8_t>{10, 10, 10, 10, 30, 30, 30, 30});
}

TEST_CASE("eda stats: class counts, imbalance, histogram, mean and std are exact") {
  // Classes 0 (three images), 1 (one image); class 2 is empty.
  auto s = compute_split_stats(tiny_split({0, 255, 0, 51}, {0, 0, 0, 1}), 3);
  REQUIRE(s.ok());
  CHECK(s->images == 4);
  CHECK(s->class_counts == std::vector<std::int64_t>{3, 1, 0});
  CHECK(s->empty_classes == std::vector<int>{2});
  CHECK(s->imbalance == 3.0);  // 3 / max(0, 1)
  REQUIRE(s->pixel_histogram.size() == 256);
  CHECK(std::accumulate(s->pixel_histogram.begin(), s->pixel_histogram.end(), std::int64_t{0}) ==
        16);
  CHECK(s->pixel_histogram[0] == 8);
  CHECK(s->pixel_histogram[51] == 4);
  CHECK(s->pixel_histogram[255] == 4);
  // Per-image values 0, 1, 0, 0.2 (each four times): mean 0.3, population variance 0.26 - 0.09.
  CHECK(s->pixel_mean == doctest::Approx(0.3).epsilon(1e-12));
  CHECK(s->pixel_std == doctest::Approx(std::sqrt(0.17)).epsilon(1e-12));
  CHECK(s->background_fraction == 0.5);
  REQUIRE(s->class_mean_images.size() == 3);
  CHECK(s->class_mean_images[0] == std::vector<double>(4, 85.0));
  CHECK(s->class_mean_images[1] == std::vector<double>(4, 51.0));
  CHECK(s->class_mean_images[2] == std::vector<double>(4, 0.0));
}

TEST_CASE("eda stats: the class distribution of labels, with empty classes and their imbalance") {
  auto d = class_distribution({2, 2, 0, 2, 0, 2}, 4);
  REQUIRE(d.ok());
  CHECK(d->counts == std::vector<std::int64_t>{2, 0, 4, 0});
  CHECK(d->empty_classes == std::vector<int>{1, 3});
  CHECK(d->imbalance == 4.0);  // 4 / max(0, 1)
  CHECK(class_distribution({0, 1, 1, 0}, 2)->imbalance == 1.0);
  CHECK(class_distribution({0, 5}, 3).status().message() == "image 1 has label 5, not below 3");
  CHECK(class_distribution({}, 3).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("eda stats: a bad label or a size mismatch is refused") {
  auto bad = compute_split_stats(tiny_split({1, 2}, {0, 7}), 3);
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "image 1 has label 7, not below 3");
  FmnistRaw short_pixels = tiny_split({1, 2}, {0, 1});
  short_pixels.pixels.pop_back();
  CHECK(compute_split_stats(short_pixels).status().message() ==
        "the split has 7 pixels and 2 labels for 2 images");
  CHECK(compute_split_stats(FmnistRaw{}).status().message() == "the split has no image");
}

TEST_CASE("eda stats: a generated IDX part, sampled, keeps exact counts and histogram sums") {
  testing::TempDir dir;
  testing::write_fmnist_dir(dir.path(), 50, 20, {0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto part = load_fmnist_raw(dir.path(), FmnistPart::kTrain);
  REQUIRE_MESSAGE(part.ok(), part.status().to_string());
  auto all = compute_split_stats(*part);
  REQUIRE(all.ok());
  // 50 images over a cycle of 11 labels, class 0 twice per cycle: 4 full cycles + 6 more.
  CHECK(all->class_counts == std::vector<std::int64_t>{10, 5, 5, 5, 5, 4, 4, 4, 4, 4});
  CHECK(all->imbalance == 2.5);
  CHECK(std::accumulate(all->pixel_histogram.begin(), all->pixel_histogram.end(),
                        std::int64_t{0}) == 50 * 784);

  auto rows = sample_rows(part->n, 20, 42);
  REQUIRE(rows.ok());
  auto sampled = compute_split_stats(select_rows(*part, *rows));
  REQUIRE(sampled.ok());
  CHECK(std::accumulate(sampled->class_counts.begin(), sampled->class_counts.end(),
                        std::int64_t{0}) == 20);
  CHECK(std::accumulate(sampled->pixel_histogram.begin(), sampled->pixel_histogram.end(),
                        std::int64_t{0}) == 20 * 784);
}

}  // namespace
}  // namespace mlflow::fmnist

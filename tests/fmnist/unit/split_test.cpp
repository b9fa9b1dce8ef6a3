// SPDX-License-Identifier: Apache-2.0
// Tests of the seeded permutation and the train/validation split indices (LibTorch-free).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "fmnist/fmnist_data.h"
#include "mlflow/libtorch/seeded_shuffle.h"

namespace mlflow::fmnist {
namespace {

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

TEST_CASE("split: a seeded permutation is a permutation, deterministic by seed") {
  auto a = libtorch::seeded_permutation(1000, 7);
  auto b = libtorch::seeded_permutation(1000, 7);
  auto c = libtorch::seeded_permutation(1000, 8);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != iota(1000));
  std::sort(a.begin(), a.end());
  CHECK(a == iota(1000));
  CHECK(libtorch::seeded_permutation(0, 1).empty());
  CHECK(libtorch::seeded_permutation(1, 1) == std::vector<std::int64_t>{0});
  // Pinned: mt19937_64 and splitmix64 are fully specified, so these must never change (runs stay
  // comparable).
  CHECK(libtorch::seeded_permutation(8, 42) == std::vector<std::int64_t>{7, 0, 5, 1, 2, 4, 3, 6});
  CHECK(libtorch::mix_seed({1, 2}) == 11219452103260847153ull);
  CHECK(libtorch::mix_seed({1, 2}) != libtorch::mix_seed({2, 1}));
  CHECK(libtorch::mix_seed({1, 2}) == libtorch::mix_seed({1, 2}));
}

TEST_CASE("split: sizes, disjoint, covering, deterministic") {
  auto s = split_indices(60000, SplitOptions{});
  REQUIRE(s.ok());
  CHECK(s->train.size() == 48000);
  CHECK(s->validation.size() == 12000);
  CHECK(std::is_sorted(s->train.begin(), s->train.end()));
  CHECK(std::is_sorted(s->validation.begin(), s->validation.end()));
  std::vector<std::int64_t> all;
  std::merge(s->train.begin(), s->train.end(), s->validation.begin(), s->validation.end(),
             std::back_inserter(all));
  CHECK(all == iota(60000));  // disjoint and covering: the merge of the two is exactly 0..59999

  auto again = split_indices(60000, SplitOptions{0.8, 42});
  REQUIRE(again.ok());
  CHECK(again->train == s->train);
  auto other_seed = split_indices(60000, SplitOptions{0.8, 43});
  REQUIRE(other_seed.ok());
  CHECK(other_seed->train != s->train);

  auto ninety = split_indices(10, SplitOptions{0.9, 1});
  REQUIRE(ninety.ok());
  CHECK(ninety->train.size() == 9);
  CHECK(ninety->validation.size() == 1);
  auto tiny = split_indices(2, SplitOptions{0.01, 1});  // at least one row on each side
  REQUIRE(tiny.ok());
  CHECK(tiny->train.size() == 1);
  CHECK(tiny->validation.size() == 1);
}

TEST_CASE("split: bad fractions and sizes are INVALID_ARGUMENT") {
  for (double f : {0.0, 1.0, 1.5, -0.2}) {
    auto s = split_indices(100, SplitOptions{f, 1});
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(split_indices(100, SplitOptions{1.5, 1}).status().message() ==
        "train_val_split must be between 0 and 1 (exclusive), got 1.5");
  CHECK(split_indices(1, SplitOptions{}).status().message() ==
        "cannot split 1 images into training and validation");
}

}  // namespace
}  // namespace mlflow::fmnist

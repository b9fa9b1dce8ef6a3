// SPDX-License-Identifier: Apache-2.0
// Reads Debian's real Fashion-MNIST files: counts, class balance, pixel statistics and file
// digests. LibTorch's headers pull in glog, whose CHECK macro must be overridden by doctest's:
// include them first.
#include "fmnist/fmnist_tensors.h"

#include <doctest/doctest.h>

#include <array>
#include <cmath>

#include "fmnist/fmnist_data.h"
#include "mlflow/training/dataset_lineage.h"

namespace mlflow::fmnist {
namespace {

std::array<std::int64_t, 10> histogram(const std::vector<std::uint8_t>& labels) {
  std::array<std::int64_t, 10> h{};
  for (auto l : labels) ++h[l];
  return h;
}

TEST_CASE("fmnist real data: 60000 + 10000 images, balanced classes, documented mean and std") {
  const std::string dir = fmnist_data_dir();
  auto train = load_fmnist_raw(dir, FmnistPart::kTrain);
  REQUIRE_MESSAGE(train.ok(), train.status().to_string());
  auto test = load_fmnist_raw(dir, FmnistPart::kTest);
  REQUIRE_MESSAGE(test.ok(), test.status().to_string());
  CHECK(train->n == 60000);
  CHECK(test->n == 10000);
  for (auto count : histogram(train->labels)) CHECK(count == 6000);
  for (auto count : histogram(test->labels)) CHECK(count == 1000);

  double sum = 0, sum_sq = 0;
  for (auto p : train->pixels) {
    sum += p;
    sum_sq += static_cast<double>(p) * p;
  }
  const double n = static_cast<double>(train->pixels.size());
  const double mean = sum / n / 255.0;
  const double stddev = std::sqrt(sum_sq / n / (255.0 * 255.0) - mean * mean);
  CHECK(mean == doctest::Approx(kFmnistPixelMean).epsilon(1e-6));
  CHECK(stddev == doctest::Approx(kFmnistPixelStd).epsilon(1e-6));

  auto splits = make_splits(*train, *test, SplitOptions{});
  REQUIRE(splits.ok());
  CHECK(splits->train.size() == 48000);
  CHECK(splits->validation.size() == 12000);
  CHECK(splits->test.size() == 10000);
  // Normalised with the training part's statistics, the training images have mean ~0 and std ~1.
  const at::Tensor all = splits->train.images;
  CHECK(std::abs(all.mean().item<double>()) < 0.01);
  CHECK(all.std().item<double>() == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("fmnist real data: file digests are stable") {
  const FmnistFiles train = fmnist_files(fmnist_data_dir(), FmnistPart::kTrain);
  auto digest = training::sha256_files({train.images, train.labels});
  REQUIRE(digest.ok());
  CHECK(*digest ==
        "8a7d774f94e35a4b1b24d354583140d3cad10f742fae0e0465e4e7f3b13c09be");  // = cat both |
                                                                              // sha256sum
}

}  // namespace
}  // namespace mlflow::fmnist

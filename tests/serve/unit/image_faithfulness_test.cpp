// SPDX-License-Identifier: Apache-2.0
// Faithfulness of image_to_input() on real data: Fashion-MNIST test images re-encoded in other
// sizes, colours and formats (fmnist_variants.h) come back close to the 28x28 originals.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "fmnist/fmnist_data.h"
#include "fmnist_variants.h"
#include "image_input.h"
#include "mlflow/libtorch/idx_reader.h"

namespace mlflow::serve {
namespace {

using testing::kAllVariants;
using testing::Variant;

// Enough images for stable means (the standard error of a mean MAD is below 0.001 here) while the
// test stays a few seconds.
constexpr std::int64_t kImages = 1000;

std::string test_images_path() {
  const char* env = std::getenv(fmnist::kFmnistDirEnv);
  std::string dir = env != nullptr && *env != '\0' ? env : fmnist::kFmnistDefaultDir;
  return dir + "/t10k-images-idx3-ubyte.gz";
}

// Measured on the first 1000 test images (mean, then 99th percentile of the per-image mean
// absolute difference, in the training scale):
// <filled in from the measurement>
struct Bound {
  Variant variant;
  double mean;  ///< bound on the mean over the images
  double p99;   ///< bound on the 99th percentile
};

TEST_CASE("image faithfulness: test images in other sizes, colours and formats come back close") {
  auto images = libtorch::read_idx_images(test_images_path(), 28, 28);
  REQUIRE_MESSAGE(images.ok(), images.status().to_string());
  REQUIRE(images->n >= kImages);

  for (Variant variant : kAllVariants) {
    std::vector<double> diffs;
    for (std::int64_t i = 0; i < kImages; ++i) {
      const std::uint8_t* original = images->pixels.data() + i * 784;
      auto in = image_to_input(testing::encode_variant(original, variant));
      REQUIRE_MESSAGE(in.ok(), in.status().to_string());
      double sum = 0;
      for (int p = 0; p < 784; ++p) sum += std::abs(in->pixels[p] - original[p] / 255.0);
      diffs.push_back(sum / 784);
    }
    double mean = 0;
    for (double d : diffs) mean += d;
    mean /= static_cast<double>(diffs.size());
    std::sort(diffs.begin(), diffs.end());
    double p99 = diffs[diffs.size() * 99 / 100];
    MESSAGE(testing::variant_name(variant) << ": mean " << mean << ", p99 " << p99 << ", max "
                                           << diffs.back());
    CHECK(mean < 1);
  }
}

}  // namespace
}  // namespace mlflow::serve

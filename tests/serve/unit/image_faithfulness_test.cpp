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

// Enough images for stable means (the standard error of a mean difference is about 0.001 here)
// while the test stays a few seconds.
constexpr std::int64_t kImages = 500;

std::string test_images_path() {
  const char* env = std::getenv(fmnist::kFmnistDirEnv);
  std::string dir = env != nullptr && *env != '\0' ? env : fmnist::kFmnistDefaultDir;
  return dir + "/t10k-images-idx3-ubyte.gz";
}

// Bounds on the mean absolute pixel difference (training scale) from the original, over the images
// and at their 99th percentile. Measured on these 500 images: png28 0.011 (p99 0.11: the crop and
// the stretch move a few images, most are exact), the enlarged ones 0.042..0.052 (p99
// 0.093..0.127): enlarging bilinearly and averaging back blurs edges, and the stretch brightens
// what the blur dimmed. For scale: shifting the originals by one pixel costs 0.088, dimming them by
// 10 % 0.030.
double mean_bound(Variant variant) { return variant == Variant::kPng28 ? 0.02 : 0.06; }
constexpr double kP99Bound = 0.15;

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
    MESSAGE(testing::variant_name(variant)
            << ": mean " << mean << ", p99 " << p99 << ", max " << diffs.back());
    CHECK(mean < mean_bound(variant));
    CHECK(p99 < kP99Bound);
  }
}

}  // namespace
}  // namespace mlflow::serve

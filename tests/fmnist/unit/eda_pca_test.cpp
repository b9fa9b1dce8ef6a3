// SPDX-License-Identifier: Apache-2.0
// Tests of the PCA: output shapes, explained variance, a known direction, signs fixed, bad input.
#include "fmnist/eda_pca.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mlflow::fmnist {
namespace {

// n images of dim pixels: pixel p of image k is (k * 37 + p * p * 11 + k * p) % 256.
std::vector<std::uint8_t> varied(std::int64_t n, std::int64_t dim) {
  std::vector<std::uint8_t> px;
  for (std::int64_t k = 0; k < n; ++k) {
    for (std::int64_t p = 0; p < dim; ++p)
      px.push_back(static_cast<std::uint8_t>((k * 37 + p * p * 11 + k * p) % 256));
  }
  return px;
}

TEST_CASE("eda pca: one coordinate pair per image and one ratio per component, descending") {
  auto r = pca_2d(varied(40, 16), 40, 16, 10);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r->x.size() == 40);
  CHECK(r->y.size() == 40);
  REQUIRE(r->explained_variance_ratio.size() == 10);
  CHECK(std::is_sorted(r->explained_variance_ratio.rbegin(), r->explained_variance_ratio.rend()));
  const double sum =
      std::accumulate(r->explained_variance_ratio.begin(), r->explained_variance_ratio.end(), 0.0);
  CHECK(sum > 0.5);
  CHECK(sum <= 1.0 + 1e-9);
  CHECK(r->explained_variance_2d() ==
        doctest::Approx(r->explained_variance_ratio[0] + r->explained_variance_ratio[1]));
  // Coordinates of centred data are centred too.
  CHECK(std::accumulate(r->x.begin(), r->x.end(), 0.0) == doctest::Approx(0.0).epsilon(1e-3));

  // Fewer images or pixels than components: min(components, n, dim) ratios.
  auto few = pca_2d(varied(3, 16), 3, 16, 10);
  REQUIRE(few.ok());
  CHECK(few->explained_variance_ratio.size() == 3);
  CHECK(few->x.size() == 3);
}

TEST_CASE("eda pca: images that vary along one direction put all the variance on PC1") {
  // Image k is k * (1, 2, 0, 0): one direction, so PC1 explains everything and PC2 nothing.
  std::vector<std::uint8_t> px;
  for (int k = 0; k < 10; ++k) {
    px.insert(px.end(),
              {static_cast<std::uint8_t>(10 * k), static_cast<std::uint8_t>(20 * k), 0, 0});
  }
  auto r = pca_2d(px, 10, 4, 2);
  REQUIRE(r.ok());
  CHECK(r->explained_variance_ratio[0] == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(r->explained_variance_ratio[1] == doctest::Approx(0.0).epsilon(1e-5));
  // The sign is fixed so that the largest loading is positive: brighter images lie to the right.
  CHECK(r->x.front() < r->x.back());
  const double step = std::sqrt(10.0 * 10.0 + 20.0 * 20.0) / 255.0;
  CHECK(r->x[1] - r->x[0] == doctest::Approx(step).epsilon(1e-4));
}

TEST_CASE(
    "eda pca: more images than pixels (covariance) and fewer (SVD) give the same components") {
  // 12 images of 8 pixels take the covariance path; the same images with 8 black pixels appended
  // (16 pixels) take the SVD path. Constant pixels add no variance, so both fits must agree.
  const std::vector<std::uint8_t> narrow = varied(12, 8);
  std::vector<std::uint8_t> wide;
  for (std::size_t k = 0; k < 12; ++k) {
    wide.insert(wide.end(), narrow.begin() + static_cast<std::ptrdiff_t>(8 * k),
                narrow.begin() + static_cast<std::ptrdiff_t>(8 * k + 8));
    wide.insert(wide.end(), 8, 0);
  }
  auto by_covariance = pca_2d(narrow, 12, 8, 5);
  auto by_svd = pca_2d(wide, 12, 16, 5);
  REQUIRE(by_covariance.ok());
  REQUIRE(by_svd.ok());
  REQUIRE(by_covariance->explained_variance_ratio.size() == 5);
  REQUIRE(by_svd->explained_variance_ratio.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(by_covariance->explained_variance_ratio[i] ==
          doctest::Approx(by_svd->explained_variance_ratio[i]).epsilon(1e-4));
  }
  for (std::size_t k = 0; k < 12; ++k) {
    CHECK(by_covariance->x[k] == doctest::Approx(by_svd->x[k]).epsilon(1e-3));
    CHECK(by_covariance->y[k] == doctest::Approx(by_svd->y[k]).epsilon(1e-3));
  }
}

TEST_CASE("eda pca: identical images explain nothing, without dividing by zero") {
  auto r = pca_2d(std::vector<std::uint8_t>(5 * 4, 7), 5, 4, 3);
  REQUIRE(r.ok());
  for (double v : r->explained_variance_ratio) CHECK(v == 0.0);
}

TEST_CASE("eda pca: too few images, pixels or components, or a size mismatch, are refused") {
  CHECK(pca_2d(varied(1, 4), 1, 4).status().code() == StatusCode::kInvalidArgument);
  CHECK(pca_2d(varied(4, 1), 4, 1).status().code() == StatusCode::kInvalidArgument);
  CHECK(pca_2d(varied(4, 4), 4, 4, 1).status().code() == StatusCode::kInvalidArgument);
  const auto mismatch = pca_2d(varied(4, 4), 5, 4);
  CHECK(mismatch.status().message() ==
        "PCA needs at least 2 images of at least 2 pixels and 2 components; got 5 images of 4 "
        "pixels (16 bytes) and "
        "10 components");
}

}  // namespace
}  // namespace mlflow::fmnist

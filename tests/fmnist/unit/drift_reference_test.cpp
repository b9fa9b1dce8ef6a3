// SPDX-License-Identifier: Apache-2.0
// Tests of the drift features, their histograms and a window's statistics against a reference.
#include "fmnist/drift_reference.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

namespace mlflow::fmnist {
namespace {

TEST_CASE("drift features: class, confidence, entropy and intensity of known images") {
  std::vector<float> images(2 * kDriftImageSize, 0.0f);
  for (std::int64_t k = 0; k < kDriftImageSize; ++k) images[kDriftImageSize + k] = k < 392 ? 1 : 0;
  std::vector<float> probs(20, 0.0f);
  probs[3] = 1;                                       // image 0: certain of class 3
  for (int c = 0; c < 10; ++c) probs[10 + c] = 0.1f;  // image 1: no idea
  auto f = drift_features(images.data(), probs.data(), 2, 10);
  REQUIRE(f.ok());
  CHECK((*f)[0].predicted_class == 3);
  CHECK((*f)[0].top_probability == 1.0);
  CHECK((*f)[0].entropy == 0.0);
  CHECK((*f)[0].mean_intensity == 0.0);
  CHECK((*f)[0].background_fraction == 1.0);
  CHECK((*f)[1].top_probability == doctest::Approx(0.1));
  CHECK((*f)[1].entropy == doctest::Approx(1.0).epsilon(1e-6));
  CHECK((*f)[1].mean_intensity == 0.5);
  CHECK((*f)[1].background_fraction == 0.5);
}

TEST_CASE("drift features: non-finite pixels or probabilities name the image") {
  std::vector<float> images(2 * kDriftImageSize, 0.0f);
  std::vector<float> probs(20, 0.1f);
  images[kDriftImageSize + 5] = std::numeric_limits<float>::quiet_NaN();
  CHECK(drift_features(images.data(), probs.data(), 2, 10).status().message() ==
        "image 1: pixel 5 is nan");
  images[kDriftImageSize + 5] = 0;
  probs[2] = std::numeric_limits<float>::infinity();
  CHECK(drift_features(images.data(), probs.data(), 2, 10).status().message() ==
        "image 0: probability of class 2 is inf");
  CHECK(drift_features(images.data(), probs.data(), 1, 1).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("drift histograms: fixed bins on [0, 1], the ends catching what is outside") {
  DriftHistograms h = DriftHistograms::empty(10);
  CHECK(h.predicted_class.size() == 10);
  CHECK(h.entropy.size() == static_cast<std::size_t>(kDriftBins));
  h.add({2, 1.0, 0.25, -0.5, 1.5});
  CHECK(h.images == 1);
  CHECK(h.predicted_class[2] == 1);
  CHECK(h.top_probability[kDriftBins - 1] == 1);  // 1.0 is in the last bin
  CHECK(h.entropy[25] == 1);
  CHECK(h.mean_intensity[0] == 1);
  CHECK(h.background_fraction[kDriftBins - 1] == 1);
}

TEST_CASE("drift statistics: zero against itself, large for a shifted window, names of crossings") {
  DriftHistograms ref = DriftHistograms::empty(2), same = DriftHistograms::empty(2),
                  shifted = DriftHistograms::empty(2);
  for (int i = 0; i < 10; ++i) {
    const DriftFeatures f{i % 2, 0.9, 0.2, 0.3, 0.5};
    ref.add(f);
    same.add(f);
    shifted.add({1, 0.9, 0.2, 0.7, 0.5});  // one class, brighter images
  }
  auto zero = drift_statistics(ref, same);
  REQUIRE(zero.ok());
  for (double v : *zero) CHECK(v == 0.0);
  auto far = drift_statistics(ref, shifted);
  REQUIRE(far.ok());
  CHECK((*far)[kClassChi2] == doctest::Approx(10.0));  // 10 observed, 5 expected in each class
  CHECK((*far)[kIntensityKs] == 1.0);
  CHECK((*far)[kIntensityW1] == doctest::Approx(0.4));
  CHECK((*far)[kTopProbabilityKs] == 0.0);

  DriftAlertThresholds t;
  t.limits.fill(0.5);
  CHECK(crossed_statistics(*zero, t).empty());
  CHECK(crossed_statistics(*far, t) == std::vector<std::string>{"class_chi2", "intensity_ks"});
  CHECK(drift_statistics(ref, DriftHistograms::empty(3)).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlflow::fmnist

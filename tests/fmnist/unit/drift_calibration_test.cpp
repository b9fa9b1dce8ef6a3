// SPDX-License-Identifier: Apache-2.0
// Tests of the threshold calibration: window sampling, the joint quantile, the reference with it.
#include "fmnist/drift_calibration.h"

#include <doctest/doctest.h>

#include <random>

namespace mlflow::fmnist {
namespace {

// n random images and softmax-like probabilities over 10 classes, seeded.
struct Arrays {
  std::vector<float> images, probs;
};
Arrays random_arrays(std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  Arrays a;
  for (std::int64_t i = 0; i < n * kDriftImageSize; ++i) a.images.push_back(u(rng) * u(rng));
  for (std::int64_t i = 0; i < n; ++i) {
    std::vector<float> row(10);
    float sum = 0;
    for (auto& p : row) sum += p = u(rng) * u(rng) * u(rng);
    for (auto p : row) a.probs.push_back(p / sum);
  }
  return a;
}

TEST_CASE(
    "drift calibration: consecutive windows, seeded bootstrap windows, bootstrap references") {
  const Arrays a = random_arrays(105, 1);
  auto features = drift_features(a.images.data(), a.probs.data(), 105, 10);
  REQUIRE(features.ok());
  DriftHistograms ref = DriftHistograms::empty(10);
  for (const auto& f : *features) ref.add(f);
  auto windows = window_statistics(ref, *features, 20, 7, 3);
  REQUIRE(windows.ok());
  CHECK(windows->size() == 5 + 7);  // the partial last window is dropped
  auto again = window_statistics(ref, *features, 20, 7, 3);
  CHECK((*again)[11] == (*windows)[11]);
  CHECK(window_statistics(ref, *features, 106, 0, 3).status().message() ==
        "windows of 106 images need at least that many images, have 105");
  CHECK(window_statistics(ref, *features, 0, 0, 3).status().code() == StatusCode::kInvalidArgument);

  // Calibration windows, each against a resampled reference: seeded, never all zero.
  auto calibration = calibration_statistics(*features, 10, 20, 150, 3);
  REQUIRE(calibration.ok());
  CHECK(calibration->size() == 150);
  CHECK((*calibration)[120] == (*calibration_statistics(*features, 10, 20, 150, 3))[120]);
  CHECK((*calibration)[120][kClassChi2] > 0);
  CHECK(calibration_statistics(*features, 10, 106, 5, 3).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("drift calibration: the lowest common quantile within the false-alarm rate") {
  std::vector<DriftStatistics> clean(100);
  for (int j = 0; j < 100; ++j) clean[j].fill(j);  // statistic values 0..99 in every window
  auto t = calibrate_thresholds(clean, 250, 0.05);
  REQUIRE(t.ok());
  CHECK(t->limits[kClassChi2] == 94);  // windows 95..99 alert: 5%
  CHECK(t->limits[kBackgroundW1] == 94);
  CHECK(t->quantile == doctest::Approx(94.0 / 99));
  CHECK(t->window_size == 250);
  CHECK(t->false_alarm_rate == 0.05);
  CHECK(t->calibration_windows == 100);
  CHECK(alert_rate(clean, *t) == doctest::Approx(0.05));

  // Alerts of different statistics in different windows add up: the common level rises.
  for (int j = 0; j < 100; ++j) clean[j][kEntropyKs] = 99 - j;
  auto joint = calibrate_thresholds(clean, 250, 0.05);
  REQUIRE(joint.ok());
  CHECK(alert_rate(clean, *joint) <= 0.05);
  CHECK(joint->limits[kClassChi2] > 94);

  CHECK(calibrate_thresholds({}, 250, 0.05).status().code() == StatusCode::kInvalidArgument);
  CHECK(calibrate_thresholds(clean, 250, 0).status().message() ==
        "the false-alarm rate must be in (0, 1), not 0");
}

TEST_CASE("drift calibration: a computed reference counts every image and holds its rate") {
  const Arrays a = random_arrays(400, 2);
  DriftCalibrationOptions o;
  o.window_size = 50;
  o.bootstrap_windows = 2000;
  o.false_alarm_rate = 0.05;
  auto r = compute_drift_reference(a.images.data(), a.probs.data(), 400, 10, o, "synthetic");
  REQUIRE(r.ok());
  CHECK(r->source == "synthetic");
  CHECK(r->num_classes == 10);
  CHECK(r->histograms.images == 400);
  double classes = 0;
  for (double c : r->histograms.predicted_class) classes += c;
  CHECK(classes == 400);
  CHECK(r->thresholds.window_size == 50);
  CHECK(r->thresholds.calibration_windows == 2000);
  auto features = drift_features(a.images.data(), a.probs.data(), 400, 10);
  auto windows = calibration_statistics(*features, 10, 50, 2000, o.seed);
  REQUIRE(windows.ok());
  CHECK(windows->size() == 2000);
  CHECK(alert_rate(*windows, r->thresholds) <= 0.05);
  CHECK(alert_rate(*windows, r->thresholds) > 0.0);
  CHECK(r->thresholds.quantile < 1.0);  // not simply the largest values
  CHECK(compute_drift_reference(a.images.data(), a.probs.data(), 10, 10, o).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlflow::fmnist

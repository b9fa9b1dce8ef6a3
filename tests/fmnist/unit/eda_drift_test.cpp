// SPDX-License-Identifier: Apache-2.0
// Tests of the drift statistics: zero for identical distributions, known values (PSI, KS,
// chi-square, Wasserstein-1), bad histograms, thresholds and verdicts.
#include "fmnist/eda_drift.h"

#include <doctest/doctest.h>

#include <cmath>

namespace mlflow::fmnist {
namespace {

TEST_CASE("eda drift: identical distributions give exactly 0, whatever the totals") {
  const std::vector<double> a = {10, 0, 30, 60}, doubled = {20, 0, 60, 120};
  CHECK(*population_stability_index(a, a) == 0.0);
  CHECK(*population_stability_index(a, doubled) == 0.0);
  CHECK(*ks_statistic(a, a) == 0.0);
  CHECK(*ks_statistic(a, doubled) == 0.0);
}

TEST_CASE("eda drift: PSI and KS of a known pair") {
  // Shares 0.5 / 0.5 against 0.25 / 0.75.
  const double psi = (0.25 - 0.5) * std::log(0.25 / 0.5) + (0.75 - 0.5) * std::log(0.75 / 0.5);
  CHECK(*population_stability_index({1, 1}, {1, 3}) == doctest::Approx(psi).epsilon(1e-12));
  CHECK(*ks_statistic({1, 1}, {1, 3}) == doctest::Approx(0.25).epsilon(1e-12));
  // Disjoint supports: KS is 1; PSI is large but finite thanks to the floor.
  CHECK(*ks_statistic({1, 0}, {0, 1}) == 1.0);
  const double disjoint = *population_stability_index({1, 0}, {0, 1});
  CHECK(std::isfinite(disjoint));
  CHECK(disjoint > 10);
}

TEST_CASE("eda drift: mismatched, empty or negative histograms are refused") {
  CHECK(population_stability_index({1, 2}, {1, 2, 3}).status().message() ==
        "histograms to compare need the same, non-zero number of bins; got 3 and 2");
  CHECK(ks_statistic({}, {}).status().code() == StatusCode::kInvalidArgument);
  CHECK(ks_statistic({0, 0}, {1, 1}).status().message() == "the first histogram is empty");
  CHECK(population_stability_index({1, 1}, {1, -1}).status().message() ==
        "the second histogram has a count of -1.000000");
}

TEST_CASE("drift statistics: chi-square of class counts against reference shares") {
  // 40 observed, expected 20 each: (10 - 20)^2 / 20 + (30 - 20)^2 / 20.
  CHECK(*chi_square_statistic({10, 30}, {1, 1}) == doctest::Approx(10.0).epsilon(1e-12));
  CHECK(*chi_square_statistic({20, 60}, {25, 75}) == 0.0);
  // A class the reference never saw is floored, not infinite.
  const double unseen = *chi_square_statistic({5, 5}, {1, 0});
  CHECK(std::isfinite(unseen));
  CHECK(unseen > 1000);
  CHECK(chi_square_statistic({0, 0}, {1, 1}).status().message() == "the first histogram is empty");
  CHECK(chi_square_statistic({1, 2, 3}, {1, 1}).status().message() ==
        "histograms to compare need the same, non-zero number of bins; got 2 and 3");
}

TEST_CASE("drift statistics: Wasserstein-1 is the mass moved times the distance") {
  // All mass moves two bins of width 0.5: distance 1.0.
  CHECK(*wasserstein_distance({1, 0, 0}, {0, 0, 1}, 0.5) == doctest::Approx(1.0).epsilon(1e-12));
  // Half the mass moves one bin of width 0.1.
  CHECK(*wasserstein_distance({2, 0}, {1, 1}, 0.1) == doctest::Approx(0.05).epsilon(1e-12));
  CHECK(*wasserstein_distance({3, 1}, {6, 2}, 1.0) == 0.0);
  CHECK(wasserstein_distance({1}, {1}, 0).status().message() ==
        "the bin width must be positive and finite, not 0.000000");
  CHECK(wasserstein_distance({1}, {1, 2}, 1).status().code() == StatusCode::kInvalidArgument);
  CHECK(wasserstein_distance({1, -2}, {1, 2}, 1).status().message() ==
        "the first histogram has a count of -2.000000");
}

TEST_CASE("eda drift: verdicts at and around the thresholds") {
  const DriftThresholds t;
  CHECK(psi_level(0.0, t) == DriftLevel::kNone);
  CHECK(psi_level(0.0999, t) == DriftLevel::kNone);
  CHECK(psi_level(0.1, t) == DriftLevel::kMinor);
  CHECK(psi_level(0.25, t) == DriftLevel::kSignificant);
  CHECK(ks_level(0.049, t) == DriftLevel::kNone);
  CHECK(ks_level(0.05, t) == DriftLevel::kMinor);
  CHECK(ks_level(0.2, t) == DriftLevel::kSignificant);
  CHECK(std::string(drift_level_name(DriftLevel::kNone)) == "no drift");
  CHECK(std::string(drift_level_name(DriftLevel::kMinor)) == "minor");
  CHECK(std::string(drift_level_name(DriftLevel::kSignificant)) == "significant");
}

TEST_CASE("eda drift: comparing splits takes the worse statistic") {
  DriftInput train, same, shifted;
  train.class_counts = {50, 50};
  train.pixel_histogram = {70, 10, 10, 10};
  same = train;
  auto none = compare_splits(train, same);
  REQUIRE(none.ok());
  CHECK(none->class_frequency.psi == 0.0);
  CHECK_FALSE(none->class_frequency.ks.has_value());
  CHECK(none->pixel_intensity.psi == 0.0);
  CHECK(*none->pixel_intensity.ks == 0.0);
  CHECK(none->overall == DriftLevel::kNone);

  shifted = train;
  shifted.pixel_histogram = {55, 15, 10, 20};  // PSI ~0.126: minor; KS 0.15: significant
  auto drift = compare_splits(train, shifted);
  REQUIRE(drift.ok());
  CHECK(drift->class_frequency.level == DriftLevel::kNone);
  CHECK(psi_level(drift->pixel_intensity.psi, drift->thresholds) == DriftLevel::kMinor);
  CHECK(*drift->pixel_intensity.ks == doctest::Approx(0.15));
  CHECK(drift->pixel_intensity.level == DriftLevel::kSignificant);
  CHECK(drift->overall == DriftLevel::kSignificant);

  shifted.class_counts = {50, 50, 0};
  CHECK(compare_splits(train, shifted).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlflow::fmnist

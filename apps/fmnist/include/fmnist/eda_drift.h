// SPDX-License-Identifier: Apache-2.0
// Distribution drift statistics over histograms (population stability index, chi-square,
// Kolmogorov-Smirnov, Wasserstein-1) and the EDA's verdicts between two splits; LibTorch-free (the
// library mlflow::fmnist_drift, which the model server links too).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::fmnist {

/// How far apart two distributions are, in words.
enum class DriftLevel { kNone, kMinor, kSignificant };

/// "no drift", "minor" or "significant".
const char* drift_level_name(DriftLevel level);

/// Where the verdicts change. The PSI limits are the customary ones (below 0.1 stable, 0.1 to 0.25
/// a moderate shift, 0.25 and more a major one); the KS limits are on the largest gap between the
/// two CDFs.
struct DriftThresholds {
  double psi_minor = 0.1;
  double psi_significant = 0.25;
  double ks_minor = 0.05;
  double ks_significant = 0.1;
};

/// Population stability index of two histograms over the same bins (counts, any totals):
/// sum over bins of (a - e) * ln(a / e), where e and a are the bins' shares of `expected` and
/// `actual` and a share below `floor` is raised to it (an empty bin would be infinite). 0 exactly
/// for identical shares. kInvalidArgument for no bins, different bin counts, a negative or
/// non-finite count, or a zero total. Thread-safety: a pure function.
StatusOr<double> population_stability_index(const std::vector<double>& expected,
                                            const std::vector<double>& actual, double floor = 1e-4);

/// Two-sample Kolmogorov-Smirnov statistic of two histograms over the same ordered bins: the
/// largest absolute difference of their cumulative shares, in [0, 1]; 0 exactly for identical
/// shares. Errors as population_stability_index(). Thread-safety: a pure function.
StatusOr<double> ks_statistic(const std::vector<double>& a, const std::vector<double>& b);

/// Pearson's chi-square statistic of `observed` class counts against the shares of `expected`
/// (counts of a reference, any total): sum over classes of (O - N p)^2 / (N p), N the observed
/// total, p the expected share raised to `floor` (a class the reference never saw would make it
/// infinite). 0 exactly when the observed shares equal the expected ones. Errors as
/// population_stability_index() (an empty `observed` is "the first histogram is empty").
/// Thread-safety: a pure function.
StatusOr<double> chi_square_statistic(const std::vector<double>& observed,
                                      const std::vector<double>& expected, double floor = 1e-4);

/// Wasserstein-1 (earth mover's) distance between two histograms over the same ordered bins of
/// width `bin_width`, each bin's mass at its centre: bin_width times the sum of the absolute
/// differences of their cumulative shares; in the unit of the binned quantity, 0 exactly for
/// identical shares. Errors as ks_statistic(), and kInvalidArgument for a bin width that is not
/// positive and finite. Thread-safety: a pure function.
StatusOr<double> wasserstein_distance(const std::vector<double>& a, const std::vector<double>& b,
                                      double bin_width);

/// The verdict of one statistic against its limits (a value at a limit counts as the higher level).
DriftLevel psi_level(double psi, const DriftThresholds& thresholds);
DriftLevel ks_level(double ks, const DriftThresholds& thresholds);

/// One compared distribution.
struct DriftComparison {
  double psi = 0;
  std::optional<double> ks;              ///< only for ordered bins (pixel levels), not for classes
  DriftLevel level = DriftLevel::kNone;  ///< the worse of the PSI and KS verdicts
};

/// Train/test drift: class frequencies and pixel-intensity histograms.
struct DriftReport {
  DriftThresholds thresholds;
  DriftComparison class_frequency;
  DriftComparison pixel_intensity;
  DriftLevel overall = DriftLevel::kNone;  ///< the worse of the two
};

/// What of one split is compared: its class counts and its pixel histogram (kPixelLevels ordered
/// bins).
struct DriftInput {
  std::vector<std::int64_t> class_counts;
  std::vector<std::int64_t> pixel_histogram;
};

/// Compares `current` (e.g. the test split) against `reference` (the training split).
/// kInvalidArgument when their class counts or histograms differ in length. Thread-safety: a pure
/// function.
StatusOr<DriftReport> compare_splits(const DriftInput& reference, const DriftInput& current,
                                     const DriftThresholds& thresholds = {});

}  // namespace mlflow::fmnist

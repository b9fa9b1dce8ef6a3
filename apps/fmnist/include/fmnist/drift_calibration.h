// SPDX-License-Identifier: Apache-2.0
// Alert thresholds for a stated false-alarm rate: statistics of clean windows (consecutive ones and
// seeded bootstrap resamples), the joint quantile that alerts on that share of them, and the drift
// reference computed with its thresholds. LibTorch-free (mlflow::fmnist_drift).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fmnist/drift_reference.h"
#include "mlflow/status.h"

namespace mlflow::fmnist {

/// How the thresholds are calibrated.
struct DriftCalibrationOptions {
  std::int64_t window_size = 500;  ///< images per window
  double false_alarm_rate = 0.01;  ///< the share of clean windows allowed to alert
  /// Resampled windows: enough for each statistic to have some windows above its threshold (the
  /// alert share is shared among the statistics).
  std::int64_t bootstrap_windows = 10000;
  std::uint64_t seed = 42;  ///< seeds the resampling
};

/// The statistics against `reference` of windows of `window_size` of `features`: first the
/// consecutive disjoint windows (a partial last one is dropped), then `bootstrap_windows` windows
/// drawn with replacement (seeded: the same seed gives the same windows). kInvalidArgument when
/// window_size < 1, there are fewer features than one window, or the classes differ.
/// Thread-safety: a pure function.
StatusOr<std::vector<DriftStatistics>> window_statistics(const DriftHistograms& reference,
                                                         const std::vector<DriftFeatures>& features,
                                                         std::int64_t window_size,
                                                         std::int64_t bootstrap_windows,
                                                         std::uint64_t seed);

/// The statistics of `windows` clean windows as the served model's will be, for calibration: each
/// a bootstrap window of `window_size` of `features` against a bootstrap reference (all of
/// `features` resampled, a new one every 100 windows), so that the reference's own sampling noise
/// counts, as it does when the served windows are compared with the one reference computed at
/// training time. Seeded; errors as window_statistics(). Thread-safety: a pure function.
StatusOr<std::vector<DriftStatistics>> calibration_statistics(
    const std::vector<DriftFeatures>& features, std::int64_t num_classes, std::int64_t window_size,
    std::int64_t windows, std::uint64_t seed);

/// Thresholds under which at most `false_alarm_rate` of the `clean` windows alert: every
/// statistic's threshold is its empirical quantile at one common level, the lowest level that
/// keeps the share of windows with any statistic above its threshold within the rate (a joint
/// calibration: the rate holds for the alert as a whole, not per statistic). kInvalidArgument for
/// no windows or a rate outside (0, 1). Thread-safety: a pure function.
StatusOr<DriftAlertThresholds> calibrate_thresholds(const std::vector<DriftStatistics>& clean,
                                                    std::int64_t window_size,
                                                    double false_alarm_rate);

/// The share of `windows` that alert under `thresholds` (0 for none). Thread-safety: a pure
/// function.
double alert_rate(const std::vector<DriftStatistics>& windows,
                  const DriftAlertThresholds& thresholds);

/// The drift reference of `n` images (n x kDriftImageSize floats in the training scale) and the
/// model's probabilities for them (n x num_classes), with thresholds calibrated on their
/// calibration_statistics(). Errors of drift_features() and window_statistics(). Thread-safety: a
/// pure function.
StatusOr<DriftReference> compute_drift_reference(const float* images, const float* probabilities,
                                                 std::int64_t n, std::int64_t num_classes,
                                                 const DriftCalibrationOptions& options = {},
                                                 const std::string& source = {});

}  // namespace mlflow::fmnist

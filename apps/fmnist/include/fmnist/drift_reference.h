// SPDX-License-Identifier: Apache-2.0
// What a served classifier should see, and how far a window of what it sees is from that: the
// per-image drift features (predicted class, top probability, prediction entropy, input intensity),
// their histograms on fixed ordered bins, the drift statistics of a window against a reference and
// the alert thresholds. LibTorch-free (mlflow::fmnist_drift): computed from plain arrays at
// training time and in the model server.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::fmnist {

/// Floats per image: 1 x 28 x 28 in the training scale (pixel / 255, 0 the black background).
inline constexpr std::int64_t kDriftImageSize = 784;
/// Bins of each continuous feature, all on [0, 1] (the entropy divided by ln(classes)).
inline constexpr int kDriftBins = 100;
/// A pixel below this (about 25 of 255) counts as background.
inline constexpr double kBackgroundLevel = 0.1;

/// One image's drift features.
struct DriftFeatures {
  std::int64_t predicted_class = 0;  ///< argmax of its probabilities
  double top_probability = 0;        ///< the largest probability
  double entropy = 0;                ///< of its probabilities, over ln(classes): in [0, 1]
  double mean_intensity = 0;         ///< its mean pixel
  double background_fraction = 0;    ///< its share of pixels below kBackgroundLevel
};

/// The drift features of `n` images: `images` n x kDriftImageSize floats in the training scale,
/// `probabilities` n x num_classes. kInvalidArgument naming the image for a non-finite pixel or
/// probability, and for n < 0 or num_classes < 2. Thread-safety: a pure function.
StatusOr<std::vector<DriftFeatures>> drift_features(const float* images, const float* probabilities,
                                                    std::int64_t n, std::int64_t num_classes);

/// Counts of drift features on fixed ordered bins.
struct DriftHistograms {
  std::vector<double> predicted_class;      ///< one bin per class
  std::vector<double> top_probability;      ///< kDriftBins over [0, 1]
  std::vector<double> entropy;              ///< kDriftBins over [0, 1]
  std::vector<double> mean_intensity;       ///< kDriftBins over [0, 1]
  std::vector<double> background_fraction;  ///< kDriftBins over [0, 1]
  std::int64_t images = 0;                  ///< how many images were counted

  /// All bins zero, for `num_classes` classes.
  static DriftHistograms empty(std::int64_t num_classes);
  /// Counts one image (a value outside [0, 1] falls in the nearest end bin).
  void add(const DriftFeatures& f);
};

/// The drift statistics of a window against a reference, in a fixed order (kDriftStatisticNames).
enum DriftStatistic : int {
  kClassChi2,            ///< chi-square of the predicted classes against the reference's shares
  kTopProbabilityKs,     ///< Kolmogorov-Smirnov of the top probabilities
  kEntropyKs,            ///< ... of the normalised prediction entropies
  kIntensityKs,          ///< ... of the images' mean intensities
  kBackgroundKs,         ///< ... of the images' background fractions
  kTopProbabilityW1,     ///< Wasserstein-1 of the top probabilities
  kEntropyW1,            ///< ... of the normalised prediction entropies
  kIntensityW1,          ///< ... of the images' mean intensities
  kBackgroundW1,         ///< ... of the images' background fractions
  kDriftStatisticCount,  ///< how many there are
};

/// Each statistic's name, as drift_reference.json and the metrics (with a "drift_" prefix) say.
inline constexpr std::array<const char*, kDriftStatisticCount> kDriftStatisticNames = {
    "class_chi2",  "top_prob_ks", "entropy_ks",   "intensity_ks", "background_ks",
    "top_prob_w1", "entropy_w1",  "intensity_w1", "background_w1"};

/// Statistic values, indexed by DriftStatistic.
using DriftStatistics = std::array<double, kDriftStatisticCount>;

/// How far `window` is from `reference` (histograms of the same number of classes).
/// kInvalidArgument when the class counts differ or either is empty. Thread-safety: a pure
/// function.
StatusOr<DriftStatistics> drift_statistics(const DriftHistograms& reference,
                                           const DriftHistograms& window);

/// When a window alerts: any statistic above its threshold. Calibrated for windows of
/// `window_size` images to alert on a clean window with probability `false_alarm_rate`.
struct DriftAlertThresholds {
  std::int64_t window_size = 500;        ///< images per window
  double false_alarm_rate = 0.01;        ///< the stated probability that a clean window alerts
  std::int64_t calibration_windows = 0;  ///< clean windows the thresholds were taken from
  /// the per-statistic quantile level that gives that rate jointly (see drift_calibration.h)
  double quantile = 0;
  DriftStatistics limits{};  ///< each statistic's threshold
};

/// The names (kDriftStatisticNames) of the statistics above their thresholds, in order; empty when
/// the window does not alert. Thread-safety: a pure function.
std::vector<std::string> crossed_statistics(const DriftStatistics& statistics,
                                            const DriftAlertThresholds& thresholds);

/// The reference a served model is compared with, computed on the validation split at training time
/// and logged with the model as drift_reference.json (drift_reference_file.h).
struct DriftReference {
  std::int64_t num_classes = 0;
  DriftHistograms histograms;       ///< of the reference images
  DriftAlertThresholds thresholds;  ///< calibrated on windows of the reference images
  std::string source;               ///< what the images were, e.g. "validation split"
};

}  // namespace mlflow::fmnist

// SPDX-License-Identifier: Apache-2.0
// Exploratory data analysis of Fashion-MNIST: the analysis, its metrics, pictures, summary.json and
// HTML report.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fmnist/eda_drift.h"
#include "fmnist/eda_pca.h"
#include "fmnist/eda_stats.h"
#include "fmnist/fmnist_data.h"
#include "mlflow/status.h"

namespace mlflow::fmnist {

inline constexpr const char* kEdaSummaryFile = "summary.json";
inline constexpr const char* kEdaReportFile = "eda_report.html";

/// What to analyse and how.
struct EdaOptions {
  std::int64_t sample_size = 2000;  ///< images drawn from each split (see sample_rows())
  bool all = false;                 ///< every image of both splits instead of a sample
  std::uint64_t seed = 42;          ///< seeds the samples
  int pca_components = 10;          ///< explained variance is reported for this many components
  /// The training sample's pixel mean and std agree with the trainer's constants (kFmnistPixelMean,
  /// kFmnistPixelStd) when both differ by at most this much: wide enough for the sampling error of
  /// 2000 images (their mean varies by ~0.003), narrow enough to catch another data set's constants
  /// (MNIST's differ by 0.15).
  double normalisation_tolerance = 0.02;
  DriftThresholds drift;
};

/// One analysed split.
struct EdaSplit {
  std::string name;            ///< "train" or "test"
  std::int64_t part_rows = 0;  ///< images in its files
  /// Over every image of the files, sample or not: labels are cheap, and a sample's class counts
  /// vary by chance (2000 images of 10 balanced classes show an imbalance of ~1.3 and would flag
  /// drift on small samples).
  ClassDistribution classes;
  FmnistRaw sample;  ///< the analysed images (all of them with EdaOptions::all)
  SplitStats stats;  ///< of the sample: pixels, mean images (its class counts are the sample's)
};

/// The training sample's pixel statistics against the constants the trainer normalises with.
struct NormalisationCheck {
  double trainer_mean = kFmnistPixelMean;
  double trainer_std = kFmnistPixelStd;
  double mean_difference = 0;  ///< sample mean - trainer mean
  double std_difference = 0;   ///< sample std - trainer std
  double tolerance = 0;
  bool agree = false;  ///< both differences within the tolerance
};

struct EdaResult {
  EdaOptions options;
  EdaSplit train;
  EdaSplit test;
  NormalisationCheck normalisation;
  PcaResult pca;  ///< fitted on the training sample
  DriftReport
      drift;  ///< test split against training split: `classes` and the samples' pixel histograms
};

/// The analysis of both official parts. kInvalidArgument when the sample size is below 1 or larger
/// than a part (naming the part), when the images are not all of one size, or when the options are
/// out of range (pca_components < 2, a negative tolerance); kInternal when the PCA fails.
/// Thread-safety: a free function.
StatusOr<EdaResult> analyse_fmnist(const FmnistRaw& train_part, const FmnistRaw& test_part,
                                   const EdaOptions& options);

/// The figures worth a metric, by name, e.g. train_class_imbalance, test_pixel_mean,
/// normalisation_mean_difference, pca_explained_variance_pc1, drift_pixel_intensity_psi,
/// drift_level (0 no drift, 1 minor, 2 significant). Thread-safety: a pure function.
std::map<std::string, double> eda_metrics(const EdaResult& result);

/// One PNG of the analysis, as written by write_eda_files().
struct EdaPicture {
  std::string file;     ///< file name, e.g. "class_distribution.png"
  std::string title;    ///< what it shows, a few words
  std::string caption;  ///< how to read it
};

/// Writes every picture into the existing directory `dir`, in report order. Errors of mlflow::plot
/// (e.g. kFailedPrecondition naming a file that cannot be written). Thread-safety: a free function.
StatusOr<std::vector<EdaPicture>> write_eda_pictures(const EdaResult& result,
                                                     const std::string& dir);

/// summary.json: options, per-split counts and statistics, the normalisation check, PCA, the drift
/// statistics with their thresholds and verdicts, and the names of `pictures`. Thread-safety: a
/// pure function.
std::string eda_summary_json(const EdaResult& result, const std::vector<EdaPicture>& pictures);

/// The HTML report of `result` whose figures are `pictures` in `dir` (embedded). Errors of
/// render_html_report(). Thread-safety: a free function (reads the pictures).
StatusOr<std::string> eda_html_report(const EdaResult& result,
                                      const std::vector<EdaPicture>& pictures,
                                      const std::string& dir);

/// Writes the pictures, kEdaSummaryFile and kEdaReportFile into the existing directory `dir` and
/// returns the names of the files written, pictures first. kFailedPrecondition naming a file that
/// cannot be written. Thread-safety: a free function.
StatusOr<std::vector<std::string>> write_eda_files(const EdaResult& result, const std::string& dir);

}  // namespace mlflow::fmnist

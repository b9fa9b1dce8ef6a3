// SPDX-License-Identifier: Apache-2.0
// Drift monitoring of the served model: what it sees, window after window, against the reference
// logged with the model (drift_reference.json), with an alert when a window crosses the thresholds
// calibrated for a stated false-alarm rate.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fmnist/drift_reference.h"
#include "mlflow/status.h"

namespace mlflow::serve {

/// One full window's verdict.
struct DriftWindow {
  std::int64_t index = 0;                ///< 0 for the first window the monitor saw, then 1, 2, ...
  std::int64_t images = 0;               ///< images in it (the window size)
  fmnist::DriftStatistics statistics{};  ///< indexed by fmnist::DriftStatistic
  bool alert = false;                    ///< some statistic crossed its threshold
  std::vector<std::string> crossed;      ///< which (fmnist::kDriftStatisticNames), in order
};

/// Accumulates what the served model sees into windows of reference.thresholds.window_size images
/// (500 for references fmnist_train writes) and compares each full window with the reference.
/// Thread-safety: all methods may be called from any thread (the batch worker observes, /metrics
/// reads).
class DriftMonitor {
 public:
  /// Called with each full window, on the thread of the observe() call that completed it, after
  /// the monitor's lock is released; keep it short (hand MLflow logging to another thread).
  using WindowCallback = std::function<void(const DriftWindow&)>;

  /// Uses `reference`'s histograms, window size and thresholds (edit them before, to monitor
  /// otherwise). A window size below 1 is taken as 1.
  explicit DriftMonitor(fmnist::DriftReference reference, WindowCallback on_window = {});

  /// Counts `n` images (n x 784 floats in the training scale) and the model's probabilities for
  /// them (n x reference.num_classes); returns the windows they completed (a batch may complete
  /// several, or none). kInvalidArgument naming the image for a non-finite pixel or probability;
  /// then nothing is counted.
  StatusOr<std::vector<DriftWindow>> observe(const float* images, const float* probabilities,
                                             std::int64_t n);

  /// The last full window, if any.
  std::optional<DriftWindow> last_window() const;
  /// Full windows so far.
  std::int64_t windows() const;
  /// Images counted in the window being filled.
  std::int64_t pending_images() const;
  /// The reference compared with (constant).
  const fmnist::DriftReference& reference() const { return reference_; }

 private:
  const fmnist::DriftReference reference_;
  const std::int64_t window_size_;
  const WindowCallback on_window_;
  mutable std::mutex mu_;
  fmnist::DriftHistograms current_;  // guarded by mu_
  std::int64_t windows_ = 0;         // guarded by mu_
  std::optional<DriftWindow> last_;  // guarded by mu_
};

/// A window as metrics for /metrics and the MLflow monitoring run (logged at step = index):
/// "drift_" + each statistic's name (drift_class_chi2, drift_top_prob_ks, ...), drift_alert (0 or
/// 1) and drift_window_images. Thread-safety: a pure function.
std::vector<std::pair<std::string, double>> drift_window_metrics(const DriftWindow& window);

}  // namespace mlflow::serve

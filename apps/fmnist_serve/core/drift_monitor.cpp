// SPDX-License-Identifier: Apache-2.0
// The drift monitor: features outside the lock, counting and window verdicts under it.
#include "drift_monitor.h"

#include <algorithm>

namespace mlflow::serve {

DriftMonitor::DriftMonitor(fmnist::DriftReference reference, WindowCallback on_window)
    : reference_(std::move(reference)),
      window_size_(std::max<std::int64_t>(reference_.thresholds.window_size, 1)),
      on_window_(std::move(on_window)),
      current_(fmnist::DriftHistograms::empty(reference_.num_classes)) {}

StatusOr<std::vector<DriftWindow>> DriftMonitor::observe(const float* images,
                                                         const float* probabilities,
                                                         std::int64_t n) {
  auto features = fmnist::drift_features(images, probabilities, n, reference_.num_classes);
  if (!features.ok()) return features.status().with_context("drift monitor");
  std::vector<DriftWindow> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& f : *features) {
      current_.add(f);
      if (current_.images < window_size_) continue;
      auto statistics = fmnist::drift_statistics(reference_.histograms, current_);
      current_ = fmnist::DriftHistograms::empty(reference_.num_classes);
      if (!statistics.ok()) return statistics.status().with_context("drift monitor");
      DriftWindow w;
      w.index = windows_++;
      w.images = window_size_;
      w.statistics = *statistics;
      w.crossed = fmnist::crossed_statistics(w.statistics, reference_.thresholds);
      w.alert = !w.crossed.empty();
      last_ = w;
      done.push_back(std::move(w));
    }
  }
  if (on_window_) {
    for (const auto& w : done) on_window_(w);
  }
  return done;
}

std::optional<DriftWindow> DriftMonitor::last_window() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

std::int64_t DriftMonitor::windows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return windows_;
}

std::int64_t DriftMonitor::pending_images() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_.images;
}

std::vector<std::pair<std::string, double>> drift_window_metrics(const DriftWindow& window) {
  std::vector<std::pair<std::string, double>> m;
  m.reserve(fmnist::kDriftStatisticCount + 2);
  for (int i = 0; i < fmnist::kDriftStatisticCount; ++i) {
    m.emplace_back(std::string("drift_") + fmnist::kDriftStatisticNames[i], window.statistics[i]);
  }
  m.emplace_back("drift_alert", window.alert ? 1.0 : 0.0);
  m.emplace_back("drift_window_images", static_cast<double>(window.images));
  return m;
}

}  // namespace mlflow::serve

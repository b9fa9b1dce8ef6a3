// SPDX-License-Identifier: Apache-2.0
// Thresholds from clean windows: bootstrap windows (against bootstrap references for calibration),
// a joint quantile, the reference with them.
#include "fmnist/drift_calibration.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace mlflow::fmnist {
namespace {

// The thresholds at quantile index k of each statistic's sorted values.
DriftAlertThresholds at_index(const std::vector<std::vector<double>>& sorted, std::size_t k) {
  DriftAlertThresholds t;
  for (int i = 0; i < kDriftStatisticCount; ++i) t.limits[i] = sorted[i][k];
  return t;
}

}  // namespace

StatusOr<std::vector<DriftStatistics>> window_statistics(const DriftHistograms& reference,
                                                         const std::vector<DriftFeatures>& features,
                                                         std::int64_t window_size,
                                                         std::int64_t bootstrap_windows,
                                                         std::uint64_t seed) {
  const auto n = static_cast<std::int64_t>(features.size());
  if (window_size < 1 || n < window_size) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("windows of {} images need at least that many images, have {}",
                              window_size, n));
  }
  const auto classes = static_cast<std::int64_t>(reference.predicted_class.size());
  std::vector<DriftStatistics> out;
  auto add_window = [&](auto&& image_at) -> Status {
    DriftHistograms h = DriftHistograms::empty(classes);
    for (std::int64_t i = 0; i < window_size; ++i) h.add(features[image_at(i)]);
    auto s = drift_statistics(reference, h);
    if (!s.ok()) return s.status();
    out.push_back(*s);
    return Status();
  };
  for (std::int64_t start = 0; start + window_size <= n; start += window_size) {
    MLFLOW_CPP_RETURN_IF_ERROR(
        add_window([start](std::int64_t i) { return static_cast<std::size_t>(start + i); }));
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, features.size() - 1);
  for (std::int64_t w = 0; w < bootstrap_windows; ++w) {
    MLFLOW_CPP_RETURN_IF_ERROR(add_window([&](std::int64_t) { return pick(rng); }));
  }
  return out;
}

StatusOr<std::vector<DriftStatistics>> calibration_statistics(
    const std::vector<DriftFeatures>& features, std::int64_t num_classes, std::int64_t window_size,
    std::int64_t windows, std::uint64_t seed) {
  constexpr std::int64_t kWindowsPerReference = 100;
  const auto n = static_cast<std::int64_t>(features.size());
  if (window_size < 1 || n < window_size) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("windows of {} images need at least that many images, have {}",
                              window_size, n));
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, features.size() - 1);
  auto resample = [&](std::int64_t size) {
    DriftHistograms h = DriftHistograms::empty(num_classes);
    for (std::int64_t i = 0; i < size; ++i) h.add(features[pick(rng)]);
    return h;
  };
  std::vector<DriftStatistics> out;
  DriftHistograms reference;
  for (std::int64_t w = 0; w < windows; ++w) {
    if (w % kWindowsPerReference == 0) reference = resample(n);
    auto s = drift_statistics(reference, resample(window_size));
    if (!s.ok()) return s.status();
    out.push_back(*s);
  }
  return out;
}

StatusOr<DriftAlertThresholds> calibrate_thresholds(const std::vector<DriftStatistics>& clean,
                                                    std::int64_t window_size,
                                                    double false_alarm_rate) {
  if (clean.empty()) {
    return Status(StatusCode::kInvalidArgument, "no clean windows to calibrate thresholds on");
  }
  if (!(false_alarm_rate > 0 && false_alarm_rate < 1)) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("the false-alarm rate must be in (0, 1), not {}", false_alarm_rate));
  }
  std::vector<std::vector<double>> sorted(kDriftStatisticCount);
  for (int i = 0; i < kDriftStatisticCount; ++i) {
    for (const auto& s : clean) sorted[i].push_back(s[i]);
    std::sort(sorted[i].begin(), sorted[i].end());
  }
  // The alert share falls as the index rises (to 0 at the maxima): the lowest index within the
  // rate, by bisection.
  std::size_t lo = 0, hi = clean.size() - 1;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (alert_rate(clean, at_index(sorted, mid)) <= false_alarm_rate) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  DriftAlertThresholds t = at_index(sorted, lo);
  t.window_size = window_size;
  t.false_alarm_rate = false_alarm_rate;
  t.calibration_windows = static_cast<std::int64_t>(clean.size());
  t.quantile =
      clean.size() > 1 ? static_cast<double>(lo) / static_cast<double>(clean.size() - 1) : 1.0;
  return t;
}

double alert_rate(const std::vector<DriftStatistics>& windows,
                  const DriftAlertThresholds& thresholds) {
  if (windows.empty()) return 0;
  std::size_t alerts = 0;
  for (const auto& s : windows) alerts += crossed_statistics(s, thresholds).empty() ? 0 : 1;
  return static_cast<double>(alerts) / static_cast<double>(windows.size());
}

StatusOr<DriftReference> compute_drift_reference(const float* images, const float* probabilities,
                                                 std::int64_t n, std::int64_t num_classes,
                                                 const DriftCalibrationOptions& options,
                                                 const std::string& source) {
  auto features = drift_features(images, probabilities, n, num_classes);
  if (!features.ok()) return features.status().with_context("drift reference");
  DriftReference r;
  r.num_classes = num_classes;
  r.source = source;
  r.histograms = DriftHistograms::empty(num_classes);
  for (const auto& f : *features) r.histograms.add(f);
  auto clean = calibration_statistics(*features, num_classes, options.window_size,
                                      options.bootstrap_windows, options.seed);
  if (!clean.ok()) return clean.status().with_context("drift reference");
  auto thresholds = calibrate_thresholds(*clean, options.window_size, options.false_alarm_rate);
  if (!thresholds.ok()) return thresholds.status().with_context("drift reference");
  r.thresholds = *thresholds;
  return r;
}

}  // namespace mlflow::fmnist

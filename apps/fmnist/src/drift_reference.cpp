// SPDX-License-Identifier: Apache-2.0
// Drift features of images and predictions, their histograms, and a window's statistics against a
// reference.
#include "fmnist/drift_reference.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "fmnist/eda_drift.h"

namespace mlflow::fmnist {
namespace {

constexpr double kBinWidth = 1.0 / kDriftBins;

void count(std::vector<double>& bins, double value) {
  const double scaled = std::floor(value * kDriftBins);
  const int bin = scaled < 0 ? 0 : scaled >= kDriftBins ? kDriftBins - 1 : static_cast<int>(scaled);
  bins[static_cast<std::size_t>(bin)] += 1;
}

}  // namespace

StatusOr<std::vector<DriftFeatures>> drift_features(const float* images, const float* probabilities,
                                                    std::int64_t n, std::int64_t num_classes) {
  if (n < 0 || num_classes < 2) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("drift features need n >= 0 images and at least 2 classes, not {} "
                              "images of {} classes",
                              n, num_classes));
  }
  const double log_classes = std::log(static_cast<double>(num_classes));
  std::vector<DriftFeatures> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    DriftFeatures& f = out[static_cast<std::size_t>(i)];
    const float* p = probabilities + i * num_classes;
    double top = -1, entropy = 0;
    for (std::int64_t c = 0; c < num_classes; ++c) {
      const double v = p[c];
      if (!std::isfinite(v)) {
        return Status(StatusCode::kInvalidArgument,
                      fmt::format("image {}: probability of class {} is {}", i, c, v));
      }
      if (v > top) {
        top = v;
        f.predicted_class = c;
      }
      if (v > 0) entropy -= v * std::log(v);
    }
    f.top_probability = top;
    f.entropy = entropy / log_classes;
    const float* x = images + i * kDriftImageSize;
    double sum = 0;
    std::int64_t background = 0;
    for (std::int64_t k = 0; k < kDriftImageSize; ++k) {
      if (!std::isfinite(x[k])) {
        return Status(StatusCode::kInvalidArgument,
                      fmt::format("image {}: pixel {} is {}", i, k, x[k]));
      }
      sum += x[k];
      background += x[k] < kBackgroundLevel ? 1 : 0;
    }
    f.mean_intensity = sum / kDriftImageSize;
    f.background_fraction = static_cast<double>(background) / kDriftImageSize;
  }
  return out;
}

DriftHistograms DriftHistograms::empty(std::int64_t num_classes) {
  DriftHistograms h;
  h.predicted_class.assign(static_cast<std::size_t>(std::max<std::int64_t>(num_classes, 0)), 0);
  for (auto* bins : {&h.top_probability, &h.entropy, &h.mean_intensity, &h.background_fraction}) {
    bins->assign(kDriftBins, 0);
  }
  return h;
}

void DriftHistograms::add(const DriftFeatures& f) {
  if (f.predicted_class >= 0 &&
      f.predicted_class < static_cast<std::int64_t>(predicted_class.size()))
    predicted_class[static_cast<std::size_t>(f.predicted_class)] += 1;
  count(top_probability, f.top_probability);
  count(entropy, f.entropy);
  count(mean_intensity, f.mean_intensity);
  count(background_fraction, f.background_fraction);
  ++images;
}

StatusOr<DriftStatistics> drift_statistics(const DriftHistograms& reference,
                                           const DriftHistograms& window) {
  DriftStatistics s{};
  auto chi2 = chi_square_statistic(window.predicted_class, reference.predicted_class);
  if (!chi2.ok()) return chi2.status().with_context("predicted classes (window, reference)");
  s[kClassChi2] = *chi2;
  struct Continuous {
    const std::vector<double> DriftHistograms::*bins;
    DriftStatistic ks, w1;
  };
  for (const Continuous& c :
       {Continuous{&DriftHistograms::top_probability, kTopProbabilityKs, kTopProbabilityW1},
        Continuous{&DriftHistograms::entropy, kEntropyKs, kEntropyW1},
        Continuous{&DriftHistograms::mean_intensity, kIntensityKs, kIntensityW1},
        Continuous{&DriftHistograms::background_fraction, kBackgroundKs, kBackgroundW1}}) {
    const auto& a = reference.*c.bins;
    const auto& b = window.*c.bins;
    auto ks = ks_statistic(a, b);
    if (!ks.ok()) return ks.status().with_context(kDriftStatisticNames[c.ks]);
    auto w1 = wasserstein_distance(a, b, kBinWidth);
    if (!w1.ok()) return w1.status().with_context(kDriftStatisticNames[c.w1]);
    s[c.ks] = *ks;
    s[c.w1] = *w1;
  }
  return s;
}

std::vector<std::string> crossed_statistics(const DriftStatistics& statistics,
                                            const DriftAlertThresholds& thresholds) {
  std::vector<std::string> crossed;
  for (int i = 0; i < kDriftStatisticCount; ++i) {
    if (statistics[i] > thresholds.limits[i]) crossed.emplace_back(kDriftStatisticNames[i]);
  }
  return crossed;
}

}  // namespace mlflow::fmnist

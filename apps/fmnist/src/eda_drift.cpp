// SPDX-License-Identifier: Apache-2.0
// Drift statistics over histograms (PSI, chi-square, KS, Wasserstein-1) and the EDA's verdicts.
#include "fmnist/eda_drift.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace mlflow::fmnist {
namespace {

// Each bin's share of the total, after checking the pair of histograms is comparable.
StatusOr<std::vector<double>> shares(const std::vector<double>& counts, std::size_t bins,
                                     const char* which) {
  if (counts.empty() || counts.size() != bins) {
    return Status(StatusCode::kInvalidArgument,
                  "histograms to compare need the same, non-zero number of bins; got " +
                      std::to_string(bins) + " and " + std::to_string(counts.size()));
  }
  double total = 0;
  for (double c : counts) {
    if (!std::isfinite(c) || c < 0) {
      return Status(StatusCode::kInvalidArgument,
                    std::string("the ") + which + " histogram has a count of " + std::to_string(c));
    }
    total += c;
  }
  if (total <= 0)
    return Status(StatusCode::kInvalidArgument,
                  std::string("the ") + which + " histogram is empty");
  std::vector<double> out(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) out[i] = counts[i] / total;
  return out;
}

std::vector<double> as_doubles(const std::vector<std::int64_t>& v) { return {v.begin(), v.end()}; }

DriftLevel worse(DriftLevel a, DriftLevel b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

}  // namespace

const char* drift_level_name(DriftLevel level) {
  switch (level) {
    case DriftLevel::kNone:
      return "no drift";
    case DriftLevel::kMinor:
      return "minor";
    case DriftLevel::kSignificant:
      return "significant";
  }
  return "no drift";
}

StatusOr<double> population_stability_index(const std::vector<double>& expected,
                                            const std::vector<double>& actual, double floor) {
  auto e = shares(expected, actual.size(), "first");
  if (!e.ok()) return e.status();
  auto a = shares(actual, expected.size(), "second");
  if (!a.ok()) return a.status();
  double psi = 0;
  for (std::size_t i = 0; i < e->size(); ++i) {
    const double ei = std::max((*e)[i], floor), ai = std::max((*a)[i], floor);
    psi += (ai - ei) * std::log(ai / ei);  // each term >= 0, and exactly 0 where the shares agree
  }
  return psi;
}

StatusOr<double> ks_statistic(const std::vector<double>& a, const std::vector<double>& b) {
  auto sa = shares(a, b.size(), "first");
  if (!sa.ok()) return sa.status();
  auto sb = shares(b, a.size(), "second");
  if (!sb.ok()) return sb.status();
  double ca = 0, cb = 0, d = 0;
  for (std::size_t i = 0; i < sa->size(); ++i) {
    ca += (*sa)[i];
    cb += (*sb)[i];
    d = std::max(d, std::abs(ca - cb));
  }
  return std::min(d, 1.0);
}

StatusOr<double> chi_square_statistic(const std::vector<double>& observed,
                                      const std::vector<double>& expected, double floor) {
  auto o = shares(observed, expected.size(), "first");
  if (!o.ok()) return o.status();
  auto e = shares(expected, observed.size(), "second");
  if (!e.ok()) return e.status();
  double total = 0;
  for (double c : observed) total += c;
  double chi2 = 0;
  for (std::size_t i = 0; i < o->size(); ++i) {
    const double p = std::max((*e)[i], floor), d = (*o)[i] - p;
    chi2 += total * d * d / p;  // (O - N p)^2 / (N p) with O = N o
  }
  return chi2;
}

StatusOr<double> wasserstein_distance(const std::vector<double>& a, const std::vector<double>& b,
                                      double bin_width) {
  if (!std::isfinite(bin_width) || bin_width <= 0) {
    return Status(StatusCode::kInvalidArgument,
                  "the bin width must be positive and finite, not " + std::to_string(bin_width));
  }
  auto sa = shares(a, b.size(), "first");
  if (!sa.ok()) return sa.status();
  auto sb = shares(b, a.size(), "second");
  if (!sb.ok()) return sb.status();
  double ca = 0, cb = 0, w = 0;
  for (std::size_t i = 0; i < sa->size(); ++i) {
    ca += (*sa)[i];
    cb += (*sb)[i];
    w += std::abs(ca - cb);
  }
  return w * bin_width;
}

DriftLevel psi_level(double psi, const DriftThresholds& t) {
  if (psi >= t.psi_significant) return DriftLevel::kSignificant;
  return psi >= t.psi_minor ? DriftLevel::kMinor : DriftLevel::kNone;
}

DriftLevel ks_level(double ks, const DriftThresholds& t) {
  if (ks >= t.ks_significant) return DriftLevel::kSignificant;
  return ks >= t.ks_minor ? DriftLevel::kMinor : DriftLevel::kNone;
}

StatusOr<DriftReport> compare_splits(const DriftInput& reference, const DriftInput& current,
                                     const DriftThresholds& thresholds) {
  DriftReport r;
  r.thresholds = thresholds;
  auto class_psi = population_stability_index(as_doubles(reference.class_counts),
                                              as_doubles(current.class_counts));
  if (!class_psi.ok()) return class_psi.status().with_context("class frequencies");
  r.class_frequency.psi = *class_psi;
  r.class_frequency.level = psi_level(*class_psi, thresholds);

  const auto ref_px = as_doubles(reference.pixel_histogram),
             cur_px = as_doubles(current.pixel_histogram);
  auto pixel_psi = population_stability_index(ref_px, cur_px);
  if (!pixel_psi.ok()) return pixel_psi.status().with_context("pixel intensities");
  auto pixel_ks = ks_statistic(ref_px, cur_px);
  if (!pixel_ks.ok()) return pixel_ks.status().with_context("pixel intensities");
  r.pixel_intensity.psi = *pixel_psi;
  r.pixel_intensity.ks = *pixel_ks;
  r.pixel_intensity.level =
      worse(psi_level(*pixel_psi, thresholds), ks_level(*pixel_ks, thresholds));
  r.overall = worse(r.class_frequency.level, r.pixel_intensity.level);
  return r;
}

}  // namespace mlflow::fmnist

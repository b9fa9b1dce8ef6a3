// SPDX-License-Identifier: Apache-2.0
// Tests of the drift monitor: windows across batch boundaries, alerts on a shifted window, the
// callback, bad input, concurrent observers, the metrics of a window.
#include "drift_monitor.h"

#include <doctest/doctest.h>

#include <limits>
#include <thread>

namespace mlflow::serve {
namespace {

constexpr std::int64_t kClasses = 2;

// `n` identical images of intensity `pixel`, all predicted `cls` with probability 0.75 (exact in
// float, so it falls in the reference's bin).
struct Batch {
  std::vector<float> images, probs;
};
Batch batch(std::int64_t n, float pixel, int cls) {
  Batch b;
  b.images.assign(static_cast<std::size_t>(n * fmnist::kDriftImageSize), pixel);
  for (std::int64_t i = 0; i < n; ++i) {
    b.probs.push_back(cls == 0 ? 0.75f : 0.25f);
    b.probs.push_back(cls == 0 ? 0.25f : 0.75f);
  }
  return b;
}

// Dark images of both classes in equal shares; windows of 10; every statistic alerts above 0.5.
fmnist::DriftReference reference() {
  fmnist::DriftReference r;
  r.num_classes = kClasses;
  r.histograms = fmnist::DriftHistograms::empty(kClasses);
  // Probabilities 0.75 / 0.25: entropy 0.8113 of ln 2.
  for (int i = 0; i < 100; ++i) r.histograms.add({i % 2, 0.75, 0.81, 0.0, 1.0});
  r.thresholds.window_size = 10;
  r.thresholds.limits.fill(0.5);
  return r;
}

// Observes `n` dark images, alternating classes image by image as the reference does.
StatusOr<std::vector<DriftWindow>> observe_clean(DriftMonitor& m, std::int64_t n) {
  Batch b = batch(n, 0.0f, 0);
  for (std::int64_t i = 1; i < n; i += 2) std::swap(b.probs[2 * i], b.probs[2 * i + 1]);
  return m.observe(b.images.data(), b.probs.data(), n);
}

TEST_CASE("drift monitor: windows fill across batches, and a clean one does not alert") {
  std::vector<std::int64_t> seen;
  DriftMonitor m(reference(), [&seen](const DriftWindow& w) { seen.push_back(w.index); });
  CHECK_FALSE(m.last_window().has_value());
  auto first = observe_clean(m, 6);
  REQUIRE(first.ok());
  CHECK(first->empty());
  CHECK(m.pending_images() == 6);
  auto second = observe_clean(m, 16);  // completes windows 0 (4 + 6) and 1 (10), 2 left over
  REQUIRE(second.ok());
  REQUIRE(second->size() == 2);
  CHECK((*second)[0].index == 0);
  CHECK((*second)[1].index == 1);
  CHECK((*second)[1].images == 10);
  CHECK_FALSE((*second)[1].alert);
  CHECK((*second)[1].statistics[fmnist::kClassChi2] == 0.0);
  CHECK(m.pending_images() == 2);
  CHECK(m.windows() == 2);
  CHECK(seen == std::vector<std::int64_t>{0, 1});
  CHECK(m.last_window()->index == 1);
}

TEST_CASE("drift monitor: a window of bright images of one class alerts, naming what crossed") {
  DriftMonitor m(reference());
  const Batch b = batch(10, 1.0f, 1);
  auto w = m.observe(b.images.data(), b.probs.data(), 10);
  REQUIRE(w.ok());
  REQUIRE(w->size() == 1);
  CHECK((*w)[0].alert);
  CHECK((*w)[0].crossed == std::vector<std::string>{"class_chi2", "intensity_ks", "background_ks",
                                                    "intensity_w1", "background_w1"});
  CHECK(m.last_window()->alert);

  const auto metrics = drift_window_metrics((*w)[0]);
  REQUIRE(metrics.size() == fmnist::kDriftStatisticCount + 2);
  CHECK(metrics[0].first == "drift_class_chi2");
  CHECK(metrics[0].second == doctest::Approx(10.0));
  CHECK(metrics[1].first == "drift_top_prob_ks");
  CHECK(metrics[fmnist::kDriftStatisticCount].first == "drift_alert");
  CHECK(metrics[fmnist::kDriftStatisticCount].second == 1.0);
  CHECK(metrics.back() == std::pair<std::string, double>{"drift_window_images", 10.0});
}

TEST_CASE("drift monitor: a batch with a bad probability is refused and not counted") {
  DriftMonitor m(reference());
  Batch b = batch(4, 0.0f, 0);
  b.probs[5] = std::numeric_limits<float>::quiet_NaN();
  auto w = m.observe(b.images.data(), b.probs.data(), 4);
  CHECK(w.status().code() == StatusCode::kInvalidArgument);
  CHECK(w.status().message() == "drift monitor: image 2: probability of class 1 is nan");
  CHECK(m.pending_images() == 0);
}

TEST_CASE("drift monitor: concurrent observers lose no image") {
  DriftMonitor m(reference());
  auto observe_many = [&m] {
    for (int i = 0; i < 50; ++i) CHECK(observe_clean(m, 7).ok());
  };
  std::thread a(observe_many), b(observe_many);
  a.join();
  b.join();
  CHECK(m.windows() * 10 + m.pending_images() == 2 * 50 * 7);
  CHECK(m.windows() == 70);
}

}  // namespace
}  // namespace mlflow::serve

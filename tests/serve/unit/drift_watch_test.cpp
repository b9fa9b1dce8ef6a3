// SPDX-License-Identifier: Apache-2.0
// The drift watch: a monitor per model version from the reference beside its MLmodel, windows to
// /metrics and the logging callback, a model without a reference served unwatched.
#include "drift_watch.h"

#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "fake_predictor.h"
#include "fmnist/drift_reference_file.h"
#include "support/test_support.h"

namespace mlflow::serve {
namespace {

using testing::FakePredictor;
using testing::images_of_classes;

// The fake's answers (one-hot, near-empty images) in all ten classes; windows of 10.
fmnist::DriftReference reference() {
  fmnist::DriftReference r;
  r.num_classes = 10;
  r.histograms = fmnist::DriftHistograms::empty(10);
  for (int i = 0; i < 100; ++i) r.histograms.add({i % 10, 1.0, 0.0, 0.0, 1.0});
  r.thresholds.window_size = 10;
  r.thresholds.limits.fill(0.5);
  return r;
}

std::shared_ptr<FakePredictor> model_in(const std::string& dir, const std::string& version) {
  auto info = FakePredictor(version).info();
  info.local_dir = dir;
  return std::make_shared<FakePredictor>(version, false, info);
}

void observe(DriftWatch& watch, const Predictor& model, const std::vector<int>& classes) {
  auto images = images_of_classes(classes);
  auto probs = const_cast<Predictor&>(model).predict(images.data(),
                                                     static_cast<std::int64_t>(classes.size()));
  REQUIRE(probs.ok());
  watch.observe(images.data(), probs->data(), static_cast<std::int64_t>(classes.size()), model);
}

TEST_CASE(
    "drift watch: each version is watched against its own reference, windows reach the "
    "metrics and the callback") {
  mlflow::testing::TempDir with_reference;
  REQUIRE(fmnist::save_drift_reference(
              reference(), with_reference.path() + "/" + fmnist::kDriftReferenceFileName)
              .ok());
  mlflow::testing::TempDir without_reference;
  ServeMetrics metrics;
  std::vector<std::string> logged;  // "version:window"
  DriftWatch watch(metrics, [&logged](const DriftWindow& w, const ModelInfo& m) {
    logged.push_back(m.version + ":" + std::to_string(w.index));
  });
  CHECK(watch.health()["drift"]["watching"] == false);

  auto v1 = model_in(with_reference.path(), "1");
  observe(watch, *v1, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1});
  auto health = watch.health()["drift"];
  CHECK(health["watching"] == true);
  CHECK(health["windows"] == 1);
  CHECK(health["pending_images"] == 2);
  CHECK(health["last"]["alert"] == false);
  CHECK(logged == std::vector<std::string>{"1:0"});
  CHECK(metrics.text().find("fmnist_serve_drift{statistic=\"alert\"} 0") != std::string::npos);

  // Version 2 has no reference: served unwatched, and /health says why.
  auto v2 = model_in(without_reference.path(), "2");
  observe(watch, *v2, std::vector<int>(20, 3));
  health = watch.health()["drift"];
  CHECK(health["watching"] == false);
  CHECK(health["note"].get<std::string>().find("drift_reference.json") != std::string::npos);
  CHECK(logged.size() == 1);

  // Back to a watched version: a fresh monitor; ten images of one class alert.
  auto v3 = model_in(with_reference.path(), "3");
  observe(watch, *v3, std::vector<int>(10, 3));
  health = watch.health()["drift"];
  CHECK(health["windows"] == 1);
  CHECK(health["last"]["alert"] == true);
  CHECK(logged.back() == "3:0");
  CHECK(metrics.text().find("fmnist_serve_drift{statistic=\"alert\"} 1") != std::string::npos);
}

TEST_CASE("drift watch: a reference that cannot be read leaves the model unwatched, named why") {
  mlflow::testing::TempDir dir;
  {
    std::ofstream(dir.path() + "/" + fmnist::kDriftReferenceFileName) << "{\"format_version\": 9}";
  }
  ServeMetrics metrics;
  DriftWatch watch(metrics);
  auto model = model_in(dir.path(), "1");
  observe(watch, *model, {1});
  auto health = watch.health()["drift"];
  CHECK(health["watching"] == false);
  CHECK(health["note"].get<std::string>().find("cannot be used") != std::string::npos);
}

}  // namespace
}  // namespace mlflow::serve

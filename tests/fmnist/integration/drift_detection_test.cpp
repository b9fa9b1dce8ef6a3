// SPDX-License-Identifier: Apache-2.0
// Drift detection with a really trained model: fmnist_train's run logs drift_reference.json with
// the model, a models:/NAME@champion fetch brings it, and its thresholds (calibrated on validation
// windows for a 1% false-alarm rate) hold on clean test windows and are crossed by windows of
// inverted, rotated and noisy test images.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>

#include "fmnist/drift_calibration.h"
#include "fmnist/drift_reference_file.h"
#include "fmnist/tracked_training.h"
#include "real_fmnist.h"
#include "support/test_support.h"

namespace mlflow::fmnist {
namespace {

constexpr int kSide = 28;
constexpr std::int64_t kBootstrapWindows = 10000;

using Shift = std::function<void(const float* in, float* out)>;  // one image

void invert(const float* in, float* out) {
  for (int k = 0; k < kSide * kSide; ++k) out[k] = 1.0f - in[k];
}

void rotate90(const float* in, float* out) {  // counter-clockwise
  for (int r = 0; r < kSide; ++r) {
    for (int c = 0; c < kSide; ++c) out[r * kSide + c] = in[c * kSide + (kSide - 1 - r)];
  }
}

Shift gaussian_noise(double sigma) {
  auto rng = std::make_shared<std::mt19937_64>(11);
  return [rng, sigma](const float* in, float* out) {
    std::normal_distribution<float> noise(0.0f, static_cast<float>(sigma));
    for (int k = 0; k < kSide * kSide; ++k) out[k] = std::clamp(in[k] + noise(*rng), 0.0f, 1.0f);
  };
}

// The statistics of clean windows (consecutive, then bootstrap) of `images` as the model sees them.
std::vector<DriftStatistics> windows_of(const SavedModel& model, const DriftReference& reference,
                                        const std::vector<float>& images, std::int64_t bootstrap) {
  const auto n = static_cast<std::int64_t>(images.size()) / kDriftImageSize;
  auto probs = predict_saved_model(model, images.data(), n, 2);
  REQUIRE_MESSAGE(probs.ok(), probs.status().to_string());
  auto features = drift_features(images.data(), probs->data(), n, reference.num_classes);
  REQUIRE_MESSAGE(features.ok(), features.status().to_string());
  auto windows = window_statistics(reference.histograms, *features,
                                   reference.thresholds.window_size, bootstrap, 7);
  REQUIRE_MESSAGE(windows.ok(), windows.status().to_string());
  return std::move(*windows);
}

std::vector<float> shifted(const std::vector<float>& images, const Shift& shift) {
  std::vector<float> out(images.size());
  for (std::size_t i = 0; i < images.size(); i += kDriftImageSize) {
    shift(&images[i], &out[i]);
  }
  return out;
}

TEST_CASE("drift detection: clean test windows stay under the thresholds, shifted ones cross") {
  auto client = testing::test_client();
  const FmnistSplits& data = testing::real_fmnist_splits();
  TrainConfig config;
  config.train_limit = 5000;
  config.max_epochs = 1;
  config.batch_size = 32;
  config.threads = 2;
  const std::string name = testing::unique_name("fmnist-drift");
  RunOptions ro;
  ro.experiment_name = testing::unique_name("fmnist-drift");
  auto run = ActiveRun::start(client, ro);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  TrackedTrainingOptions options;
  options.progress.quiet = true;
  options.register_model_name = name;
  options.register_alias = "champion";
  auto trained = run_tracked_training(config, data, fmnist_data_dir(), *run, options);
  REQUIRE_MESSAGE(trained.ok(), trained.status().to_string());
  REQUIRE(run->end().ok());

  // The reference travels with the registered model.
  testing::TempDir dir;
  auto model = libtorch::fetch_model(client, "models:/" + name + "@champion", dir.path() + "/m");
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  auto reference = load_drift_reference(model->dir + "/" + kDriftReferenceFileName);
  REQUIRE_MESSAGE(reference.ok(), reference.status().to_string());
  CHECK(reference->source == "validation split");
  CHECK(reference->histograms.images == data.validation.size());
  CHECK(reference->thresholds.window_size == 500);
  CHECK(reference->thresholds.false_alarm_rate == 0.01);

  const SavedModel saved{model->flavor.config_json, model->weights_path};
  const std::vector<float> test = training_scale_images(data.test);
  const auto clean = windows_of(saved, *reference, test, kBootstrapWindows);
  const double false_alarms = alert_rate(clean, reference->thresholds);
  std::printf(
      "drift: windows of %lld images, stated false-alarm rate %.3f; measured on %zu clean "
      "test windows: %.4f\n",
      static_cast<long long>(reference->thresholds.window_size),
      reference->thresholds.false_alarm_rate, clean.size(), false_alarms);
  CHECK(false_alarms <= 2 * reference->thresholds.false_alarm_rate);  // measured 0.0108 at 1%

  const std::pair<const char*, Shift> shifts[] = {
      {"inverted (1 - x)", invert},
      {"rotated 90 degrees", rotate90},
      {"Gaussian noise sigma 0.3, clamped", gaussian_noise(0.3)}};
  // The first 2000 test images suffice for the shifts: 4 windows and 100 resampled ones each.
  const std::vector<float> head(test.begin(), test.begin() + 2000 * kDriftImageSize);
  for (const auto& [what, shift] : shifts) {
    const auto windows = windows_of(saved, *reference, shifted(head, shift), 100);
    const double detected = alert_rate(windows, reference->thresholds);
    std::printf("drift: %s: %zu windows, detection rate %.4f\n", what, windows.size(), detected);
    CHECK_MESSAGE(detected >= 0.99, what);
  }
}

}  // namespace
}  // namespace mlflow::fmnist

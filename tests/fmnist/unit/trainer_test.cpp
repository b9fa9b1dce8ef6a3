// SPDX-License-Identifier: Apache-2.0
// The training loop on small synthetic data: determinism, the feature cache, early stopping,
// rotation.
#include <ATen/ATen.h>

#include "fmnist/fmnist_tensors.h"
#include "fmnist/models.h"
#include "fmnist/trainer.h"

#include <doctest/doctest.h>

#include <cmath>

#include "support/test_support.h"

using mlflow::StatusCode;
using mlflow::testing::TempDir;
namespace fm = mlflow::fmnist;

namespace {

// n images whose class is visible: a bright horizontal band at row 2 * label, on noise.
fm::TensorSet synthetic(std::int64_t n, std::uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor labels = at::randint(0, 10, {n}, at::kLong);
  at::Tensor images = at::randn({n, 1, 28, 28}) * 0.3;
  for (std::int64_t i = 0; i < n; ++i) images[i][0][2 * labels[i].item<std::int64_t>() + 4] += 2.0;
  return {images, labels};
}

fm::FmnistSplits small_splits() {
  fm::FmnistSplits s;
  s.train = synthetic(320, 1);
  s.validation = synthetic(96, 2);
  s.test = synthetic(96, 3);
  return s;
}

fm::TrainConfig small_config() {
  fm::TrainConfig c;
  c.batch_size = 32;
  c.max_epochs = 2;
  c.threads = 1;
  c.seed = 7;
  return c;
}

fm::TrainOutcome train(const fm::TrainConfig& c, const fm::FmnistSplits& data, const TempDir& dir,
                       const fm::TrainCallbacks& cb = {}) {
  auto out = fm::train_fmnist(c, data, dir.path(), cb);
  REQUIRE_MESSAGE(out.ok(), out.status().to_string());
  return *out;
}

}  // namespace

TEST_CASE(
    "trainer: learns a visible pattern, keeps the best epoch and evaluates it on the test split") {
  TempDir dir;
  const auto data = small_splits();
  auto c = small_config();
  c.max_epochs = 3;
  const auto out = train(c, data, dir);
  REQUIRE(out.history.size() == 3);
  CHECK(out.history.back().val_accuracy > 0.5);
  CHECK(out.test.accuracy > 0.5);
  CHECK(out.test.predictions.size() == 96);
  CHECK(out.best_epoch >= 1);
  for (const auto& e : out.history)
    CHECK(e.val_accuracy <= out.history[out.best_epoch - 1].val_accuracy);
  CHECK(out.history[0].learning_rate == doctest::Approx(1e-3));
  CHECK(out.history[1].learning_rate < out.history[0].learning_rate);  // cosine schedule
  CHECK(out.history[0].images_per_second > 0);
  CHECK(out.class_names.size() == 10);
  // The saved weights are the best epoch's: evaluating them reproduces the test predictions.
  auto again = fm::evaluate_saved_model({out.model_config_json, out.weights_path}, data, 1);
  REQUIRE(again.ok());
  CHECK(again->predictions == out.test.predictions);
}

TEST_CASE("trainer: the same seed and threads give identical metrics") {
  TempDir a, b;
  const auto data = small_splits();
  const auto x = train(small_config(), data, a);
  const auto y = train(small_config(), data, b);
  REQUIRE(x.history.size() == y.history.size());
  for (std::size_t i = 0; i < x.history.size(); ++i) {
    CHECK(x.history[i].train_loss == y.history[i].train_loss);
    CHECK(x.history[i].val_loss == y.history[i].val_loss);
    CHECK(x.history[i].val_accuracy == y.history[i].val_accuracy);
  }
  CHECK(x.test.predictions == y.test.predictions);
  auto other = small_config();
  other.seed = 8;
  CHECK(train(other, data, a).history[0].train_loss != x.history[0].train_loss);
}

TEST_CASE(
    "trainer: the frozen-backbone feature cache gives the same results as running the backbone") {
  TempDir a, b;
  const auto data = small_splits();
  auto c = small_config();
  c.frozen_backbone = true;
  const auto cached = train(c, data, a);
  c.feature_cache = false;
  const auto direct = train(c, data, b);
  CHECK(cached.feature_cache_seconds > 0);
  CHECK(direct.feature_cache_seconds == 0);
  CHECK(cached.trainable_parameters < cached.parameters);
  REQUIRE(cached.history.size() == direct.history.size());
  for (std::size_t i = 0; i < cached.history.size(); ++i) {
    CHECK(cached.history[i].train_loss ==
          doctest::Approx(direct.history[i].train_loss).epsilon(1e-4));
    CHECK(cached.history[i].val_accuracy == doctest::Approx(direct.history[i].val_accuracy));
  }
  CHECK(cached.test.accuracy == doctest::Approx(direct.test.accuracy));
}

TEST_CASE("trainer: early stopping ends training when validation accuracy stops improving") {
  TempDir dir;
  auto c = small_config();
  c.max_epochs = 10;
  c.learning_rate =
      1e-12;  // with the batch-norm statistics frozen too, nothing changes: epoch 1 stays best
  c.frozen_backbone = true;
  c.lr_schedule = "none";
  c.early_stopping_patience = 2;
  const auto out = train(c, small_splits(), dir);
  CHECK(out.stopped_early);
  CHECK(out.history.size() == 3);
  CHECK(out.best_epoch == 1);
}

TEST_CASE("trainer: rotation pretraining labels the four rotations and ignores the classes") {
  TempDir dir;
  auto c = small_config();
  c.task = fm::kTaskRotation;
  c.max_epochs = 1;
  const auto out = train(c, small_splits(), dir);
  CHECK(out.class_names == fm::rotation_class_names());
  CHECK(out.test.labels.size() == 4 * 96);
  CHECK(*std::max_element(out.test.labels.begin(), out.test.labels.end()) == 3);
  CHECK(*std::max_element(out.test.predictions.begin(), out.test.predictions.end()) <= 3);
}

TEST_CASE("trainer: a backbone from a file is loaded, and a bad one is a clear error") {
  TempDir dir;
  const auto data = small_splits();
  auto c = small_config();
  c.backbone_weights = dir.path() + "/missing.pt";
  auto missing = fm::train_fmnist(c, data, dir.path());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("missing.pt") != std::string::npos);
  c.backbone_weights = "models:/fmnist-backbone@pretrained";
  auto no_resolver = fm::train_fmnist(c, data, dir.path());
  CHECK(no_resolver.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE(
    "trainer: a backbone URI of other preprocessing or another architecture is refused, naming the "
    "URI") {
  TempDir dir;
  const auto data = small_splits();
  auto c = small_config();
  c.backbone_weights = "models:/other-backbone@pretrained";
  fm::ModelConfig
      donor;  // the small config's own model (SmallCNN), as a registry would describe it
  fm::BackboneResolver resolve = [&](const std::string&) -> mlflow::StatusOr<fm::SavedModel> {
    return fm::SavedModel{donor.to_json(), dir.path() + "/never-read.pt"};
  };
  donor.input = "fashion-mnist 1x28x28 x/255";
  auto other_input = fm::train_fmnist(c, data, dir.path(), {}, resolve);
  REQUIRE_FALSE(other_input.ok());
  CHECK(other_input.status().code() == StatusCode::kInvalidArgument);
  CHECK(other_input.status().message().find("models:/other-backbone@pretrained") !=
        std::string::npos);
  CHECK(other_input.status().message().find("pretrained on input 'fashion-mnist 1x28x28 x/255'") !=
        std::string::npos);

  donor = fm::ModelConfig{};
  donor.architecture = fm::kMobileNetV2;
  auto other_model = fm::train_fmnist(c, data, dir.path(), {}, resolve);
  REQUIRE_FALSE(other_model.ok());
  CHECK(other_model.status().code() == StatusCode::kInvalidArgument);
  CHECK(other_model.status().message().find("is a mobilenet_v2") != std::string::npos);
}

TEST_CASE("trainer: cancellation and callback errors stop training") {
  TempDir dir;
  const auto data = small_splits();
  fm::TrainCallbacks cb;
  int batches = 0;
  cb.on_batch = [&](std::int64_t, std::int64_t, std::int64_t, double, double) { ++batches; };
  cb.cancelled = [&] { return batches >= 3; };
  auto cancelled = fm::train_fmnist(small_config(), data, dir.path(), cb);
  CHECK(cancelled.status().code() == StatusCode::kCancelled);
  CHECK(batches == 3);

  // Ctrl-C while a frozen backbone's features are being cached (about a minute on real data): no
  // batch has run.
  auto frozen = small_config();
  frozen.frozen_backbone = true;
  int polls = 0;
  fm::TrainCallbacks during_cache;
  int trained = 0;
  during_cache.cancelled = [&] { return ++polls >= 2; };
  during_cache.on_batch = [&](std::int64_t, std::int64_t, std::int64_t, double, double) {
    ++trained;
  };
  auto cancelled_caching = fm::train_fmnist(frozen, data, dir.path(), during_cache);
  CHECK(cancelled_caching.status().code() == StatusCode::kCancelled);
  CHECK(polls == 2);
  CHECK(trained == 0);

  fm::TrainCallbacks failing;
  failing.on_epoch = [](const mlflow::training::EpochMetrics&) {
    return mlflow::Status(StatusCode::kUnavailable, "server gone");
  };
  auto failed = fm::train_fmnist(small_config(), data, dir.path(), failing);
  CHECK(failed.status().code() == StatusCode::kUnavailable);
}

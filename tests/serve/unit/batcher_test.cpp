// SPDX-License-Identifier: Apache-2.0
// The batcher driven by hand (no worker thread): grouping, limits, failures.
#include "batcher.h"

#include <doctest/doctest.h>

#include <memory>

#include "fake_predictor.h"

namespace mlflow::serve {
namespace {

using testing::FakePredictor;
using testing::images_of_classes;

struct Fixture {
  ModelHolder models;
  std::shared_ptr<FakePredictor> fake = std::make_shared<FakePredictor>();
  Fixture() { models.swap_in(fake); }
};

int argmax(const std::vector<float>& row) {
  return static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
}

TEST_CASE("batcher: queued requests run together up to max_batch, each gets its own answer") {
  Fixture f;
  Batcher batcher({4, std::chrono::microseconds(0), 100}, f.models, {}, false);
  auto a = batcher.submit(images_of_classes({3}), 1);
  auto b = batcher.submit(images_of_classes({7, 1}), 2);
  auto c = batcher.submit(images_of_classes({5, 5}), 2);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(batcher.queued_images() == 5);
  CHECK(batcher.run_once());  // a and b: 3 images; c would make 5 > 4
  CHECK(batcher.run_once());
  CHECK_FALSE(batcher.run_once());
  CHECK(f.fake->batches == std::vector<std::int64_t>{3, 2});
  auto ra = a->get();
  auto rb = b->get();
  REQUIRE(ra.status.ok());
  REQUIRE(rb.status.ok());
  CHECK(argmax(ra.probabilities) == 3);
  REQUIRE(rb.probabilities.size() == 20);
  CHECK(argmax({rb.probabilities.begin(), rb.probabilities.begin() + 10}) == 7);
  CHECK(argmax({rb.probabilities.begin() + 10, rb.probabilities.end()}) == 1);
  CHECK(rb.model->info().version == "1");
  CHECK(c->get().probabilities.size() == 20);
}

TEST_CASE("batcher: max_batch 1 runs every request alone, even one of several images") {
  Fixture f;
  Batcher batcher({1, std::chrono::microseconds(0), 100}, f.models, {}, false);
  auto a = batcher.submit(images_of_classes({1, 2, 3}), 3);
  auto b = batcher.submit(images_of_classes({4}), 1);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  while (batcher.run_once()) {
  }
  CHECK(f.fake->batches == std::vector<std::int64_t>{3, 1});
}

TEST_CASE("batcher: a full queue refuses at once with kResourceExhausted; bad sizes are refused") {
  Fixture f;
  Batcher batcher({8, std::chrono::microseconds(0), 3}, f.models, {}, false);
  REQUIRE(batcher.submit(images_of_classes({1, 2}), 2).ok());
  auto over = batcher.submit(images_of_classes({1, 2}), 2);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == StatusCode::kResourceExhausted);
  CHECK(over.status().message().find("limit 3") != std::string::npos);
  CHECK(batcher.submit(images_of_classes({1}), 1).ok());  // exactly at the limit
  CHECK(batcher.submit({}, 0).status().code() == StatusCode::kInvalidArgument);
  CHECK(batcher.submit(images_of_classes({1}), 2).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE(
    "batcher: a failed pass fails its requests; no model means kUnavailable; stop fails the "
    "rest") {
  ModelHolder models;
  Batcher batcher({8, std::chrono::microseconds(0), 100}, models, {}, false);
  auto early = batcher.submit(images_of_classes({1}), 1);
  REQUIRE(early.ok());
  batcher.run_once();
  CHECK(early->get().status.code() == StatusCode::kUnavailable);

  models.swap_in(std::make_shared<FakePredictor>("2", true));
  auto failing = batcher.submit(images_of_classes({1}), 1);
  REQUIRE(failing.ok());
  batcher.run_once();
  auto r = failing->get();
  CHECK(r.status.code() == StatusCode::kInternal);

  auto left = batcher.submit(images_of_classes({1}), 1);
  REQUIRE(left.ok());
  batcher.stop();
  CHECK(left->get().status.code() == StatusCode::kUnavailable);
  CHECK(batcher.submit(images_of_classes({1}), 1).status().code() == StatusCode::kUnavailable);
}

TEST_CASE("batcher: the observer sees each pass's images and probabilities") {
  Fixture f;
  std::int64_t seen = 0;
  float first_prob_class2 = 0;
  BatchObserver observer;
  observer.on_batch = [&](const float*, const float* probs, std::int64_t n, const Predictor&,
                          std::chrono::nanoseconds) {
    seen += n;
    first_prob_class2 = probs[2];
  };
  Batcher batcher({8, std::chrono::microseconds(0), 100}, f.models, observer, false);
  REQUIRE(batcher.submit(images_of_classes({2, 4}), 2).ok());
  batcher.run_once();
  CHECK(seen == 2);
  CHECK(first_prob_class2 == 1.0F);
}

TEST_CASE("batcher: with its worker, concurrent requests are all answered") {
  Fixture f;
  Batcher batcher({16, std::chrono::microseconds(500), 1000}, f.models);
  std::vector<std::future<BatchResult>> futures;
  for (int i = 0; i < 50; ++i) {
    auto s = batcher.submit(images_of_classes({i % 10}), 1);
    REQUIRE(s.ok());
    futures.push_back(std::move(*s));
  }
  for (int i = 0; i < 50; ++i) {
    auto r = futures[static_cast<std::size_t>(i)].get();
    REQUIRE(r.status.ok());
    CHECK(argmax(r.probabilities) == i % 10);
  }
}

}  // namespace
}  // namespace mlflow::serve

// SPDX-License-Identifier: Apache-2.0
// Following an alias, polled by hand with fake resolve and load functions.
#include "model_follower.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "fake_predictor.h"

namespace mlflow::serve {
namespace {

using testing::FakePredictor;

TEST_CASE("model follower: a moved alias loads and swaps in; old references stay valid") {
  ModelHolder models;
  models.swap_in(std::make_shared<FakePredictor>("1"));
  std::string alias_points_at = "1";
  int loads = 0;
  int told = 0;
  ModelFollower follower(
      models, "champion", [&]() -> StatusOr<std::string> { return alias_points_at; },
      [&](const std::string& v) -> StatusOr<std::unique_ptr<Predictor>> {
        ++loads;
        return std::unique_ptr<Predictor>(new FakePredictor(v));
      },
      [&](const Status& s, const Predictor* m) {
        CHECK(s.ok());
        REQUIRE(m != nullptr);
        CHECK(m->info().version == alias_points_at);
        ++told;
      });
  CHECK_FALSE(follower.poll_once());
  CHECK(loads == 0);

  auto in_flight = models.current();  // a request still using version 1
  alias_points_at = "2";
  CHECK(follower.poll_once());
  CHECK(models.current()->info().version == "2");
  CHECK(in_flight->info().version == "1");
  CHECK(loads == 1);
  CHECK(told == 1);
  CHECK_FALSE(follower.poll_once());  // already serving 2
  auto state = follower.state();
  CHECK(state.serving_version == "2");
  CHECK(state.reloads == 1);
  CHECK(state.alias == "champion");
}

TEST_CASE(
    "model follower: a version that fails to load leaves the old one serving, is not "
    "retried, and is reported") {
  ModelHolder models;
  models.swap_in(std::make_shared<FakePredictor>("1"));
  std::string alias_points_at = "2";
  int loads = 0;
  int failures_told = 0;
  ModelFollower follower(
      models, "champion", [&]() -> StatusOr<std::string> { return alias_points_at; },
      [&](const std::string& v) -> StatusOr<std::unique_ptr<Predictor>> {
        ++loads;
        if (v == "2") return Status(StatusCode::kInvalidArgument, "model.pt: not an archive");
        return std::unique_ptr<Predictor>(new FakePredictor(v));
      },
      [&](const Status& s, const Predictor* m) {
        if (!s.ok()) {
          CHECK(m == nullptr);
          ++failures_told;
        }
      });
  CHECK_FALSE(follower.poll_once());
  CHECK(models.current()->info().version == "1");
  auto state = follower.state();
  CHECK(state.failed_version == "2");
  CHECK(state.last_error.find("not an archive") != std::string::npos);
  CHECK(state.failures == 1);
  CHECK(failures_told == 1);
  CHECK_FALSE(follower.poll_once());  // the same broken version is not loaded again
  CHECK(loads == 1);

  alias_points_at = "3";  // the alias moves on: the new version loads
  CHECK(follower.poll_once());
  CHECK(models.current()->info().version == "3");
  CHECK(follower.state().last_error.empty());
}

TEST_CASE("model follower: a failed poll is counted and keeps the model") {
  ModelHolder models;
  models.swap_in(std::make_shared<FakePredictor>("1"));
  ModelFollower follower(
      models, "champion",
      []() -> StatusOr<std::string> {
        return Status(StatusCode::kUnavailable, "connection refused");
      },
      [](const std::string&) -> StatusOr<std::unique_ptr<Predictor>> {
        return Status(StatusCode::kInternal, "never called");
      });
  CHECK_FALSE(follower.poll_once());
  CHECK(follower.state().failures == 1);
  CHECK(follower.state().last_error.find("connection refused") != std::string::npos);
  CHECK(models.current()->info().version == "1");
}

}  // namespace
}  // namespace mlflow::serve

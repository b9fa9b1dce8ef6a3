// SPDX-License-Identifier: Apache-2.0
// Picking the best trial and the champion/challenger gate for the registry alias.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "mlflow/sweep/selection.h"

using mlflow::RunStatus;
using mlflow::sweep::best_trial;
using mlflow::sweep::Champion;
using mlflow::sweep::champion_gate;
using mlflow::sweep::TrialResult;

namespace {

TrialResult result(int index, std::optional<RunStatus> status, std::optional<double> metric) {
  TrialResult r;
  r.trial.index = index;
  r.run_id = status ? "run" + std::to_string(index) : "";
  r.status = status;
  r.metric = metric;
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("selection: best trial by the goal") {
  const std::vector<TrialResult> results = {
      result(0, RunStatus::kFinished, 0.80),
      result(1, RunStatus::kFinished, 0.95),
      result(2, RunStatus::kFinished, 0.70),
      result(3, RunStatus::kFinished, 0.85),
  };
  CHECK(best_trial(results, true) == std::optional<std::size_t>(1));
  CHECK(best_trial(results, false) == std::optional<std::size_t>(2));
}

TEST_CASE("selection: ties go to the earlier trial") {
  const std::vector<TrialResult> in_order = {
      result(0, RunStatus::kFinished, 0.5),
      result(1, RunStatus::kFinished, 0.9),
      result(2, RunStatus::kFinished, 0.9),
  };
  CHECK(best_trial(in_order, true) == std::optional<std::size_t>(1));
  // Results not in trial order: the lower trial index still wins.
  const std::vector<TrialResult> shuffled = {
      result(5, RunStatus::kFinished, 0.9),
      result(2, RunStatus::kFinished, 0.9),
      result(7, RunStatus::kFinished, 0.1),
  };
  CHECK(best_trial(shuffled, true) == std::optional<std::size_t>(1));
  CHECK(best_trial(shuffled, false) == std::optional<std::size_t>(2));
}

TEST_CASE("selection: only finished trials with the metric count") {
  const std::vector<TrialResult> results = {
      result(0, RunStatus::kFailed, 0.99),   result(1, RunStatus::kRunning, 0.98),
      result(2, RunStatus::kKilled, 0.97),   result(3, RunStatus::kFinished, std::nullopt),
      result(4, std::nullopt, std::nullopt), result(5, RunStatus::kFinished, 0.10),
  };
  CHECK(best_trial(results, true) == std::optional<std::size_t>(5));
  CHECK(best_trial(results, false) == std::optional<std::size_t>(5));

  const std::vector<TrialResult> none = {result(0, RunStatus::kFailed, 0.9),
                                         result(1, RunStatus::kFinished, std::nullopt)};
  CHECK_FALSE(best_trial(none, true).has_value());
  CHECK_FALSE(best_trial({}, true).has_value());
}

TEST_CASE("selection: a diverged trial (NaN) is never the best, wherever it comes") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<TrialResult> nan_first = {
      result(0, RunStatus::kFinished, nan),
      result(1, RunStatus::kFinished, 0.4),
      result(2, RunStatus::kFinished, 0.3),
  };
  CHECK(best_trial(nan_first, false) == std::optional<std::size_t>(2));
  CHECK(best_trial(nan_first, true) == std::optional<std::size_t>(1));
  CHECK_FALSE(best_trial({result(0, RunStatus::kFinished, nan)}, true).has_value());
}

TEST_CASE("selection: champion gate") {
  const std::string metric = "best_val_accuracy";
  SUBCASE("no champion: the alias moves") {
    const auto d = champion_gate(0.8, std::nullopt, true, true, metric, "champion");
    CHECK(d.move_alias);
    CHECK(contains(d.reason, "@champion"));
  }
  SUBCASE("a better challenger takes over") {
    const auto d = champion_gate(0.91, Champion{"3", 0.90}, true, true, metric, "champion");
    CHECK(d.move_alias);
    CHECK(contains(d.reason, "version 3"));
    CHECK(contains(d.reason, metric));
    CHECK(contains(d.reason, "0.91"));
    CHECK(contains(d.reason, "0.9"));
  }
  SUBCASE("an equal challenger does not") {
    const auto d = champion_gate(0.90, Champion{"3", 0.90}, true, true, metric, "champion");
    CHECK_FALSE(d.move_alias);
    CHECK(contains(d.reason, "@champion stays on version 3"));
    CHECK(contains(d.reason, metric));
  }
  SUBCASE("a worse challenger does not") {
    const auto d = champion_gate(0.85, Champion{"7", 0.90}, true, true, metric, "champion");
    CHECK_FALSE(d.move_alias);
    CHECK(contains(d.reason, "version 7"));
    CHECK(contains(d.reason, "0.85"));
  }
  SUBCASE("minimize: lower is better") {
    CHECK(champion_gate(0.2, Champion{"1", 0.3}, false, true, "val_loss", "champion").move_alias);
    CHECK_FALSE(
        champion_gate(0.4, Champion{"1", 0.3}, false, true, "val_loss", "champion").move_alias);
    CHECK(contains(champion_gate(0.2, Champion{"1", 0.3}, false, true, "val_loss", "c").reason,
                   "lower is better"));
  }
  SUBCASE("a champion without the metric stays") {
    const auto d = champion_gate(0.99, Champion{"2", std::nullopt}, true, true, metric, "champion");
    CHECK_FALSE(d.move_alias);
    CHECK(contains(d.reason, "version 2"));
    CHECK(contains(d.reason, "no " + metric));
  }
  SUBCASE("only_if_better false: always moves") {
    const auto worse = champion_gate(0.10, Champion{"4", 0.90}, true, false, metric, "prod");
    CHECK(worse.move_alias);
    CHECK(contains(worse.reason, "@prod"));
    CHECK(contains(worse.reason, "version 4"));
    CHECK(champion_gate(0.10, Champion{"4", std::nullopt}, true, false, metric, "prod").move_alias);
  }
}

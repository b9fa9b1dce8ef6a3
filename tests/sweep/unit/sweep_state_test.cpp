// SPDX-License-Identifier: Apache-2.0
// Scheduling state of a trial from its latest attempt, and how specs in a folder depend on each
// other.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "mlflow/sweep/spec_catalog.h"
#include "mlflow/sweep/sweep_state.h"
#include "support/test_support.h"
#include "test_programs.h"

namespace fs = std::filesystem;
using mlflow::Run;
using mlflow::RunStatus;
using mlflow::sweep::classify_attempt;
using mlflow::sweep::Dependency;
using mlflow::sweep::Liveness;
using mlflow::sweep::SpecCatalog;
using mlflow::sweep::TrialState;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

// This host is "node-a"; pids 100 and 200 are alive there.
Liveness liveness() {
  Liveness l;
  l.host = "node-a";
  l.pid_alive = [](long pid) { return pid == 100 || pid == 200; };
  l.now_ms = kNow;
  l.stale_after = std::chrono::minutes(1);
  return l;
}

Run attempt(RunStatus status, mlflow::Tags tags, std::int64_t start_time = kNow - 1'000) {
  Run r;
  r.info.run_id = "r1";
  r.info.status = status;
  r.info.start_time = start_time;
  r.data.tags = std::move(tags);
  return r;
}

}  // namespace

TEST_CASE("sweep state: finished, failed and never attempted") {
  CHECK(classify_attempt(nullptr, liveness()) == TrialState::kPending);
  const Run finished = attempt(RunStatus::kFinished, {});
  CHECK(classify_attempt(&finished, liveness()) == TrialState::kFinished);
  const Run failed =
      attempt(RunStatus::kFailed, {{"sweep.host", "node-a"}, {"sweep.trial_pid", "100"}});
  CHECK(classify_attempt(&failed, liveness()) == TrialState::kFailed);
  const Run killed = attempt(RunStatus::kKilled, {});
  CHECK(classify_attempt(&killed, liveness()) == TrialState::kFailed);
  CHECK(std::string(mlflow::sweep::to_string(TrialState::kRunningStale)) ==
        "running (process gone)");
}

TEST_CASE("sweep state: RUNNING on this host follows the processes") {
  const Run live_trial =
      attempt(RunStatus::kRunning, {{"sweep.host", "node-a"}, {"sweep.trial_pid", "100"}});
  CHECK(classify_attempt(&live_trial, liveness()) == TrialState::kRunning);
  // The trial is not started yet but its runner lives.
  const Run live_runner =
      attempt(RunStatus::kRunning,
              {{"sweep.host", "node-a"}, {"sweep.runner_pid", "200"}, {"sweep.trial_pid", "300"}});
  CHECK(classify_attempt(&live_runner, liveness()) == TrialState::kRunning);
  // Both gone, even with a fresh heartbeat: this host knows better.
  const Run dead = attempt(RunStatus::kRunning, {{"sweep.host", "node-a"},
                                                 {"sweep.runner_pid", "301"},
                                                 {"sweep.trial_pid", "300"},
                                                 {"sweep.heartbeat", std::to_string(kNow)}});
  CHECK(classify_attempt(&dead, liveness()) == TrialState::kRunningStale);
  const Run no_pids = attempt(RunStatus::kRunning, {{"sweep.host", "node-a"}});
  CHECK(classify_attempt(&no_pids, liveness()) == TrialState::kRunningStale);
}

TEST_CASE("sweep state: a reused pid is not the trial's process") {
  Liveness l = liveness();
  l.start_time = [](long pid) { return pid == 100 ? std::string("5000") : std::string("7000"); };
  const Run same =
      attempt(RunStatus::kRunning, {{"sweep.host", "node-a"}, {"sweep.trial_pid", "100@5000"}});
  CHECK(classify_attempt(&same, l) == TrialState::kRunning);
  // pid 100 lives, but it started at another time: another process got the pid.
  const Run reused =
      attempt(RunStatus::kRunning, {{"sweep.host", "node-a"}, {"sweep.trial_pid", "100@4000"}});
  CHECK(classify_attempt(&reused, l) == TrialState::kRunningStale);
  // The runner's identity still counts.
  const Run runner = attempt(RunStatus::kRunning, {{"sweep.host", "node-a"},
                                                   {"sweep.trial_pid", "100@4000"},
                                                   {"sweep.runner_pid", "200@7000"}});
  CHECK(classify_attempt(&runner, l) == TrialState::kRunning);
  // Without a start-time check, pids alone decide.
  CHECK(classify_attempt(&reused, liveness()) == TrialState::kRunning);

  const std::string me = mlflow::sweep::process_identity(static_cast<long>(::getpid()));
  CHECK(me.rfind(std::to_string(::getpid()) + "@", 0) == 0);
  CHECK(me.size() > std::to_string(::getpid()).size() + 1);
  CHECK(mlflow::sweep::identity_alive(me));
  CHECK_FALSE(mlflow::sweep::identity_alive(std::to_string(::getpid()) + "@1"));
  CHECK(mlflow::sweep::identity_alive(std::to_string(::getpid())));
  CHECK_FALSE(mlflow::sweep::identity_alive("0@1"));
}

TEST_CASE("sweep state: RUNNING on another host follows the heartbeat") {
  // pid 100 is alive here, but it is another machine's pid.
  const Run fresh = attempt(RunStatus::kRunning,
                            {{"sweep.host", "node-b"},
                             {"sweep.trial_pid", "100"},
                             {"sweep.heartbeat", std::to_string(kNow - 30'000)}},
                            kNow - 10'000'000);
  CHECK(classify_attempt(&fresh, liveness()) == TrialState::kRunning);
  const Run old = attempt(RunStatus::kRunning,
                          {{"sweep.host", "node-b"},
                           {"sweep.trial_pid", "100"},
                           {"sweep.heartbeat", std::to_string(kNow - 61'000)}},
                          kNow - 1'000);
  CHECK(classify_attempt(&old, liveness()) == TrialState::kRunningStale);

  SUBCASE("no heartbeat yet: the start time stands in") {
    const Run started_recently =
        attempt(RunStatus::kRunning, {{"sweep.host", "node-b"}}, kNow - 59'000);
    CHECK(classify_attempt(&started_recently, liveness()) == TrialState::kRunning);
    const Run started_long_ago =
        attempt(RunStatus::kRunning, {{"sweep.host", "node-b"}}, kNow - 61'000);
    CHECK(classify_attempt(&started_long_ago, liveness()) == TrialState::kRunningStale);
  }
  SUBCASE("without a pid check, this host is judged by heartbeat too") {
    Liveness l = liveness();
    l.pid_alive = nullptr;
    const Run here = attempt(RunStatus::kRunning,
                             {{"sweep.host", "node-a"}, {"sweep.trial_pid", "999"}}, kNow - 5'000);
    CHECK(classify_attempt(&here, l) == TrialState::kRunning);
  }
}

TEST_CASE("sweep state: tag, metric and param lookups") {
  Run r = attempt(RunStatus::kFinished, {{"sweep.trial", "3"}});
  mlflow::Metric metric;
  metric.key = "best_val_accuracy";
  metric.value = 0.9;
  r.data.metrics.push_back(metric);
  r.data.params.push_back({"batch_size", "64"});
  CHECK(mlflow::sweep::tag_value(r, "sweep.trial") == "3");
  CHECK(mlflow::sweep::tag_value(r, "sweep.host").empty());
  CHECK(mlflow::sweep::metric_value(r, "best_val_accuracy") == std::optional<double>(0.9));
  CHECK_FALSE(mlflow::sweep::metric_value(r, "val_loss").has_value());
  CHECK(mlflow::sweep::param_value(r, "batch_size") == std::optional<std::string>("64"));
  CHECK_FALSE(mlflow::sweep::param_value(r, "seed").has_value());
}

TEST_CASE("sweep state: this process is alive, a reaped pid is not") {
  CHECK(mlflow::sweep::process_alive(static_cast<long>(::getpid())));
  CHECK_FALSE(mlflow::sweep::process_alive(0));
  CHECK_FALSE(mlflow::sweep::process_alive(-5));
}

TEST_CASE("spec catalog: models:/NAME@ALIAS finds the spec that registers it") {
  mlflow::testing::TempDir dir;
  const fs::path d = dir.path();
  mlflow::testing::write_file((d / "pretrain.yaml").string(), R"(name: pretrain
metric: {name: acc}
parameters:
  seed: {value: 1}
register: {model_name: backbone, alias: pretrained}
)");
  mlflow::testing::write_file((d / "other_alias.yml").string(), R"(name: other_alias
metric: {name: acc}
parameters:
  seed: {value: 1}
register: {model_name: backbone, alias: newest}
)");
  // Continues from its own alias: that is not a dependency on itself.
  mlflow::testing::write_file((d / "refine.yaml").string(), R"(name: refine
metric: {name: acc}
parameters:
  weights: {value: "models:/refined@champion"}
register: {model_name: refined}
)");
  mlflow::testing::write_file((d / "broken.yaml").string(), "name: [unclosed\n");
  mlflow::testing::write_file((d / "notes.txt").string(), "name: notes\n");
  const std::string consumer_file = (d / "consumer.yaml").string();
  mlflow::testing::write_file(consumer_file, R"(name: consumer
metric: {name: acc}
parameters:
  weights: {values: ["models:/backbone@pretrained", "models:/unknown@champion", plain]}
  batch_size: {from_sweep: pretrain}
)");

  // An unreadable sibling nobody needs does not stop the load.
  auto catalog = SpecCatalog::load(consumer_file, sweep_test::programs());
  REQUIRE_MESSAGE(catalog.ok(), catalog.status().message());
  CHECK(catalog->root().name == "consumer");
  REQUIRE(catalog->find("pretrain") != nullptr);
  CHECK(catalog->find("other_alias") != nullptr);
  CHECK(catalog->find("notes") == nullptr);

  const auto deps = catalog->dependencies(catalog->root());
  REQUIRE(deps.size() == 3);
  CHECK(deps[0].kind == Dependency::Kind::kModelAlias);
  CHECK(deps[0].model_name == "backbone");
  CHECK(deps[0].alias == "pretrained");
  CHECK(deps[0].producer == catalog->find("pretrain"));
  CHECK(deps[0].parameter == &catalog->root().parameters[0]);
  CHECK(deps[0].describe() ==
        "model backbone@pretrained (registered by " + (d / "pretrain.yaml").string() + ")");
  CHECK(deps[1].kind == Dependency::Kind::kModelAlias);
  CHECK(deps[1].producer == nullptr);
  CHECK(deps[1].describe() == "model unknown@champion");
  CHECK(deps[2].kind == Dependency::Kind::kBestTrial);
  CHECK(deps[2].producer == catalog->find("pretrain"));
  CHECK(deps[2].parameter->name == "batch_size");
  CHECK(deps[2].describe().find("the best trial of sweep 'pretrain'") == 0);

  CHECK(catalog->dependencies(*catalog->find("pretrain")).empty());
  const auto self = catalog->dependencies(*catalog->find("refine"));
  REQUIRE(self.size() == 1);
  CHECK(self[0].model_name == "refined");
  CHECK(self[0].producer == nullptr);
}

TEST_CASE("spec catalog: a missing from_sweep mentions the siblings that did not parse") {
  mlflow::testing::TempDir dir;
  const fs::path d = dir.path();
  mlflow::testing::write_file((d / "producer.yaml").string(),
                              "name: producer\nmetric: {name: acc\n");
  const std::string consumer_file = (d / "consumer.yaml").string();
  mlflow::testing::write_file(consumer_file, R"(name: consumer
metric: {name: acc}
parameters:
  batch_size: {from_sweep: producer}
)");
  auto catalog = SpecCatalog::load(consumer_file, sweep_test::programs());
  REQUIRE_FALSE(catalog.ok());
  const std::string& m = catalog.status().message();
  CAPTURE(m);
  CHECK(m.rfind(consumer_file + ":4:15: from_sweep 'producer' names no sweep spec", 0) == 0);
  CHECK(m.find("unreadable: " + (d / "producer.yaml").string()) != std::string::npos);
}

TEST_CASE("spec catalog: the reference specs depend on each other as documented") {
  auto catalog = SpecCatalog::load(
      std::string(MLFLOW_CPP_SOURCE_DIR) + "/sweeps/frozen_backbone.yaml", sweep_test::programs());
  REQUIRE_MESSAGE(catalog.ok(), catalog.status().message());
  std::set<std::string> producers;
  for (const Dependency& dep : catalog->dependencies(catalog->root())) {
    REQUIRE(dep.producer != nullptr);
    producers.insert(dep.producer->name);
  }
  CHECK(producers == std::set<std::string>{"batch_size", "seed", "pretrain_backbone"});
}

TEST_CASE("spec catalog: parse_alias_uri") {
  std::string name, alias;
  CHECK(mlflow::sweep::parse_alias_uri("models:/fmnist-backbone@pretrained", name, alias));
  CHECK(name == "fmnist-backbone");
  CHECK(alias == "pretrained");
  for (const char* bad :
       {"models:/fmnist-backbone/3", "models:/@champion", "models:/name@", "runs:/abc@x",
        "fmnist@champion", "models:/a/b@c", "models:/a@b/c", "", "models:/"}) {
    CHECK_FALSE_MESSAGE(mlflow::sweep::parse_alias_uri(bad, name, alias), bad);
  }
}

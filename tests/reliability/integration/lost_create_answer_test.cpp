// SPDX-License-Identifier: Apache-2.0
// Creates whose answer is lost after the real server committed them (the proxy forwards the
// request, then resets the connection): exactly one run or model version, through the synchronous
// client, ActiveRun, register_model_version and the async logger.
#include <doctest/doctest.h>

#include <chrono>

#include "mlflow/async_logger.h"
#include "mlflow/registry.h"
#include "mlflow/run.h"
#include "reliability_support.h"
#include "support/fault_proxy.h"
#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;
using namespace std::chrono_literals;

namespace {

/// A proxy that injects `fault` into every request whose path matches `paths` (at most `max` of
/// them when max >= 0), and a client through it.
struct Faulted {
  FaultProxy proxy;
  MlflowClient client;
};

Faulted faulted(const std::string& fault, const std::string& paths, int max = -1) {
  std::vector<std::string> args = {"--faults", fault + ":1", "--fault-paths", paths};
  if (max >= 0) {
    args.push_back("--max-faults");
    args.push_back(std::to_string(max));
  }
  auto proxy = FaultProxy::start(server_url(), args);
  auto client = MlflowClient::make(test_options(proxy.url()));
  REQUIRE(client.ok());
  return Faulted{std::move(proxy), std::move(*client)};
}

/// Every run of the experiment, deleted ones included.
std::vector<Run> all_runs(MlflowClient& client, const std::string& experiment_id) {
  SearchOptions s;
  s.max_results = 100;
  auto page = client.search_runs({experiment_id}, s, ViewType::kAll);
  REQUIRE(page.ok());
  return page->items;
}

}  // namespace

TEST_CASE("lost create answers: create_run and ActiveRun::start each leave exactly one run") {
  auto direct = test_client();
  auto experiment = direct.create_experiment(unique_name("lost-run"));
  REQUIRE(experiment.ok());
  auto f = faulted("reset_after", "/runs/create$");

  MlflowClient::RunCreate create;
  create.experiment_id = *experiment;
  create.run_name = "direct";
  auto run = f.client.create_run(create);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());

  RunOptions o;
  o.experiment_id = *experiment;
  o.run_name = "active";
  auto active = ActiveRun::start(f.client, o);
  REQUIRE_MESSAGE(active.ok(), active.status().to_string());
  REQUIRE(active->log_metric("m", 1.0, 0).ok());
  REQUIRE(active->end().ok());

  CHECK(f.proxy.count("reset_after") == 2);  // both creates reached the server, both answers lost
  auto runs = all_runs(direct, *experiment);
  REQUIRE(runs.size() == 2);
  for (const auto& r : runs) {
    CHECK((r.info.run_id == run->info.run_id || r.info.run_id == active->id()));
    CHECK(find_value(r.data.tags, "mlflow-cpp.run_key").value_or("").size() == 33);
  }
}

TEST_CASE("lost create answers: a create_run the server never saw is created on the retry") {
  auto direct = test_client();
  auto experiment = direct.create_experiment(unique_name("lost-before"));
  REQUIRE(experiment.ok());
  auto f = faulted("reset_before", "/runs/create$", /*max=*/1);
  MlflowClient::RunCreate create;
  create.experiment_id = *experiment;
  auto run = f.client.create_run(create);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  CHECK(f.proxy.count("reset_before") == 1);
  auto runs = all_runs(direct, *experiment);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].info.run_id == run->info.run_id);
}

TEST_CASE(
    "lost create answers: create_model_version and register_model_version each leave one version") {
  auto direct = test_client();
  const auto ref = new_run(direct, "lost-version");
  LoggedModelCreate lm;
  lm.experiment_id = ref.experiment_id;
  lm.name = "model";
  lm.source_run_id = ref.run_id;
  auto logged = direct.create_logged_model(lm);
  REQUIRE_MESSAGE(logged.ok(), logged.status().to_string());
  const std::string name = unique_name("lost-version-model");
  auto f = faulted("reset_after", "/model-versions/create$");

  RegisterModelOptions options;
  options.alias = "champion";
  auto registered = register_model_version(f.client, logged->model_id, name, options);
  REQUIRE_MESSAGE(registered.ok(), registered.status().to_string());
  CHECK(registered->version == "1");

  ModelVersionCreate create;
  create.name = name;
  create.source = "runs:/" + ref.run_id + "/model";
  auto second = f.client.create_model_version(create);
  REQUIRE_MESSAGE(second.ok(), second.status().to_string());
  CHECK(second->version == "2");

  CHECK(f.proxy.count("reset_after") == 2);
  SearchOptions s;
  s.filter = "name = '" + name + "'";
  auto versions = direct.search_model_versions(s);
  REQUIRE(versions.ok());
  CHECK(versions->items.size() == 2);
  auto champion = direct.get_model_version_by_alias(name, "champion");
  REQUIRE(champion.ok());
  CHECK(champion->version == "1");
  CHECK(find_value(champion->tags, "mlflow-cpp.model_version_key").value_or("").size() == 33);
}

TEST_CASE("lost create answers: the async logger creates its run once") {
  TempDir spool;
  auto direct = test_client();
  const std::string experiment = unique_name("lost-async");
  auto f = faulted("reset_after", "/runs/create$");
  auto logger = AsyncLogger::open(f.client, quiet_options(spool.path()));
  REQUIRE(logger.ok());
  RunOptions o;
  o.experiment_name = experiment;
  o.run_name = "async";
  auto run = (*logger)->start_run(o);
  REQUIRE(run.ok());
  for (int step = 0; step < 5; ++step) REQUIRE(run->log_metric("m", step, step).ok());
  run->end();
  auto report = (*logger)->close(60s);
  INFO(report.status().message());
  CHECK(report.complete);
  CHECK(report.status().ok());
  CHECK(report.counters.rejected == 0);

  CHECK(f.proxy.count("reset_after") == 1);
  auto stored = stored_runs(direct, experiment);  // fails on two runs of one name
  REQUIRE(stored.size() == 1);
  CHECK(stored["async"].status == "FINISHED");
  CHECK(stored["async"].history.size() == 5);
}

// SPDX-License-Identifier: Apache-2.0
// sweep_runner through a proxy that loses the answer of every run and model version create after
// the real server committed it: still one parent run, one run per trial and one registered version.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/fault_proxy.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;

TEST_CASE(
    "sweep_runner: creates whose answers are lost leave one parent, one run per trial, one "
    "version") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-lost");
  const std::string model = unique_name("lost-model");
  write_file(
      dir.path() + "/lost.yaml",
      "name: lost\nexperiment: " + experiment + "\nprogram: " + FAKE_TRAINER_PATH +
          "\nmetric: {name: score, goal: maximize}\nparameters:\n  score: {values: [0.5, 0.7]}\n"
          "register: {model_name: " +
          model + "}\n");
  auto proxy = FaultProxy::start(server_url(), {"--faults", "reset_after:1", "--fault-paths",
                                                "/runs/create$|/model-versions/create$"});
  auto result = run_process(SWEEP_RUNNER_PATH, {dir.path() + "/lost.yaml"},
                            {"MLFLOW_TRACKING_URI=" + proxy.url()});
  CAPTURE(result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(proxy.count("reset_after") ==
        4);  // the parent, two trials and the version: each answer lost

  auto client = test_client();
  auto exp = client.get_experiment_by_name(experiment);
  REQUIRE(exp.ok());
  SearchOptions all;
  all.max_results = 100;
  auto runs = client.search_runs({exp->experiment_id}, all, ViewType::kAll);
  REQUIRE(runs.ok());
  REQUIRE(runs->items.size() == 3);
  std::vector<std::string> parents;
  for (const auto& r : runs->items) {
    if (!find_value(r.data.tags, "mlflow.parentRunId")) parents.push_back(r.info.run_id);
  }
  REQUIRE(parents.size() == 1);
  for (const auto& r : runs->items) {
    if (r.info.run_id == parents[0]) continue;
    CHECK(find_value(r.data.tags, "mlflow.parentRunId") == parents[0]);
    CHECK(r.info.status == RunStatus::kFinished);
  }

  SearchOptions by_name;
  by_name.filter = "name = '" + model + "'";
  auto versions = client.search_model_versions(by_name);
  REQUIRE(versions.ok());
  REQUIRE(versions->items.size() == 1);
  auto champion = client.get_model_version_by_alias(model, "champion");
  REQUIRE(champion.ok());
  CHECK(champion->version == "1");
}

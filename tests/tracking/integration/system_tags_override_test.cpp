// SPDX-License-Identifier: Apache-2.0
// A caller's tag with a system tag's key replaces it: the server refuses a run created with the
// same key twice (UNIQUE constraint on tags.key, tags.run_uuid).
#include <doctest/doctest.h>

#include "mlflow/run.h"
#include "support/test_support.h"

using mlflow::testing::test_client;
using mlflow::testing::unique_name;

TEST_CASE("runs: ActiveRun with the caller's own mlflow.user and mlflow.source.name starts") {
  auto client = test_client();
  mlflow::RunOptions o;
  o.experiment_name = unique_name("systags-override");
  o.run_name = "override";
  o.tags = {{"mlflow.user", "ci-bot"}, {"mlflow.source.name", "pipeline.yaml"}};
  auto run = mlflow::ActiveRun::start(client, o);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  const std::string id = run->id();
  REQUIRE(run->end().ok());
  auto got = client.get_run(id);
  REQUIRE(got.ok());
  CHECK(mlflow::find_value(got->data.tags, "mlflow.user") == "ci-bot");
  CHECK(mlflow::find_value(got->data.tags, "mlflow.source.name") == "pipeline.yaml");
  CHECK(got->info.user_id == "ci-bot");
}

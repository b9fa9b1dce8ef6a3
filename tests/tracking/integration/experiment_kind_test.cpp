// SPDX-License-Identifier: Apache-2.0
// The MLflow 3.x UI opens an experiment on its GenAI overview unless told it is model training:
// experiments this toolkit creates for runs carry mlflow.experimentKind=custom_model_development,
// and the run links it prints ask for the model-training view.
#include <doctest/doctest.h>

#include <chrono>

#include "mlflow/async_logger.h"
#include "mlflow/run.h"
#include "mlflow/system_tags.h"
#include "support/test_support.h"

using mlflow::testing::server_url;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;

namespace {
std::optional<std::string> experiment_kind(mlflow::MlflowClient& client, const std::string& name) {
  auto e = client.get_experiment_by_name(name);
  REQUIRE_MESSAGE(e.ok(), e.status().to_string());
  return mlflow::find_value(e->tags, "mlflow.experimentKind");
}
}  // namespace

TEST_CASE("experiment kind: the tag's key and value are the ones MLflow's UI reads") {
  CHECK(std::string(mlflow::kTagExperimentKind) == "mlflow.experimentKind");
  CHECK(std::string(mlflow::kExperimentKindTraining) == "custom_model_development");
}

TEST_CASE("experiment kind: ActiveRun creating its experiment by name tags it as model training") {
  auto client = test_client();
  mlflow::RunOptions o;
  o.experiment_name = unique_name("kind-active");
  auto run = mlflow::ActiveRun::start(client, o);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  REQUIRE(run->end().ok());
  CHECK(experiment_kind(client, o.experiment_name) == "custom_model_development");
}

TEST_CASE("experiment kind: AsyncRun creating its experiment by name tags it as model training") {
  auto client = test_client();
  TempDir spool;
  mlflow::AsyncLoggerOptions options;
  options.spool_dir = spool.path();
  options.log = [](const std::string&) {};
  auto logger = mlflow::AsyncLogger::open(client, options);
  REQUIRE(logger.ok());
  mlflow::RunOptions o;
  o.experiment_name = unique_name("kind-async");
  auto run = (*logger)->start_run(o);
  REQUIRE(run.ok());
  REQUIRE(run->wait_for_id(std::chrono::seconds(30)).ok());
  run->end();
  CHECK((*logger)->flush(std::chrono::seconds(30)).complete);
  CHECK(experiment_kind(client, o.experiment_name) == "custom_model_development");
}

TEST_CASE("experiment kind: an existing experiment is found, not retagged") {
  auto client = test_client();
  const std::string name = unique_name("kind-existing");
  auto id = client.create_experiment(name);
  REQUIRE(id.ok());
  auto found = client.get_or_create_experiment(name);
  REQUIRE(found.ok());
  CHECK(*found == *id);
  CHECK_FALSE(experiment_kind(client, name).has_value());
}

TEST_CASE(
    "UI links: a run's link is the hash route with workflowType=machine_learning inside the "
    "fragment") {
  auto client = test_client();
  auto ref = mlflow::testing::new_run(client, "ui-link");
  const std::string link = client.run_ui_url(ref.experiment_id, ref.run_id);
  CHECK(link == server_url() + "/#/experiments/" + ref.experiment_id + "/runs/" + ref.run_id +
                    "?workflowType=machine_learning");
  // What a browser fetches (everything before '#') is the server's UI page.
  mlflow::HttpRequest req;
  req.method = "GET";
  req.url = link.substr(0, link.find('#'));
  auto resp = mlflow::make_curl_transport()->send(req);
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
  CHECK(resp->body.find("<div id=\"root\"") != std::string::npos);
}

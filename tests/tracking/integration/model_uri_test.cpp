// SPDX-License-Identifier: Apache-2.0
// runs:/ and models:/ URIs resolved against the real server as MLflow 3 resolves them, and the
// client's artifact calls going through the same resolver.
#include "mlflow/model_uri.h"

#include <doctest/doctest.h>

#include <string>

#include "mlflow/client.h"
#include "support/test_support.h"

using mlflow::MlflowClient;
using mlflow::StatusCode;
using mlflow::testing::new_run;
using mlflow::testing::read_file;
using mlflow::testing::RunRef;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;

namespace {

/// A READY logged model `name` of `run` holding MLmodel = `content`.
mlflow::LoggedModel logged_model(MlflowClient& c, const RunRef& run, const std::string& name,
                                 const std::string& content) {
  mlflow::LoggedModelCreate lm;
  lm.experiment_id = run.experiment_id;
  lm.name = name;
  lm.source_run_id = run.run_id;
  auto model = c.create_logged_model(lm);
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  REQUIRE(c.upload_bytes_to(model->artifact_uri, content, "MLmodel").ok());
  REQUIRE(c.finalize_logged_model(model->model_id, mlflow::LoggedModelStatus::kReady).ok());
  return *model;
}

}  // namespace

TEST_CASE("model URI: runs:/ finds the run's newest logged model by name, else the run's files") {
  auto c = test_client();
  auto run = new_run(c, "cpp-model-uri");
  auto root = c.get_run(run.run_id);
  REQUIRE(root.ok());
  logged_model(c, run, "clf", "first\n");
  auto newer = logged_model(c, run, "clf", "second\n");
  REQUIRE(c.log_artifact_bytes(run.run_id, "plain\n", "legacy/MLmodel").ok());

  auto by_name = mlflow::resolve_model_uri(c, "runs:/" + run.run_id + "/clf");
  REQUIRE_MESSAGE(by_name.ok(), by_name.status().to_string());
  CHECK(by_name->model_id == newer.model_id);
  CHECK(by_name->root_uri == newer.artifact_uri);
  CHECK(by_name->path.empty());
  CHECK(by_name->run_id == run.run_id);

  auto legacy = mlflow::resolve_model_uri(c, "runs:/" + run.run_id + "/legacy/MLmodel");
  REQUIRE(legacy.ok());
  CHECK(legacy->model_id.empty());
  CHECK(legacy->artifact_uri() == root->info.artifact_uri + "/legacy/MLmodel");
  CHECK(legacy->note.find("no logged model named 'legacy'") != std::string::npos);

  auto whole = mlflow::resolve_model_uri(c, "runs:/" + run.run_id);
  REQUIRE(whole.ok());
  CHECK(whole->artifact_uri() == root->info.artifact_uri);

  // Artifact calls read the run's own files at a runs:/ path, never a logged model's.
  auto location = mlflow::resolve_artifact_location(c, "runs:/" + run.run_id + "/clf");
  REQUIRE(location.ok());
  CHECK(*location == root->info.artifact_uri + "/clf");

  auto missing = mlflow::resolve_model_uri(c, "runs:/0123456789abcdef0123456789abcdef/clf");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
}

TEST_CASE("model URI: models:/ version, alias, latest, stage and model id") {
  auto c = test_client();
  auto run = new_run(c, "cpp-model-uri");
  auto one = logged_model(c, run, "clf", "v1\n");
  auto two = logged_model(c, run, "clf", "v2\n");
  const std::string name = unique_name("cpp-uri");
  REQUIRE(c.create_registered_model(name).ok());
  for (const auto* m : {&one, &two}) {
    mlflow::ModelVersionCreate mv;
    mv.name = name;
    mv.model_id = m->model_id;
    REQUIRE(c.create_model_version(mv).ok());
  }
  REQUIRE(c.set_registered_model_alias(name, "champion", "1").ok());

  struct Case {
    std::string uri, version, model_id;
  };
  for (const Case& k : {Case{"models:/" + name + "/1", "1", one.model_id},
                        Case{"models:/" + name + "@champion", "1", one.model_id},
                        Case{"models:/" + name + "/latest", "2", two.model_id},
                        Case{"models:/" + name + "/none", "2", two.model_id},  // stage None
                        Case{"models:/" + two.model_id, "", two.model_id}}) {
    CAPTURE(k.uri);
    auto r = mlflow::resolve_model_uri(c, k.uri);
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    CHECK(r->version == k.version);
    CHECK(r->model_id == k.model_id);
    CHECK(r->root_uri == (k.model_id == one.model_id ? one.artifact_uri : two.artifact_uri));
    // The client's downloads go through the same resolver (models:/NAME/latest included).
    TempDir dst;
    auto got = c.download_artifacts_from(k.uri, "MLmodel", dst.path());
    REQUIRE_MESSAGE(got.ok(), got.status().to_string());
    CHECK(read_file(*got) == (k.model_id == one.model_id ? "v1\n" : "v2\n"));
  }

  auto no_alias = mlflow::resolve_model_uri(c, "models:/" + name + "@nobody");
  REQUIRE_FALSE(no_alias.ok());
  CHECK(no_alias.status().code() == StatusCode::kNotFound);
  CHECK(no_alias.status().message().find("no alias 'nobody'") != std::string::npos);
  auto no_stage = mlflow::resolve_model_uri(c, "models:/" + name + "/Production");
  REQUIRE_FALSE(no_stage.ok());
  CHECK(no_stage.status().code() == StatusCode::kNotFound);
  auto bad = c.download_artifacts_from("models:/" + name + "/1/extra", "", TempDir().path());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
}

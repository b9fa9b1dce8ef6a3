// SPDX-License-Identifier: Apache-2.0
// runs:/ and models:/ URIs taken apart as MLflow's _parse_model_uri and parse_runs_uri do.
#include "mlflow/model_uri.h"

#include <doctest/doctest.h>

#include <string>

using mlflow::ModelUri;
using mlflow::parse_model_uri;
using mlflow::StatusCode;

TEST_CASE("model URI: runs:/ gives the run and the normalised path") {
  auto bare = parse_model_uri("runs:/abc123");
  REQUIRE(bare.ok());
  CHECK(bare->kind == ModelUri::Kind::kRun);
  CHECK(bare->run_id == "abc123");
  CHECK(bare->path.empty());
  auto deep = parse_model_uri("runs:///abc123/model/./sub/");
  REQUIRE(deep.ok());
  CHECK(deep->run_id == "abc123");
  CHECK(deep->path == "model/sub");
}

TEST_CASE("model URI: every models:/ form") {
  auto id = parse_model_uri("models:/m-0123");
  REQUIRE(id.ok());
  CHECK(id->kind == ModelUri::Kind::kLoggedModel);
  CHECK(id->model_id == "m-0123");

  auto version = parse_model_uri("models:/clf/12");
  REQUIRE(version.ok());
  CHECK(version->kind == ModelUri::Kind::kVersion);
  CHECK(version->name == "clf");
  CHECK(version->version == "12");

  auto latest = parse_model_uri("models:/clf/LATEST");
  REQUIRE(latest.ok());
  CHECK(latest->kind == ModelUri::Kind::kLatest);
  CHECK(latest->stage.empty());

  auto stage = parse_model_uri("models:/clf/Production");
  REQUIRE(stage.ok());
  CHECK(stage->kind == ModelUri::Kind::kLatest);
  CHECK(stage->stage == "Production");

  auto alias = parse_model_uri("models:/my@clf@champion");  // the last '@' splits, as rsplit
  REQUIRE(alias.ok());
  CHECK(alias->kind == ModelUri::Kind::kAlias);
  CHECK(alias->name == "my@clf");
  CHECK(alias->alias == "champion");
}

TEST_CASE("model URI: malformed ones are kInvalidArgument naming the URI") {
  for (const char* uri : {"runs:/", "runs:abc", "runs:/a'b/model", "runs:/abc/../x", "models:/",
                          "models:/ ", "models:/clf/", "models:/clf/1/2", "models:/clf@",
                          "models:/@champion", "s3://bucket/model", "model"}) {
    CAPTURE(uri);
    auto m = parse_model_uri(uri);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(m.status().message().find(uri) != std::string::npos, m.status().message());
  }
}

TEST_CASE("model URI: is_model_uri tells URIs to resolve from paths") {
  CHECK(mlflow::is_model_uri("runs:/abc/model"));
  CHECK(mlflow::is_model_uri("models:/clf@champion"));
  CHECK_FALSE(mlflow::is_model_uri("/tmp/model"));
  CHECK_FALSE(mlflow::is_model_uri("mlflow-artifacts:/1/models/m-1/artifacts"));
}

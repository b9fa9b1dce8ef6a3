// SPDX-License-Identifier: Apache-2.0
// Model registry against the real server: registered models, versions, tags, aliases and paging.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "support/test_support.h"

using mlflow::find_value;
using mlflow::MlflowClient;
using mlflow::ModelVersionCreate;
using mlflow::SearchOptions;
using mlflow::StatusCode;
using mlflow::testing::new_run;
using mlflow::testing::read_file;
using mlflow::testing::RunRef;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
namespace fs = std::filesystem;

namespace {

/// A registered model with a version from a run's "model" directory.
std::pair<std::string, RunRef> model_with_version(MlflowClient& c) {
  auto run = new_run(c, "cpp-registry");
  REQUIRE(c.log_artifact_bytes(run.run_id, "flavors: {}\n", "model/MLmodel").ok());
  std::string name = unique_name("cpp-rm");
  REQUIRE(c.create_registered_model(name).ok());
  auto v = c.create_model_version({name, "runs:/" + run.run_id + "/model", run.run_id, {}, {}, {}});
  REQUIRE_MESSAGE(v.ok(), v.status().to_string());
  REQUIRE(v->version == "1");
  return {name, run};
}

bool lists_only_mlmodel(MlflowClient& c, const std::string& root_uri) {
  auto l = c.list_artifacts_at(root_uri);
  return l.ok() && l->size() == 1 && (*l)[0].path == "MLmodel" && !(*l)[0].is_dir;
}

}  // namespace

TEST_CASE("registry: registered model create, get, update, tags, delete round trip") {
  auto c = test_client();
  const std::string name = unique_name("cpp-rm");
  auto created = c.create_registered_model(name, {{"team", "vision"}, {"stage", "dev"}}, "first");
  REQUIRE_MESSAGE(created.ok(), created.status().to_string());
  CHECK(created->name == name);
  CHECK(created->description == "first");
  CHECK(created->creation_timestamp > 0);
  CHECK(find_value(created->tags, "team") == "vision");

  auto dup = c.create_registered_model(name);
  CHECK(dup.status().code() == StatusCode::kAlreadyExists);
  CHECK(dup.status().error_code() == "RESOURCE_ALREADY_EXISTS");
  CHECK(dup.status().http_status() == 400);

  auto updated = c.update_registered_model(name, "second");
  REQUIRE_MESSAGE(updated.ok(), updated.status().to_string());
  CHECK(updated->description == "second");

  REQUIRE(c.set_registered_model_tag(name, "team", "nlp").ok());
  REQUIRE(c.set_registered_model_tag(name, "extra", "1").ok());
  REQUIRE(c.delete_registered_model_tag(name, "stage").ok());
  auto got = c.get_registered_model(name);
  REQUIRE(got.ok());
  CHECK(got->description == "second");
  CHECK(find_value(got->tags, "team") == "nlp");
  CHECK(find_value(got->tags, "extra") == "1");
  CHECK_FALSE(find_value(got->tags, "stage").has_value());
  CHECK(got->tags.size() == 2);

  auto long_tag = c.set_registered_model_tag(name, "big", std::string(5001, 'x'));
  CHECK(long_tag.code() == StatusCode::kInvalidArgument);
  CHECK(long_tag.http_status() == 0);
  CHECK(long_tag.message().find("at most 5000") != std::string::npos);

  REQUIRE(c.delete_registered_model(name).ok());
  auto gone = c.get_registered_model(name);
  CHECK(gone.status().code() == StatusCode::kNotFound);
  CHECK(gone.status().error_code() == "RESOURCE_DOES_NOT_EXIST");
  CHECK(c.delete_registered_model(name).code() == StatusCode::kNotFound);
}

TEST_CASE("registry: search registered models follows pages") {
  auto c = test_client();
  const std::string prefix = unique_name("cpp-rm-page");
  for (int i = 0; i < 3; ++i)
    REQUIRE(c.create_registered_model(prefix + "-" + std::to_string(i)).ok());
  SearchOptions s;
  s.filter = "name LIKE '" + prefix + "-%'";
  s.order_by = {"name DESC"};
  s.max_results = 2;
  auto first = c.search_registered_models(s);
  REQUIRE_MESSAGE(first.ok(), first.status().to_string());
  REQUIRE(first->items.size() == 2);
  CHECK(first->items[0].name == prefix + "-2");
  CHECK(first->items[1].name == prefix + "-1");
  REQUIRE_FALSE(first->next_page_token.empty());
  s.page_token = first->next_page_token;
  auto second = c.search_registered_models(s);
  REQUIRE(second.ok());
  REQUIRE(second->items.size() == 1);
  CHECK(second->items[0].name == prefix + "-0");
  CHECK(second->next_page_token.empty());

  SearchOptions bad;
  bad.filter = "nonsense ~~ 1";
  CHECK(c.search_registered_models(bad).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("registry: model version from a run source round trips with tags and description") {
  auto c = test_client();
  auto run = new_run(c, "cpp-registry");
  REQUIRE(c.log_artifact_bytes(run.run_id, "flavors: {}\n", "model/MLmodel").ok());
  const std::string name = unique_name("cpp-rm");
  REQUIRE(c.create_registered_model(name).ok());
  auto run_info = c.get_run(run.run_id);
  REQUIRE(run_info.ok());
  const std::string source = run_info->info.artifact_uri + "/model";

  ModelVersionCreate mv;
  mv.name = name;
  mv.source = source;
  mv.run_id = run.run_id;
  mv.description = "from a run";
  mv.tags = {{"framework", "libtorch"}};
  auto v1 = c.create_model_version(mv);
  REQUIRE_MESSAGE(v1.ok(), v1.status().to_string());
  CHECK(v1->version == "1");
  CHECK(v1->source == source);
  CHECK(v1->run_id == run.run_id);
  CHECK(v1->status == "READY");
  CHECK(v1->description == "from a run");
  CHECK(find_value(v1->tags, "framework") == "libtorch");
  auto v2 = c.create_model_version(mv);
  REQUIRE(v2.ok());
  CHECK(v2->version == "2");

  auto upd = c.update_model_version(name, "1", "better");
  REQUIRE_MESSAGE(upd.ok(), upd.status().to_string());
  CHECK(upd->description == "better");
  REQUIRE(c.set_model_version_tag(name, "1", "validated", "yes").ok());
  REQUIRE(c.delete_model_version_tag(name, "1", "framework").ok());
  auto got = c.get_model_version(name, "1");
  REQUIRE(got.ok());
  CHECK(got->description == "better");
  CHECK(find_value(got->tags, "validated") == "yes");
  CHECK_FALSE(find_value(got->tags, "framework").has_value());

  auto uri = c.get_model_version_download_uri(name, "1");
  REQUIRE(uri.ok());
  CHECK(*uri == source);
  CHECK(lists_only_mlmodel(c, *uri));  // the download URI is a listable artifact root

  SearchOptions s;
  s.filter = "name = '" + name + "'";
  s.max_results = 1;
  auto page = c.search_model_versions(s);
  REQUIRE_MESSAGE(page.ok(), page.status().to_string());
  CHECK(page->items.size() == 1);
  SearchOptions by_run;
  by_run.filter = "run_id = '" + run.run_id + "'";
  auto runs = c.search_model_versions(by_run);
  REQUIRE(runs.ok());
  CHECK(runs->items.size() == 2);

  REQUIRE(c.delete_model_version(name, "2").ok());
  CHECK(c.get_model_version(name, "2").status().code() == StatusCode::kNotFound);
  CHECK(c.get_model_version(name, "1").ok());
  CHECK(c.get_model_version(name, "one").status().code() == StatusCode::kInvalidArgument);
  REQUIRE(c.delete_registered_model(name).ok());
}

TEST_CASE("registry: a model version from a logged model's model_id") {
  auto c = test_client();
  auto run = new_run(c, "cpp-registry");
  mlflow::LoggedModelCreate lm;
  lm.experiment_id = run.experiment_id;
  lm.name = "registered-lm";
  lm.source_run_id = run.run_id;
  auto model = c.create_logged_model(lm);
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  REQUIRE(c.upload_bytes_to(model->artifact_uri, "flavors: {}\n", "MLmodel").ok());
  REQUIRE(c.finalize_logged_model(model->model_id, mlflow::LoggedModelStatus::kReady).ok());

  const std::string name = unique_name("cpp-rm");
  REQUIRE(c.create_registered_model(name).ok());
  ModelVersionCreate mv;
  mv.name = name;
  mv.model_id = model->model_id;  // source defaults to models:/<model_id>
  auto v = c.create_model_version(mv);
  REQUIRE_MESSAGE(v.ok(), v.status().to_string());
  CHECK(v->source == "models:/" + model->model_id);
  CHECK(v->run_id == run.run_id);  // filled in from the logged model's source run
  auto explicit_source =
      c.create_model_version({name, "models:/" + model->model_id, {}, model->model_id, {}, {}});
  REQUIRE(explicit_source.ok());
  CHECK(explicit_source->version == "2");

  auto uri = c.get_model_version_download_uri(name, v->version);
  REQUIRE(uri.ok());
  CHECK(*uri == model->artifact_uri);

  // The registration is recorded on the logged model.
  auto after = c.get_logged_model(model->model_id);
  REQUIRE(after.ok());
  auto versions = find_value(after->tags, "mlflow.modelVersions");
  REQUIRE(versions.has_value());
  CHECK(versions->find("\"name\": \"" + name + "\"") != std::string::npos);

  // models:/<name>/<version>, models:/<name>@<alias> and models:/<model_id> all resolve to its
  // files.
  REQUIRE(c.set_registered_model_alias(name, "prod", v->version).ok());
  for (const std::string& ref : {"models:/" + name + "/" + v->version, "models:/" + name + "@prod",
                                 "models:/" + model->model_id}) {
    CAPTURE(ref);
    TempDir dst;
    auto got = c.download_artifacts_from(ref, "MLmodel", dst.path());
    REQUIRE_MESSAGE(got.ok(), got.status().to_string());
    CHECK(read_file(*got) == "flavors: {}\n");
  }
}

TEST_CASE("registry: aliases set, get, move and delete") {
  auto c = test_client();
  auto [name, run] = model_with_version(c);
  REQUIRE(c.create_model_version({name, "runs:/" + run.run_id + "/model", run.run_id, {}, {}, {}})
              .ok());

  REQUIRE(c.set_registered_model_alias(name, "champion", "1").ok());
  REQUIRE(c.set_registered_model_alias(name, "challenger_2-b", "2").ok());
  auto champ = c.get_model_version_by_alias(name, "champion");
  REQUIRE_MESSAGE(champ.ok(), champ.status().to_string());
  CHECK(champ->version == "1");
  CHECK(champ->aliases == std::vector<std::string>{"champion"});
  auto rm = c.get_registered_model(name);
  REQUIRE(rm.ok());
  CHECK(rm->aliases.size() == 2);

  REQUIRE(c.set_registered_model_alias(name, "champion", "2").ok());  // moving an alias
  CHECK(c.get_model_version_by_alias(name, "champion")->version == "2");
  CHECK(c.get_model_version(name, "1")->aliases.empty());

  REQUIRE(c.delete_registered_model_alias(name, "champion").ok());
  auto gone = c.get_model_version_by_alias(name, "champion");
  // The SQL registry reports an unknown alias as INVALID_PARAMETER_VALUE, not
  // RESOURCE_DOES_NOT_EXIST.
  CHECK(gone.status().code() == StatusCode::kInvalidArgument);
  CHECK(gone.status().error_code() == "INVALID_PARAMETER_VALUE");
  CHECK(gone.status().message().find("alias champion not found") != std::string::npos);
  CHECK(c.delete_registered_model_alias(name, "champion").ok());  // deleting is idempotent
  CHECK(c.set_registered_model_alias(name, "ghost", "9").code() == StatusCode::kNotFound);
}

TEST_CASE("registry: invalid alias names are refused before sending") {
  auto c = test_client();
  auto [name, run] = model_with_version(c);
  for (const std::string& alias :
       {std::string("latest"), std::string("LaTeSt"), std::string("v1"), std::string("V42"),
        std::string("a.b"), std::string("has space"), std::string(""), std::string(256, 'a')}) {
    CAPTURE(alias);
    auto st = c.set_registered_model_alias(name, alias, "1");
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK(st.http_status() == 0);
    CHECK(c.get_model_version_by_alias(name, alias).status().http_status() == 0);
    CHECK(c.delete_registered_model_alias(name, alias).http_status() == 0);
  }
  // Allowed: letters, digits, '_', '-', v followed by non-digits, 255 characters.
  for (const std::string& alias :
       {std::string("v1b"), std::string("vnext"), std::string("_-_"), std::string(255, 'a')}) {
    CAPTURE(alias);
    CHECK(c.set_registered_model_alias(name, alias, "1").ok());
  }
}

// SPDX-License-Identifier: Apache-2.0
// Experiment endpoints against the real server.
#include <doctest/doctest.h>

#include "support/test_support.h"

using mlflow::StatusCode;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;

TEST_CASE("experiments: create, get, get by name, tag, rename, delete, restore") {
  auto c = test_client();
  const std::string name = unique_name("exp");
  auto id = c.create_experiment(name, {{"team", "vision"}});
  REQUIRE_MESSAGE(id.ok(), id.status().to_string());

  auto e = c.get_experiment(*id);
  REQUIRE(e.ok());
  CHECK(e->name == name);
  CHECK(e->lifecycle_stage == "active");
  CHECK(e->artifact_location.find("mlflow-artifacts:/") == 0);
  CHECK(mlflow::find_value(e->tags, "team") == "vision");
  CHECK(e->creation_time > 0);

  REQUIRE(c.set_experiment_tag(*id, "stage", "dev").ok());
  auto by_name = c.get_experiment_by_name(name);
  REQUIRE(by_name.ok());
  CHECK(by_name->experiment_id == *id);
  CHECK(mlflow::find_value(by_name->tags, "stage") == "dev");

  auto dup = c.create_experiment(name);
  CHECK(dup.status().code() == StatusCode::kAlreadyExists);
  CHECK(dup.status().error_code() == "RESOURCE_ALREADY_EXISTS");
  CHECK(dup.status().http_status() == 400);

  const std::string renamed = name + "-renamed";
  REQUIRE(c.rename_experiment(*id, renamed).ok());
  CHECK(c.get_experiment(*id)->name == renamed);

  REQUIRE(c.delete_experiment(*id).ok());
  CHECK(c.get_experiment(*id)->lifecycle_stage == "deleted");
  CHECK(c.get_or_create_experiment(renamed).status().code() == StatusCode::kFailedPrecondition);
  REQUIRE(c.restore_experiment(*id).ok());
  CHECK(c.get_experiment(*id)->lifecycle_stage == "active");
}

TEST_CASE("experiments: get_or_create is idempotent") {
  auto c = test_client();
  const std::string name = unique_name("goc");
  auto a = c.get_or_create_experiment(name);
  auto b = c.get_or_create_experiment(name);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
}

TEST_CASE("experiments: search with filter, order and paging") {
  auto c = test_client();
  const std::string prefix = unique_name("search");
  for (int i = 0; i < 5; ++i) REQUIRE(c.create_experiment(prefix + "-" + std::to_string(i)).ok());
  mlflow::SearchOptions s;
  s.filter = "name LIKE '" + prefix + "-%'";
  s.order_by = {"name DESC"};
  s.max_results = 2;
  std::vector<std::string> names;
  int pages = 0;
  do {
    auto page = c.search_experiments(s);
    REQUIRE_MESSAGE(page.ok(), page.status().to_string());
    for (const auto& e : page->items) names.push_back(e.name);
    s.page_token = page->next_page_token;
    ++pages;
  } while (!s.page_token.empty());
  REQUIRE(names.size() == 5);
  CHECK(pages == 3);
  CHECK(names.front() == prefix + "-4");
  CHECK(names.back() == prefix + "-0");
}

TEST_CASE("experiments: unknown ids and names are kNotFound") {
  auto c = test_client();
  CHECK(c.get_experiment("987654321").status().code() == StatusCode::kNotFound);
  auto by_name = c.get_experiment_by_name(unique_name("nope"));
  CHECK(by_name.status().code() == StatusCode::kNotFound);
  CHECK(by_name.status().error_code() == "RESOURCE_DOES_NOT_EXIST");
}

// SPDX-License-Identifier: Apache-2.0
// create_run and create_model_version retried without duplicates: a fake MLflow that commits and
// then loses the answer, a fake clock (no sleeps).
#include <doctest/doctest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <regex>

#include "idempotent_create.h"
#include "mlflow/client.h"
#include "support/test_support.h"

using namespace std::chrono_literals;
using mlflow::ClientOptions;
using mlflow::HttpRequest;
using mlflow::HttpResponse;
using mlflow::MlflowClient;
using mlflow::ModelVersionCreate;
using mlflow::Status;
using mlflow::StatusCode;
using mlflow::StatusOr;
using mlflow::testing::FakeClock;
using mlflow::testing::FakeTransport;
using json = nlohmann::json;
namespace d = mlflow::detail;

namespace {

/// What happens to one request the fake server receives.
enum class Fate {
  kAnswer,                ///< handled and answered
  kLostAfterCommit,       ///< handled, then the connection reset (the answer never arrives)
  kLostBeforeCommit,      ///< reset before the server saw it
  kUnavailableCommitted,  ///< handled, then a proxy answered 503
  kRefused,               ///< 400 INVALID_PARAMETER_VALUE, nothing created
};

/// A tiny MLflow for runs and model versions whose requests meet scripted fates (default kAnswer).
struct FakeMlflow {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::deque<Fate> create_fates, search_fates;
  std::vector<json> runs, versions;  // what the server committed

  FakeMlflow(const FakeMlflow&) = delete;  // the handler holds `this`
  FakeMlflow& operator=(const FakeMlflow&) = delete;
  FakeMlflow() {
    transport->set_handler([this](const HttpRequest& r) -> StatusOr<HttpResponse> {
      const bool create = r.url.find("/create") != std::string::npos;
      std::deque<Fate>& fates = create ? create_fates : search_fates;
      const Fate fate = fates.empty() ? Fate::kAnswer : fates.front();
      if (!fates.empty()) fates.pop_front();
      const Status reset(StatusCode::kUnavailable, "Connection reset by peer");
      if (fate == Fate::kLostBeforeCommit) return reset;
      if (fate == Fate::kRefused) {
        return HttpResponse{400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"bad"})", {}};
      }
      json answer = handle(r);
      if (fate == Fate::kLostAfterCommit) return reset;
      if (fate == Fate::kUnavailableCommitted) {
        return HttpResponse{
            503, R"({"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"})", {}};
      }
      return HttpResponse{200, answer.dump(), {}};
    });
  }

  /// The value of tag `key` in a create body's tags.
  static std::string tag(const json& tags, const std::string& key) {
    for (const auto& t : tags) {
      if (t["key"] == key) return t["value"];
    }
    return {};
  }

  /// The token a search looks for: 'TOKEN' in the filter (JSON body or query string).
  static std::string searched_token(const HttpRequest& r) {
    std::smatch m;
    static const std::regex quoted("(?:'|%27)([A-Za-z0-9._:-]+)(?:'|%27)");
    const std::string& where = r.method == "GET" ? r.url : r.body;
    return std::regex_search(where, m, quoted) ? m[1].str() : std::string();
  }

  json handle(const HttpRequest& r) {
    if (r.url.find("/runs/create") != std::string::npos) {
      const json body = json::parse(r.body);
      json run = {{"info",
                   {{"run_id", "run" + std::to_string(runs.size() + 1)},
                    {"experiment_id", body["experiment_id"]}}},
                  {"data", {{"tags", body["tags"]}}}};
      runs.push_back(run);
      return {{"run", run}};
    }
    if (r.url.find("/runs/search") != std::string::npos) {
      const std::string token = searched_token(r);
      for (const auto& run : runs) {
        if (tag(run["data"]["tags"], d::kRunKeyTag) == token) return {{"runs", {run}}};
      }
      return json::object();
    }
    if (r.url.find("/model-versions/create") != std::string::npos) {
      const json body = json::parse(r.body);
      json v = {{"name", body["name"]},
                {"version", std::to_string(versions.size() + 1)},
                {"tags", body["tags"]}};
      versions.push_back(v);
      return {{"model_version", v}};
    }
    if (r.url.find("/model-versions/search") != std::string::npos) {
      const std::string token = searched_token(r);
      json found = json::array();
      for (const auto& v : versions) {
        if (tag(v["tags"], d::kModelVersionKeyTag) == token) found.push_back(v);
      }
      return {{"model_versions", found}};
    }
    return json::object();
  }

  MlflowClient client(int max_retries = 7) {
    ClientOptions o;
    o.tracking_uri = "http://mlflow.test";
    o.retry.max_retries = max_retries;  // backoff: factor 2 s, jitter 1 s (x 0.5 here)
    auto c = MlflowClient::make(o, {transport, clock, [] { return 0.5; }});
    REQUIRE(c.ok());
    return *c;
  }

  /// The endpoints requested, in order: "create" or "search".
  std::vector<std::string> sequence() const {
    std::vector<std::string> out;
    for (const auto& r : transport->requests()) {
      out.push_back(r.url.find("/create") != std::string::npos ? "create" : "search");
    }
    return out;
  }
};

using Seq = std::vector<std::string>;

MlflowClient::RunCreate run_create() {
  MlflowClient::RunCreate c;
  c.experiment_id = "7";
  c.run_name = "trial";
  c.tags.push_back({"team", "vision"});
  return c;
}

ModelVersionCreate version_create() {
  ModelVersionCreate c;
  c.name = "fmnist";
  c.source = "models:/m-123";
  c.model_id = "m-123";
  return c;
}

}  // namespace

TEST_CASE("create_run: the happy path is one request carrying the run's token tag, and no lookup") {
  FakeMlflow server;
  auto run = server.client().create_run(run_create());
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  CHECK(server.sequence() == Seq{"create"});
  const std::string token = mlflow::find_value(run->data.tags, d::kRunKeyTag).value_or("");
  CHECK(std::regex_match(token, std::regex("r[0-9a-f]{32}")));
  CHECK(mlflow::find_value(run->data.tags, "team") == "vision");
  CHECK(server.transport->requests()[0].fresh_connection);
  auto other = server.client().create_run(run_create());
  REQUIRE(other.ok());
  CHECK(mlflow::find_value(other->data.tags, d::kRunKeyTag) != token);  // a token per run
}

TEST_CASE(
    "create_run: an answer lost after the server committed is found by its token, not created "
    "twice") {
  FakeMlflow server;
  server.create_fates = {Fate::kLostAfterCommit};
  auto run = server.client().create_run(run_create());
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  CHECK(server.runs.size() == 1);
  CHECK(run->info.run_id == "run1");
  CHECK(server.sequence() == Seq{"create", "search"});
  CHECK(server.clock->sleeps.empty());  // the first retry is immediate, as for any request
  const auto requests = server.transport->requests();
  const json search = json::parse(requests[1].body);
  const std::string token = FakeMlflow::tag(json::parse(requests[0].body)["tags"], d::kRunKeyTag);
  CHECK(search["filter"] == "tags.`mlflow-cpp.run_key` = '" + token + "'");
  CHECK(search["experiment_ids"] == json::array({"7"}));
  CHECK(search["run_view_type"] == "ALL");
}

TEST_CASE("create_run: a 503 after the server committed is found by its token too") {
  FakeMlflow server;
  server.create_fates = {Fate::kUnavailableCommitted};
  auto run = server.client().create_run(run_create());
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  CHECK(server.runs.size() == 1);
  CHECK(server.sequence() == Seq{"create", "search"});
}

TEST_CASE(
    "create_run: a request lost before the server saw it is created on the retry, with the same "
    "token") {
  FakeMlflow server;
  server.create_fates = {Fate::kLostBeforeCommit};
  auto run = server.client().create_run(run_create());
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  CHECK(server.runs.size() == 1);
  CHECK(server.sequence() == Seq{"create", "search", "create"});
  const auto requests = server.transport->requests();
  CHECK(requests[2].body == requests[0].body);
}

TEST_CASE("create_run: a definite 4xx is returned as it is, with no lookup and no retry") {
  FakeMlflow server;
  server.create_fates = {Fate::kRefused};
  auto run = server.client().create_run(run_create());
  CHECK(run.status().code() == StatusCode::kInvalidArgument);
  CHECK(run.status().http_status() == 400);
  CHECK(run.status().message().find("POST /api/2.0/mlflow/runs/create") != std::string::npos);
  CHECK(server.sequence() == Seq{"create"});
  CHECK(server.runs.empty());
}

TEST_CASE(
    "create_run: a lookup without an answer waits the backoff and looks again, never creating "
    "blind") {
  FakeMlflow server;
  server.create_fates = {Fate::kLostAfterCommit};
  server.search_fates = {Fate::kLostBeforeCommit, Fate::kUnavailableCommitted};
  auto run = server.client().create_run(run_create());
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  CHECK(server.runs.size() == 1);
  CHECK(server.sequence() == Seq{"create", "search", "search", "search"});
  // RetryOptions' schedule: no wait, then 2 s * 2^1 + 0.5 s jitter, then 2 s * 2^2 + 0.5 s.
  CHECK(server.clock->sleeps == std::vector<std::chrono::milliseconds>{4500ms, 8500ms});
}

TEST_CASE(
    "create_run: when the retries run out, the last failure is returned with the attempts made") {
  FakeMlflow server;
  server.create_fates = {Fate::kLostBeforeCommit, Fate::kLostBeforeCommit, Fate::kLostBeforeCommit};
  auto run = server.client(/*max_retries=*/2).create_run(run_create());
  CHECK(run.status().code() == StatusCode::kUnavailable);
  CHECK(run.status().message().find("mlflow.test") != std::string::npos);
  CHECK(run.status().message().find("5 attempts") != std::string::npos);
  CHECK(server.sequence() == Seq{"create", "search", "create", "search", "create"});
  CHECK(server.runs.empty());
}

TEST_CASE(
    "create_run: a caller's own run_key tag is the token, and one that cannot be searched for is "
    "refused") {
  FakeMlflow server;
  auto create = run_create();
  create.tags.push_back({d::kRunKeyTag, "my-key.1"});
  server.create_fates = {Fate::kLostAfterCommit};
  auto run = server.client().create_run(create);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  CHECK(mlflow::find_value(run->data.tags, d::kRunKeyTag) == "my-key.1");
  CHECK(server.runs.size() == 1);

  create.tags.back().value = "it's";
  auto bad = server.client().create_run(create);
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message().find("mlflow-cpp.run_key") != std::string::npos);
  CHECK(server.transport->requests().size() == 2);  // nothing sent for it
}

TEST_CASE("create_model_version: the happy path is one request carrying the version's token tag") {
  FakeMlflow server;
  auto v = server.client().create_model_version(version_create());
  REQUIRE_MESSAGE(v.ok(), v.status().to_string());
  CHECK(server.sequence() == Seq{"create"});
  const std::string token = FakeMlflow::tag(
      json::parse(server.transport->requests()[0].body)["tags"], d::kModelVersionKeyTag);
  CHECK(std::regex_match(token, std::regex("v[0-9a-f]{32}")));
}

TEST_CASE("create_model_version: an answer lost after the server committed is found by its token") {
  FakeMlflow server;
  server.create_fates = {Fate::kLostAfterCommit};
  auto v = server.client().create_model_version(version_create());
  REQUIRE_MESSAGE(v.ok(), v.status().to_string());
  CHECK(server.versions.size() == 1);
  CHECK(v->name == "fmnist");
  CHECK(v->version == "1");
  CHECK(server.sequence() == Seq{"create", "search"});
  const auto requests = server.transport->requests();
  CHECK(requests[1].method == "GET");
  CHECK(requests[1].url.find("mlflow-cpp.model_version_key") != std::string::npos);
}

TEST_CASE("create_model_version: lost before the server saw it, it is created on the retry") {
  FakeMlflow server;
  server.create_fates = {Fate::kLostBeforeCommit, Fate::kUnavailableCommitted};
  auto v = server.client().create_model_version(version_create());
  REQUIRE_MESSAGE(v.ok(), v.status().to_string());
  CHECK(server.versions.size() == 1);  // the 503's version, found by the second lookup
  CHECK(server.sequence() == Seq{"create", "search", "create", "search"});
}

TEST_CASE("create_model_version: a definite 4xx is returned with no lookup") {
  FakeMlflow server;
  server.create_fates = {Fate::kRefused};
  auto v = server.client().create_model_version(version_create());
  CHECK(v.status().code() == StatusCode::kInvalidArgument);
  CHECK(v.status().http_status() == 400);
  CHECK(server.sequence() == Seq{"create"});
  CHECK(server.versions.empty());
}

TEST_CASE("create_model_version: a version with the token but another model's name is not taken") {
  FakeMlflow server;
  auto create = version_create();
  create.tags.push_back({d::kModelVersionKeyTag, "shared-key"});
  REQUIRE(server.client().create_model_version(create).ok());  // version 1 of fmnist
  create.name = "other";
  server.create_fates = {Fate::kLostBeforeCommit};
  auto v = server.client().create_model_version(create);
  REQUIRE_MESSAGE(v.ok(), v.status().to_string());
  CHECK(v->name == "other");
  CHECK(server.versions.size() == 2);
}

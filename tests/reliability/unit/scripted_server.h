// SPDX-License-Identifier: Apache-2.0
// A tiny scripted MLflow over FakeTransport for the reliability unit tests (Delivery, AsyncLogger).
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "delivery.h"
#include "support/test_support.h"

namespace mlflow::testing {

/// A tiny MLflow: creates runs, stores log-batch rows, refuses params named "refused", and can be
/// made unreachable after a number of log-batch requests.
struct ScriptedServer {
  using json = nlohmann::json;
  /// Answers a request before the scripted MLflow does, when it returns a value (a fault).
  using Fault =
      std::function<std::optional<StatusOr<HttpResponse>>(const HttpRequest&, const json& body)>;

  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::map<std::string, std::string> key_to_run;  // mlflow-cpp.run_key -> run id
  std::map<std::string, std::vector<json>> rows;  // run id -> metrics
  std::map<std::string, std::map<std::string, std::string>> tags;
  int creates = 0, batches = 0;
  int fail_batches_after = -1;  // unreachable from this log-batch on
  Fault fault;
  /// When it returns true for a request, the scripted MLflow handles it, then the answer is lost
  /// (the connection resets).
  std::function<bool(const HttpRequest&)> lose_answer;

  ScriptedServer(const ScriptedServer&) = delete;  // the handler holds `this`
  ScriptedServer& operator=(const ScriptedServer&) = delete;
  ScriptedServer() {
    transport->set_handler([this](const HttpRequest& r) -> StatusOr<HttpResponse> {
      const json body = r.body.empty() ? json::object() : json::parse(r.body);
      if (fault) {
        if (auto answer = fault(r, body)) return *answer;
      }
      auto answer = handle(r, body);
      if (lose_answer && lose_answer(r))
        return Status(StatusCode::kUnavailable, "Connection reset by peer");
      return answer;
    });
  }

  StatusOr<HttpResponse> handle(const HttpRequest& r, const json& body) {
    auto ok = [](json j) { return HttpResponse{200, j.dump(), {}}; };
    if (r.url.find("/runs/search") != std::string::npos) {
      const std::string filter = body.value("filter", "");
      for (const auto& [key, id] : key_to_run) {
        if (filter.find("'" + key + "'") != std::string::npos) {
          return ok({{"runs", {{{"info", {{"run_id", id}, {"experiment_id", "0"}}}}}}});
        }
      }
      return ok(json::object());
    }
    if (r.url.find("/runs/create") != std::string::npos) {
      const std::string id = "id" + std::to_string(++creates);
      for (const auto& t : body["tags"]) {
        if (t["key"] == detail::kRunKeyTag) key_to_run[t["value"]] = id;
        tags[id][t["key"]] = t["value"];
      }
      return ok({{"run", {{"info", {{"run_id", id}, {"experiment_id", "0"}}}}}});
    }
    if (r.url.find("/runs/log-batch") != std::string::npos) {
      if (fail_batches_after >= 0 && batches >= fail_batches_after) {
        return Status(StatusCode::kUnavailable, "connection refused");
      }
      ++batches;
      for (const auto& p : body["params"]) {
        if (p["key"] == "refused") {
          return HttpResponse{
              400,
              R"({"error_code":"INVALID_PARAMETER_VALUE","message":"Changing param values is not allowed"})",
              {}};
        }
      }
      const std::string run = body["run_id"];
      for (const auto& m : body["metrics"]) rows[run].push_back(m);
      for (const auto& t : body["tags"]) tags[run][t["key"]] = t["value"];
      return ok(json::object());
    }
    if (r.url.find("/runs/update") != std::string::npos) {
      return ok({{"run_info", {{"run_id", body["run_id"]}, {"status", body["status"]}}}});
    }
    return HttpResponse{404, "{}", {}};
  }

  /// A client of this server: no retries unless asked, a fake clock (nothing sleeps).
  MlflowClient client(int max_retries = 0) {
    ClientOptions o;
    o.tracking_uri = "http://mlflow.test";
    o.retry.max_retries = max_retries;
    ClientDeps deps;
    deps.transport = transport;
    deps.clock = std::make_shared<FakeClock>();
    deps.random = [] { return 0.0; };
    auto made = MlflowClient::make(o, deps);
    REQUIRE(made.ok());
    return *made;
  }

  detail::Delivery delivery() { return detail::Delivery(client(), client()); }

  int requests_to(const std::string& endpoint) const {
    int n = 0;
    for (const auto& r : transport->requests()) n += r.url.find(endpoint) != std::string::npos;
    return n;
  }
};

}  // namespace mlflow::testing

// SPDX-License-Identifier: Apache-2.0
// Delivery against a scripted server (FakeTransport): coalescing per run within MLflow's limits,
// refused records isolated by bisection, runs created once by key, what is left when the server goes.
#include "delivery.h"

#include <doctest/doctest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;
using detail::Delivery;
using detail::LogRecord;
using json = nlohmann::json;

namespace {

/// A tiny MLflow: creates runs, stores log-batch rows, refuses params named "refused", and can be
/// made unreachable after a number of log-batch requests.
struct ScriptedServer {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::map<std::string, std::string> key_to_run;  // mlflow-cpp.run_key -> run id
  std::map<std::string, std::vector<json>> rows;  // run id -> metrics
  std::map<std::string, std::map<std::string, std::string>> tags;
  int creates = 0, batches = 0;
  int fail_batches_after = -1;  // unreachable from this log-batch on

  ScriptedServer() {
    transport->set_handler([this](const HttpRequest& r) -> StatusOr<HttpResponse> {
      const json body = r.body.empty() ? json::object() : json::parse(r.body);
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
            return HttpResponse{400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"Changing param values is not allowed"})", {}};
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
    });
  }

  Delivery delivery() {
    ClientOptions o;
    o.tracking_uri = "http://mlflow.test";
    o.retry.max_retries = 0;
    ClientDeps deps;
    deps.transport = transport;
    deps.clock = std::make_shared<FakeClock>();
    deps.random = [] { return 0.0; };
    auto client = MlflowClient::make(o, deps);
    REQUIRE(client.ok());
    return Delivery(*client, *client);
  }

  int requests_to(const std::string& endpoint) const {
    int n = 0;
    for (const auto& r : transport->requests()) n += r.url.find(endpoint) != std::string::npos;
    return n;
  }
};

std::uint64_t g_seq = 0;

LogRecord start(const std::string& key, const std::string& parent = {}) {
  LogRecord r;
  r.kind = LogRecord::Kind::kStartRun;
  r.seq = ++g_seq;
  r.run = key;
  r.key = key + "-name";
  r.value = "0";
  r.parent = parent;
  return r;
}
LogRecord metric(const std::string& run, int step) {
  LogRecord r;
  r.kind = LogRecord::Kind::kMetric;
  r.seq = ++g_seq;
  r.run = run;
  r.key = "m";
  r.number = step;
  r.step = step;
  r.timestamp = 1000 + step;
  return r;
}
LogRecord kv(LogRecord::Kind kind, const std::string& run, const std::string& key, const std::string& value) {
  LogRecord r;
  r.kind = kind;
  r.seq = ++g_seq;
  r.run = run;
  r.key = key;
  r.value = value;
  return r;
}

}  // namespace

TEST_CASE("delivery coalesces each run's records into as few log-batch requests as the limits allow") {
  ScriptedServer server;
  auto delivery = server.delivery();
  std::vector<LogRecord> window = {start("a"), start("b")};
  for (int i = 0; i < 2500; ++i) {
    window.push_back(metric("a", i));
    if (i % 250 == 0) window.push_back(metric("b", i));
  }
  window.push_back(kv(LogRecord::Kind::kTag, "a", "stage", "first"));
  window.push_back(kv(LogRecord::Kind::kTag, "a", "stage", "last"));
  std::uint64_t delivered = 0;
  detail::DeliveryEvents ev;
  ev.delivered = [&](std::uint64_t n) { delivered += n; };
  auto result = delivery.deliver(window, ev);
  REQUIRE(result.status.ok());
  CHECK(result.undelivered.empty());
  CHECK(delivered == window.size());
  CHECK(server.creates == 2);
  CHECK(server.requests_to("/runs/log-batch") == 3 + 1);  // a: 1000+1000+500 (+2 tags), b: 10
  const std::string a = delivery.run_ids().at("a");
  CHECK(server.rows[a].size() == 2500);
  CHECK(server.rows[delivery.run_ids().at("b")].size() == 10);
  CHECK(server.tags[a]["stage"] == "last");
  CHECK(server.tags[a][detail::kRunKeyTag] == "a");
}

TEST_CASE("delivery isolates a refused record by halves and delivers the rest of its request") {
  ScriptedServer server;
  auto delivery = server.delivery();
  std::vector<LogRecord> window = {start("a")};
  for (int i = 0; i < 500; ++i) window.push_back(metric("a", i));
  window.push_back(kv(LogRecord::Kind::kParam, "a", "refused", "x"));
  for (int i = 500; i < 900; ++i) window.push_back(metric("a", i));
  std::vector<RejectedRecord> rejected;
  detail::DeliveryEvents ev;
  ev.rejected = [&](RejectedRecord r) { rejected.push_back(r); };
  auto result = delivery.deliver(window, ev);
  REQUIRE(result.status.ok());
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].kind == "param");
  CHECK(rejected[0].key == "refused");
  CHECK(rejected[0].run == delivery.run_ids().at("a"));
  CHECK(rejected[0].reason.find("Changing param values") != std::string::npos);
  CHECK(server.rows[delivery.run_ids().at("a")].size() == 900);
  CHECK(server.requests_to("/runs/log-batch") <= 2 * 10 + 1);  // bisection: ~2 log2(901) requests
}

TEST_CASE("delivery creates a run once: a run found by its key tag is not created again") {
  ScriptedServer server;
  server.key_to_run["k1"] = "existing";  // a create whose answer was lost, before a crash
  auto delivery = server.delivery();
  auto result = delivery.deliver({start("k1"), metric("k1", 0), start("k2", "k1")}, {});
  REQUIRE(result.status.ok());
  CHECK(server.creates == 1);  // only k2
  CHECK(delivery.run_ids().at("k1") == "existing");
  CHECK(server.rows["existing"].size() == 1);
  CHECK(server.tags[delivery.run_ids().at("k2")]["mlflow.parentRunId"] == "existing");
  // The same window again (its acknowledgement was lost): nothing is created twice.
  result = delivery.deliver({start("k1"), metric("k1", 0), start("k2", "k1")}, {});
  REQUIRE(result.status.ok());
  CHECK(server.creates == 1);
}

TEST_CASE("delivery stops when the server goes and returns the rest in order with server ids") {
  ScriptedServer server;
  server.fail_batches_after = 1;
  auto delivery = server.delivery();
  std::vector<LogRecord> window = {start("a"), start("b")};
  for (int i = 0; i < 1500; ++i) window.push_back(metric("a", i));
  window.push_back(metric("b", 0));
  window.push_back(start("c", "a"));
  auto result = delivery.deliver(window, {});
  CHECK(detail::is_server_away(result.status));
  const std::string a = delivery.run_ids().at("a");
  CHECK(server.rows[a].size() == 1000);  // the first request went through
  CHECK(server.creates == 3);  // start records run in place, ahead of the queued metrics
  REQUIRE(result.undelivered.size() == 500 + 1);
  for (std::size_t i = 1; i < result.undelivered.size(); ++i) {
    CHECK(result.undelivered[i - 1].seq < result.undelivered[i].seq);
  }
  CHECK(result.undelivered.front().run == a);  // rewritten to the server's id
  CHECK(result.undelivered.front().step == 1000);
  CHECK(result.undelivered.back().run == delivery.run_ids().at("b"));
}

// SPDX-License-Identifier: Apache-2.0
// Delivery against a scripted server (FakeTransport): coalescing per run within MLflow's limits,
// refused records isolated by bisection, runs created once by key, what is left when the server
// goes.
#include "delivery.h"

#include <doctest/doctest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "scripted_server.h"
#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;
using detail::Delivery;
using detail::LogRecord;
using json = nlohmann::json;

namespace {

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
LogRecord kv(LogRecord::Kind kind, const std::string& run, const std::string& key,
             const std::string& value) {
  LogRecord r;
  r.kind = kind;
  r.seq = ++g_seq;
  r.run = run;
  r.key = key;
  r.value = value;
  return r;
}

}  // namespace

TEST_CASE(
    "delivery coalesces each run's records into as few log-batch requests as the limits allow") {
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

TEST_CASE(
    "delivery: a run whose create answer was lost is found by its key next time, not created "
    "twice") {
  ScriptedServer server;
  bool lost = false;
  server.lose_answer = [&](const HttpRequest& r) {
    if (lost || r.url.find("/runs/create") == std::string::npos) return false;
    return lost = true;
  };
  auto delivery = server.delivery();  // no retries: the failure stops this delivery
  auto result = delivery.deliver({start("k"), metric("k", 0)}, {});
  CHECK(detail::is_server_away(result.status));
  CHECK(server.creates == 1);
  REQUIRE(result.undelivered.size() == 2);
  result = delivery.deliver(result.undelivered, {});
  REQUIRE(result.status.ok());
  CHECK(server.creates == 1);
  CHECK(delivery.run_ids().at("k") == "id1");
  CHECK(server.rows["id1"].size() == 1);
}

TEST_CASE("delivery: with retries, a lost create answer is recovered within the same delivery") {
  ScriptedServer server;
  bool lost = false;
  server.lose_answer = [&](const HttpRequest& r) {
    if (lost || r.url.find("/runs/create") == std::string::npos) return false;
    return lost = true;
  };
  Delivery delivery(server.client(/*max_retries=*/2), server.client());
  auto result = delivery.deliver({start("k"), metric("k", 0)}, {});
  REQUIRE(result.status.ok());
  CHECK(server.creates == 1);
  // Looked up before the create (a replay may find it) and after the lost answer.
  CHECK(server.requests_to("/runs/search") == 2);
  CHECK(server.rows[delivery.run_ids().at("k")].size() == 1);
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
  CHECK(server.creates == 3);            // start records run in place, ahead of the queued metrics
  REQUIRE(result.undelivered.size() == 500 + 1);
  for (std::size_t i = 1; i < result.undelivered.size(); ++i) {
    CHECK(result.undelivered[i - 1].seq < result.undelivered[i].seq);
  }
  CHECK(result.undelivered.front().run == a);  // rewritten to the server's id
  CHECK(result.undelivered.front().step == 1000);
  CHECK(result.undelivered.back().run == delivery.run_ids().at("b"));
}

namespace {

bool is_log_batch(const HttpRequest& r) {
  return r.url.find("/runs/log-batch") != std::string::npos;
}

bool has_metric(const json& body, const std::string& key) {
  for (const auto& m : body.value("metrics", json::array())) {
    if (m["key"] == key) return true;
  }
  return false;
}

}  // namespace

TEST_CASE(
    "delivery keeps the records when no response arrives or credentials are refused, without "
    "bisecting") {
  // A missing CA fails every TLS handshake; a wrong password fails every request: the records are
  // fine, so nothing is rejected, and halving the request would only repeat the failure ~2n times.
  struct Case {
    const char* name;
    StatusOr<HttpResponse> answer;
  };
  const Case cases[] = {
      {"TLS certificate not verified",
       Status(StatusCode::kFailedPrecondition,
              "SSL certificate problem: unable to get local issuer certificate")},
      {"HTTP 401", HttpResponse{401, "<html>Unauthorized</html>", {}}},
      {"HTTP 403", HttpResponse{403, R"({"error_code":"PERMISSION_DENIED","message":"no"})", {}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    SUBCASE("on log-batch") {
      ScriptedServer server;
      server.fault = [&](const HttpRequest& r,
                         const json&) -> std::optional<StatusOr<HttpResponse>> {
        if (is_log_batch(r)) return c.answer;
        return std::nullopt;
      };
      auto delivery = server.delivery();
      std::vector<LogRecord> window = {start("a")};
      for (int i = 0; i < 900; ++i) window.push_back(metric("a", i));
      std::vector<RejectedRecord> rejected;
      detail::DeliveryEvents ev;
      ev.rejected = [&](RejectedRecord r) { rejected.push_back(r); };
      auto result = delivery.deliver(window, ev);
      CHECK(detail::is_server_away(result.status));
      CHECK(rejected.empty());
      CHECK(result.undelivered.size() == 900);
      CHECK(server.requests_to("/runs/log-batch") == 1);
    }
    SUBCASE("on everything") {
      ScriptedServer server;
      server.fault = [&](const HttpRequest&, const json&) { return std::optional(c.answer); };
      auto delivery = server.delivery();
      std::vector<LogRecord> window = {start("a"), metric("a", 0), metric("a", 1)};
      std::vector<RejectedRecord> rejected;
      detail::DeliveryEvents ev;
      ev.rejected = [&](RejectedRecord r) { rejected.push_back(r); };
      auto result = delivery.deliver(window, ev);
      CHECK(detail::is_server_away(result.status));
      CHECK(rejected.empty());  // the run is not "refused": it is created once the CA is set
      CHECK(result.undelivered.size() == 3);
      CHECK_FALSE(delivery.reachable().ok());
    }
  }
}

TEST_CASE("is_server_away: a failure without any response is the transport's only when marked so") {
  // The same code and no HTTP status both times: a certificate the CA bundle does not verify (no
  // answer: keep the records) and the client's verdict on a deleted experiment (refuse them).
  CHECK(detail::is_server_away(Status(StatusCode::kFailedPrecondition,
                                      "SSL certificate problem: unable to get local issuer "
                                      "certificate",
                                      0, kTransportErrorCode)));
  CHECK_FALSE(detail::is_server_away(
      Status(StatusCode::kFailedPrecondition,
             "experiment 'x' (id 7) is deleted; restore it or choose another name")));
  CHECK_FALSE(detail::is_server_away(
      Status(StatusCode::kFailedPrecondition, "run is not active", 400, "INVALID_STATE")));
  CHECK(detail::is_server_away(
      Status(StatusCode::kUnavailable, "connection refused", 0, kTransportErrorCode)));
}

TEST_CASE("the client marks every failure of its transport, whatever the code, and no answer") {
  for (StatusCode code :
       {StatusCode::kFailedPrecondition, StatusCode::kUnavailable, StatusCode::kDeadlineExceeded}) {
    CAPTURE(status_code_name(code));
    ScriptedServer server;
    server.fault = [&](const HttpRequest&, const json&) -> std::optional<StatusOr<HttpResponse>> {
      return StatusOr<HttpResponse>(Status(code, "no answer"));
    };
    const Status st = server.client().get_experiment("0").status();
    CHECK(st.code() == code);
    CHECK(st.transport_failure());
    CHECK(st.message().find("no answer") != std::string::npos);
  }
  ScriptedServer server;  // answers 404 to get-experiment: an answer, not the transport's
  const Status answered = server.client().get_experiment("0").status();
  CHECK(answered.http_status() == 404);
  CHECK_FALSE(answered.transport_failure());
}

TEST_CASE(
    "delivery rejects every record of a run in a deleted experiment, naming it, in later windows "
    "too") {
  ScriptedServer server;
  server.fault = [&](const HttpRequest& r, const json&) -> std::optional<StatusOr<HttpResponse>> {
    if (r.url.find("/experiments/get-by-name") == std::string::npos) return std::nullopt;
    return StatusOr<HttpResponse>(HttpResponse{
        200,
        R"({"experiment":{"experiment_id":"7","name":"gone","lifecycle_stage":"deleted"}})",
        {}});
  };
  auto delivery = server.delivery();
  LogRecord begin = start("a");
  begin.value.clear();  // by name, as RunOptions::experiment_name asks
  begin.experiment_name = "gone";
  std::vector<RejectedRecord> rejected;
  detail::DeliveryEvents ev;
  ev.rejected = [&](RejectedRecord r) { rejected.push_back(r); };
  auto first = delivery.deliver({begin, metric("a", 0)}, ev);
  CHECK(first.status.ok());  // refused, not "the server is away"
  // The worker sends what is logged later in windows of its own.
  auto later =
      delivery.deliver({metric("a", 1), kv(LogRecord::Kind::kEndRun, "a", "", "FINISHED")}, ev);
  CHECK(later.status.ok());
  CHECK(later.undelivered.empty());
  REQUIRE(rejected.size() == 4);
  for (const auto& r : rejected) {
    CAPTURE(r.reason);
    CHECK(r.run == "a");
    CHECK(r.reason.find("experiment 'gone' (id 7) is deleted") != std::string::npos);
  }
  CHECK(rejected[0].kind == "run");
  CHECK(server.creates == 0);
  CHECK(server.requests_to("/runs/log-batch") == 0);
  CHECK(server.requests_to("/runs/update") == 0);
}

TEST_CASE(
    "delivery rejects a poison record that fails every time while the server answers, and delivers "
    "the rest") {
  struct Case {
    const char* name;
    HttpResponse answer;
    const char* says;
  };
  const Case cases[] = {
      {"HTTP 500 INTERNAL_ERROR",
       {500, R"({"error_code":"INTERNAL_ERROR","message":"poisoned value"})", {}},
       "poisoned value"},
      {"an unknown error code",
       {400, R"({"error_code":"NO_SUCH_CODE","message":"odd refusal"})", {}},
       "odd refusal"},
      {"a malformed 200", {200, "<html>proxy error page</html>", {}}, "not valid JSON"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    ScriptedServer server;
    int poisoned = 0;
    server.fault = [&](const HttpRequest& r,
                       const json& body) -> std::optional<StatusOr<HttpResponse>> {
      if (is_log_batch(r) && has_metric(body, "poison")) {
        ++poisoned;
        return StatusOr<HttpResponse>(c.answer);
      }
      return std::nullopt;
    };
    auto delivery = server.delivery();
    std::vector<LogRecord> window = {start("a")};
    for (int i = 0; i < 600; ++i) window.push_back(metric("a", i));
    LogRecord poison = metric("a", 600);
    poison.key = "poison";
    window.push_back(poison);
    for (int i = 601; i < 900; ++i) window.push_back(metric("a", i));
    window.push_back(kv(LogRecord::Kind::kTag, "a", "after", "yes"));
    std::vector<RejectedRecord> rejected;
    std::uint64_t delivered = 0;
    detail::DeliveryEvents ev;
    ev.rejected = [&](RejectedRecord r) { rejected.push_back(r); };
    ev.delivered = [&](std::uint64_t n) { delivered += n; };
    auto result = delivery.deliver(window, ev);
    INFO(result.status.to_string());
    REQUIRE(result.status.ok());
    CHECK(result.undelivered.empty());
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].kind == "metric");
    CHECK(rejected[0].key == "poison");
    CHECK(rejected[0].reason.find(c.says) != std::string::npos);
    CHECK(rejected[0].reason.find("every time") != std::string::npos);
    CHECK(delivered == window.size() - 1);
    const std::string a = delivery.run_ids().at("a");
    CHECK(server.rows[a].size() == 899);
    CHECK(server.tags[a]["after"] == "yes");
    // Halving down to the one record (~log2(900) requests), then sent kPoisonSends times alone.
    CHECK(poisoned <= 11 + detail::kPoisonSends);
  }
}

TEST_CASE("delivery rejects nothing when the server answers every request badly, probes included") {
  ScriptedServer server;
  server.fault = [](const HttpRequest& r, const json&) -> std::optional<StatusOr<HttpResponse>> {
    if (r.url.find("/runs/create") != std::string::npos ||
        r.url.find("/runs/search") != std::string::npos) {
      return std::nullopt;
    }
    return StatusOr<HttpResponse>(
        HttpResponse{500, R"({"error_code":"INTERNAL_ERROR","message":"database is locked"})", {}});
  };
  auto delivery = server.delivery();
  std::vector<LogRecord> window = {start("a"), kv(LogRecord::Kind::kParam, "a", "lr", "0.1")};
  for (int i = 0; i < 500; ++i) window.push_back(metric("a", i));
  std::vector<RejectedRecord> rejected;
  detail::DeliveryEvents ev;
  ev.rejected = [&](RejectedRecord r) { rejected.push_back(r); };
  auto result = delivery.deliver(window, ev);
  CHECK(detail::is_server_away(result.status));
  CHECK(result.status.message().find("database is locked") != std::string::npos);
  CHECK(rejected.empty());
  CHECK(result.undelivered.size() == 501);
  CHECK(server.requests_to("/runs/log-batch") == 1);  // the probe failed too: no bisection
}

TEST_CASE("delivery re-sends a record whose request failed badly once, and does not reject it") {
  ScriptedServer server;
  int failures_left = detail::kPoisonSends - 1;
  server.fault = [&](const HttpRequest& r, const json&) -> std::optional<StatusOr<HttpResponse>> {
    if (r.url.find("/runs/update") == std::string::npos || failures_left == 0) return std::nullopt;
    --failures_left;
    return StatusOr<HttpResponse>(HttpResponse{500, "Internal Server Error", {}});
  };
  auto delivery = server.delivery();
  LogRecord end = kv(LogRecord::Kind::kEndRun, "a", "", "FINISHED");
  std::vector<RejectedRecord> rejected;
  detail::DeliveryEvents ev;
  ev.rejected = [&](RejectedRecord r) { rejected.push_back(r); };
  auto result = delivery.deliver({start("a"), end}, ev);
  REQUIRE(result.status.ok());
  CHECK(rejected.empty());
  CHECK(failures_left == 0);
  CHECK(server.requests_to("/runs/update") == detail::kPoisonSends);
}

// SPDX-License-Identifier: Apache-2.0
// A server answering 200 with a body that is not JSON (an HTML page) or is cut-off JSON, played
// by fault_proxy.py in front of the real server: each call fails once, clearly, fast, unretried.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>

#include "mlflow/client.h"
#include "support/fault_proxy.h"
#include "support/test_support.h"

using mlflow::MlflowClient;
using mlflow::Status;
using mlflow::StatusCode;
using mlflow::testing::FaultProxy;
using mlflow::testing::new_run;
using mlflow::testing::server_url;
using mlflow::testing::test_client;
using mlflow::testing::test_options;
using mlflow::testing::unique_name;

namespace {

struct Call {
  const char* endpoint;  // what the message must name
  std::function<Status(MlflowClient&)> run;
};

template <typename T>
Status status_of(const mlflow::StatusOr<T>& r) {
  return r.status();
}

/// Runs every client call through `proxy` (answering each /api/ request itself with `mode`'s body)
/// and checks each fails with one clear kInternal error, sent exactly once.
void check_each_call_fails_clearly(const std::string& mode, const std::string& excerpt) {
  auto direct = test_client();
  const auto ref = new_run(direct, "malformed-" + mode);
  FaultProxy proxy = FaultProxy::start(server_url(), {"--mode", mode});
  auto made = MlflowClient::make(test_options(proxy.url()));
  REQUIRE(made.ok());
  MlflowClient client = *made;
  const std::string proxy_host = proxy.url().substr(proxy.url().find("//") + 2);

  const Call calls[] = {
      {"/api/2.0/mlflow/experiments/create",
       [](MlflowClient& c) { return status_of(c.create_experiment(unique_name("malformed"))); }},
      {"/api/2.0/mlflow/runs/create",
       [&](MlflowClient& c) {
         return status_of(c.create_run({ref.experiment_id, "r", {}, {}}));
       }},
      {"/api/2.0/mlflow/runs/get",
       [&](MlflowClient& c) { return status_of(c.get_run(ref.run_id)); }},
      {"/api/2.0/mlflow/runs/log-batch",
       [&](MlflowClient& c) {
         return c.log_batch(ref.run_id, {{"loss", 0.5, 1700000000000, 1, {}, {}, {}, {}}},
                            {{"lr", "0.1"}});
       }},
      {"/api/2.0/mlflow/runs/search",
       [&](MlflowClient& c) { return status_of(c.search_runs({ref.experiment_id})); }},
  };
  int sent = 0;
  for (const auto& call : calls) {
    CAPTURE(call.endpoint);
    const auto start = std::chrono::steady_clock::now();
    const Status st = call.run(client);
    const auto took = std::chrono::steady_clock::now() - start;
    CAPTURE(st.to_string());
    CHECK(st.code() == StatusCode::kInternal);
    CHECK(st.http_status() == 200);
    const std::string& m = st.message();
    CHECK(m.find(call.endpoint) != std::string::npos);
    CHECK(m.find(proxy_host) != std::string::npos);
    CHECK(m.find("not valid JSON") != std::string::npos);
    CHECK(m.find(excerpt) != std::string::npos);
    CHECK(m.find('\n') == std::string::npos);
    CHECK(took < std::chrono::seconds(5));
    // Exactly one request per call: a 200 is not retried, whatever its body.
    CHECK(proxy.count(mode) == ++sent);
  }
  // Nothing reached the server: the failed log-batch stored nothing.
  auto run = direct.get_run(ref.run_id);
  REQUIRE(run.ok());
  CHECK(run->data.metrics.empty());
  CHECK(run->data.params.empty());
}

}  // namespace

TEST_CASE("malformed response: a 200 with an HTML body fails each call once with a clear error") {
  check_each_call_fails_clearly("garbage", "<html><body><h1>oops</h1>");
}

TEST_CASE("malformed response: a 200 with cut-off JSON fails each call once with a clear error") {
  check_each_call_fails_clearly("badjson", R"({"run": {"info": )");
}

TEST_CASE("malformed response: the proxy in garbage mode still forwards health checks") {
  // Guards the test above: the failures come from the bodies, not from a proxy that is down.
  FaultProxy proxy = FaultProxy::start(server_url(), {"--mode", "garbage"});
  auto transport = mlflow::make_curl_transport();
  mlflow::HttpRequest req;
  req.method = "GET";
  req.url = proxy.url() + "/health";
  auto resp = transport->send(req);
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
  CHECK(resp->body == "OK");
  CHECK(proxy.count("garbage") == 0);
}

// SPDX-License-Identifier: Apache-2.0
// tests/support/fault_proxy.py itself, against the real server: each fault does what the fault
// tests rely on (answered without forwarding, or forwarded and then broken), and reads pass
// through.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "support/fault_proxy.h"
#include "support/test_support.h"

using mlflow::MlflowClient;
using mlflow::StatusCode;
using mlflow::testing::FaultProxy;
using mlflow::testing::server_url;
using mlflow::testing::test_client;
using mlflow::testing::test_options;
using mlflow::testing::unique_name;

namespace {

struct FaultCase {
  std::string fault;
  StatusCode code;      // what the client reports
  int http_status;      // 0: a transport failure
  bool reached_server;  // whether the experiment was created all the same
};

MlflowClient client_without_retries(const std::string& url) {
  auto o = test_options(url);
  o.retry.max_retries = 0;
  o.retry.request_timeout = std::chrono::seconds(1);  // shorter than the proxy's stall
  auto c = MlflowClient::make(o);
  REQUIRE(c.ok());
  return *c;
}

}  // namespace

TEST_CASE("fault proxy: every fault kind breaks a write the way its name says") {
  const std::vector<FaultCase> cases = {
      {"500", StatusCode::kInternal, 500, false},
      {"503", StatusCode::kUnavailable, 503, false},
      {"429", StatusCode::kResourceExhausted, 429, false},
      {"reset_before", StatusCode::kUnavailable, 0, false},
      {"reset_after", StatusCode::kUnavailable, 0, true},
      {"stall", StatusCode::kDeadlineExceeded, 0, true},
      {"truncate", StatusCode::kUnavailable, 0, true},
  };
  auto direct = test_client();
  for (const auto& k : cases) {
    CAPTURE(k.fault);
    FaultProxy proxy = FaultProxy::start(
        server_url(), {"--faults", k.fault + ":1", "--stall-seconds", "4", "--seed", "1"});
    auto client = client_without_retries(proxy.url());
    const std::string name = unique_name("fault-" + k.fault);
    const auto start = std::chrono::steady_clock::now();
    auto r = client.create_experiment(name);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
    REQUIRE_FALSE(r.ok());
    CAPTURE(r.status().to_string());
    CHECK(r.status().code() == k.code);
    CHECK(r.status().http_status() == k.http_status);
    CHECK(proxy.count(k.fault) == 1);
    CHECK(proxy.count("forwarded") == 0);
    auto stored = direct.get_experiment_by_name(name);
    CHECK(stored.ok() == k.reached_server);
    // Reads are never broken, so a client can always look at what happened.
    auto read = client.get_experiment("0");  // the Default experiment
    CHECK(read.ok());
    CHECK(proxy.count("forwarded") == 1);
  }
}

TEST_CASE("fault proxy: a 429 carries Retry-After, which the client waits before its retry") {
  FaultProxy proxy = FaultProxy::start(server_url(), {"--faults", "429:1", "--retry-after", "1"});
  auto o = test_options(proxy.url());
  o.retry.max_retries = 1;
  auto c = MlflowClient::make(o);
  REQUIRE(c.ok());
  const auto start = std::chrono::steady_clock::now();
  auto r = c->create_experiment(unique_name("fault-429"));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.status().code() == StatusCode::kResourceExhausted);
  CHECK(proxy.count("429") == 2);
  CHECK(took >= std::chrono::milliseconds(950));
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("fault proxy: --fault-paths limits faults to the paths it matches") {
  FaultProxy proxy =
      FaultProxy::start(server_url(), {"--faults", "500:0.5", "--fault-paths", "/runs/log-batch$"});
  auto o = test_options(proxy.url());
  o.retry.max_retries = 0;
  auto c = MlflowClient::make(o);
  REQUIRE(c.ok());
  // create-experiment does not match --fault-paths, so it is never broken.
  for (int i = 0; i < 10; ++i) {
    auto exp = c->create_experiment(unique_name("fault-paths"));
    REQUIRE_MESSAGE(exp.ok(), exp.status().to_string());
    auto back = c->get_experiment(*exp);
    REQUIRE(back.ok());
    CHECK(back->experiment_id == *exp);
  }
  CHECK(proxy.count("forwarded") == 20);
  CHECK(proxy.count("500") == 0);
}

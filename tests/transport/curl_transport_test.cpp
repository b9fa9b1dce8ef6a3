// SPDX-License-Identifier: Apache-2.0
// The curl transport against a loopback server: keep-alive reuse, timeouts, Retry-After, bad
// bodies.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "mlflow/client.h"
#include "support/test_support.h"

using namespace std::chrono_literals;
using mlflow::StatusCode;

namespace {

// A loopback server on a free port, running on its own thread for the test's lifetime.
class LoopbackServer {
 public:
  LoopbackServer() {
    server_.set_keep_alive_max_count(1000);  // the default (5) would close connections on its own
    port_ = server_.bind_to_any_port("127.0.0.1");
    // bind_to_any_port() already listens, so clients queue in the backlog until the loop runs.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& server() { return server_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

mlflow::MlflowClient client_for(const std::string& url, mlflow::RetryOptions retry = {}) {
  mlflow::ClientOptions o;
  o.tracking_uri = url;
  o.retry = retry;
  auto c = mlflow::MlflowClient::make(o);
  REQUIRE(c.ok());
  return *c;
}

mlflow::RetryOptions fast_retry() {
  mlflow::RetryOptions r;
  r.max_retries = 3;
  r.backoff_factor = std::chrono::milliseconds(10);
  r.backoff_jitter = std::chrono::milliseconds(0);
  r.request_timeout = 2s;
  return r;
}

const char* kRunJson = R"({"run":{"info":{"run_id":"r1","status":"RUNNING"}}})";

}  // namespace

TEST_CASE("curl transport: sequential requests reuse one keep-alive connection") {
  LoopbackServer srv;
  std::set<int> ports;
  std::mutex mu;
  srv.server().Get("/api/2.0/mlflow/runs/get",
                   [&](const httplib::Request& req, httplib::Response& res) {
                     {
                       std::lock_guard<std::mutex> lock(mu);
                       ports.insert(req.remote_port);
                     }
                     res.set_content(kRunJson, "application/json");
                   });
  auto c = client_for(srv.url(), fast_retry());
  for (int i = 0; i < 10; ++i) REQUIRE(c.get_run("r1").ok());
  CHECK(ports.size() == 1);
}

TEST_CASE("curl transport: 429 with Retry-After is waited out, then succeeds") {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> at;
  srv.server().Get("/api/2.0/mlflow/runs/get",
                   [&](const httplib::Request&, httplib::Response& res) {
                     std::lock_guard<std::mutex> lock(mu);
                     at.push_back(std::chrono::steady_clock::now());
                     if (calls++ == 0) {
                       res.status = 429;
                       res.set_header("Retry-After", "1");
                       res.set_content("slow down", "text/plain");
                       return;
                     }
                     res.set_content(kRunJson, "application/json");
                   });
  auto c = client_for(srv.url(), fast_retry());
  auto r = c.get_run("r1");
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(calls == 2);
  REQUIRE(at.size() == 2);
  CHECK(at[1] - at[0] >= 900ms);
}

TEST_CASE("curl transport: a stalled server times out and the call ends within its deadline") {
  LoopbackServer srv;
  srv.server().Get("/api/2.0/mlflow/runs/get",
                   [&](const httplib::Request&, httplib::Response& res) {
                     std::this_thread::sleep_for(1500ms);
                     res.set_content(kRunJson, "application/json");
                   });
  auto retry = fast_retry();
  retry.request_timeout = 300ms;
  retry.max_retries = 1;
  auto c = client_for(srv.url(), retry);
  auto start = std::chrono::steady_clock::now();
  auto r = c.get_run("r1");
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
  CHECK(r.status().message().find("2 attempts") != std::string::npos);
  CHECK(took < 1400ms);
}

TEST_CASE("curl transport: 503 retried up to the limit, then the server's status is reported") {
  LoopbackServer srv;
  std::atomic<int> calls{0};
  srv.server().Post("/api/2.0/mlflow/runs/log-batch",
                    [&](const httplib::Request&, httplib::Response& res) {
                      ++calls;
                      res.status = 503;
                      res.set_content("<html><h1>503 Service Unavailable</h1></html>", "text/html");
                    });
  auto c = client_for(srv.url(), fast_retry());
  auto st = c.log_batch("r1", {{"m", 1.0, 1, 0, {}, {}, {}, {}}});
  CHECK(calls == 4);
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK(st.http_status() == 503);
  CHECK(st.message().find("POST /api/2.0/mlflow/runs/log-batch") != std::string::npos);
  CHECK(st.message().find("503 Service Unavailable") != std::string::npos);
  CHECK(st.message().find("after 4 attempts") != std::string::npos);
}

TEST_CASE("curl transport: 200 with malformed JSON is a clear error, not a crash") {
  LoopbackServer srv;
  srv.server().Get("/api/2.0/mlflow/runs/get",
                   [&](const httplib::Request&, httplib::Response& res) {
                     res.set_content(R"({"run": {"info": {"run_id": "r1")", "application/json");
                   });
  auto c = client_for(srv.url(), fast_retry());
  auto r = c.get_run("r1");
  CHECK(r.status().code() == StatusCode::kInternal);
  CHECK(r.status().message().find("malformed response from GET /api/2.0/mlflow/runs/get") !=
        std::string::npos);
}

TEST_CASE("curl transport: credentials go in the Authorization header only") {
  LoopbackServer srv;
  std::string auth, target;
  srv.server().Get("/api/2.0/mlflow/runs/get",
                   [&](const httplib::Request& req, httplib::Response& res) {
                     auth = req.get_header_value("Authorization");
                     target = req.target;
                     res.status = 403;
                     res.set_content("Permission denied", "text/plain");
                   });
  mlflow::ClientOptions o;
  o.tracking_uri = srv.url();
  o.username = "alice";
  o.password = "hunter2-secret";
  auto c = mlflow::MlflowClient::make(o);
  REQUIRE(c.ok());
  auto r = c->get_run("r1");
  CHECK(auth == "Basic YWxpY2U6aHVudGVyMi1zZWNyZXQ=");
  CHECK(target.find("secret") == std::string::npos);
  CHECK(r.status().code() == StatusCode::kPermissionDenied);
  CHECK(r.status().to_string().find("hunter2") == std::string::npos);
  CHECK(r.status().to_string().find("HTTP 403 from GET /api/2.0/mlflow/runs/get") !=
        std::string::npos);
}

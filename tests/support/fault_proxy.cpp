// SPDX-License-Identifier: Apache-2.0
#include "support/fault_proxy.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "mlflow/http.h"

namespace mlflow::testing {

FaultProxy FaultProxy::start(const std::string& upstream,
                             const std::vector<std::string>& extra_args) {
  FaultProxy p;
  p.dir_ = std::make_unique<TempDir>();
  const std::string url_file = p.dir_->path() + "/proxy.url";
  std::vector<std::string> args{MLFLOW_CPP_FAULT_PROXY_PY, "--upstream", upstream, "--url-file",
                                url_file};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  p.process_ = std::make_unique<BackgroundProcess>(
      "/usr/bin/python3", args, std::vector<std::string>{}, p.dir_->path() + "/proxy.log");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(url_file)) {
    const bool alive = p.process_->running();
    REQUIRE_MESSAGE((alive && std::chrono::steady_clock::now() < give_up),
                    "fault_proxy.py " << (alive ? "did not write its URL within 20 s" : "exited")
                                      << "; its output:\n"
                                      << p.process_->output());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  p.url_ = read_file(url_file);
  return p;
}

namespace {

/// A request to the proxy's own endpoints; fails the test unless it answers 200.
std::string control(const std::string& method, const std::string& url, const std::string& body) {
  // The proxy's own certificate is not what these requests test.
  static const auto transport = make_curl_transport({/*insecure=*/true, "", ""});
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.timeout = std::chrono::seconds(10);
  auto resp = transport->send(req);
  REQUIRE_MESSAGE(resp.ok(), method << " " << req.url << ": " << resp.status().to_string());
  REQUIRE_MESSAGE(resp->status == 200,
                  method << " " << req.url << ": HTTP " << resp->status << " " << resp->body);
  return resp->body;
}

}  // namespace

nlohmann::json FaultProxy::stats() const {
  return nlohmann::json::parse(control("GET", url_ + "/__proxy/stats", ""));
}

void FaultProxy::set_upstream(const std::string& upstream) const {
  (void)control("POST", url_ + "/__proxy/upstream", upstream);
}

int FaultProxy::count(const std::string& key) const {
  auto s = stats();
  return s.contains(key) ? s[key].get<int>() : 0;
}

}  // namespace mlflow::testing

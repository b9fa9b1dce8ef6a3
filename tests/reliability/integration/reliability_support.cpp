// SPDX-License-Identifier: Apache-2.0
#include "reliability_support.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/process.h"
#include "support/test_support.h"

namespace mlflow::testing {

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string server_sh() { return std::string(MLFLOW_CPP_SOURCE_DIR) + "/mlflow/server.sh"; }

// Under the PostgreSQL fixture, the file postgres.dir beside server.url names the test cluster:
// a new database in it, as a URL. Empty under the SQLite fixture.
std::string own_database(const std::string& name) {
  const char* server_file = std::getenv("MLFLOW_CPP_TEST_SERVER_FILE");
  if (server_file == nullptr) return {};
  const auto marker = std::filesystem::path(server_file).parent_path() / "postgres.dir";
  if (!std::filesystem::exists(marker)) return {};
  auto r = run_process("bash", {std::string(MLFLOW_CPP_SOURCE_DIR) + "/mlflow/postgres.sh",
                                "createdb", "--dir", read_file(marker.string()), name});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string url = r.out;
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
  return url;
}

}  // namespace

std::string dead_url() { return "http://127.0.0.1:" + std::to_string(free_port()); }

OwnServer::OwnServer(std::vector<std::string> start_args) : start_args_(std::move(start_args)) {
  static TempDir* root = new TempDir();  // outlives every server of the process
  dir_ = root->path() + "/" + unique_name("srv");
  port_ = free_port();
  url_ = "http://127.0.0.1:" + std::to_string(port_);
  // Under the PostgreSQL fixture, a store of its own there unless the caller named one.
  if (std::find(start_args_.begin(), start_args_.end(), "--backend-store-uri") ==
      start_args_.end()) {
    const std::string db =
        own_database("srv_" + std::to_string(::getpid()) + "_" + std::to_string(port_));
    if (!db.empty()) start_args_.insert(start_args_.end(), {"--backend-store-uri", db});
  }
  start();
}

OwnServer::~OwnServer() { stop(); }

void OwnServer::start() {
  std::vector<std::string> args{server_sh(), "start",  "--dir",
                                dir_,        "--port", std::to_string(port_)};
  args.insert(args.end(), start_args_.begin(), start_args_.end());
  auto r = run_process("bash", args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

void OwnServer::stop() { (void)run_process("bash", {server_sh(), "stop", "--dir", dir_}); }

void OwnServer::kill9() {
  std::string pid = read_file(dir_ + "/server.pid");
  long pgid = std::stol(pid);
  REQUIRE(pgid > 1);
  ::kill(static_cast<pid_t>(-pgid), SIGKILL);
  // Wait until the port is free again, so start() can bind it.
  for (int i = 0; i < 100; ++i) {
    if (::kill(static_cast<pid_t>(-pgid), 0) != 0) break;
    ::usleep(100'000);
  }
}

bool wait_for_output(BackgroundProcess& process, const std::string& marker,
                     std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (process.output().find(marker) != std::string::npos) return true;
    // Checked after the output, so that a marker printed just before exiting still counts.
    if (!process.running() || std::chrono::steady_clock::now() >= deadline) {
      return process.output().find(marker) != std::string::npos;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

MlflowClient OwnServer::client() const {
  auto c = MlflowClient::make(test_options(url_));
  REQUIRE(c.ok());
  return *c;
}

AsyncLoggerOptions quiet_options(const std::string& spool) {
  AsyncLoggerOptions o;
  o.spool_dir = spool;
  o.probe_interval = std::chrono::milliseconds(300);
  o.retry.max_retries = 1;
  o.retry.request_timeout = std::chrono::seconds(5);
  o.log = [](const std::string&) {};
  return o;
}

std::size_t files_under(const std::string& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) ++n;
  }
  return n;
}

std::map<std::string, StoredRun> stored_runs(MlflowClient& client, const std::string& experiment) {
  auto exp = client.get_experiment_by_name(experiment);
  INFO(experiment);
  REQUIRE(exp.ok());
  std::map<std::string, StoredRun> out;
  std::string token;
  do {
    SearchOptions s;
    s.max_results = 1000;
    s.page_token = token;
    auto page = client.search_runs({exp->experiment_id}, s, ViewType::kAll);
    REQUIRE(page.ok());
    for (const auto& run : page->items) {
      StoredRun r;
      r.run_id = run.info.run_id;
      r.name = run.info.run_name;
      r.status = to_string(run.info.status);
      r.parent_id = find_value(run.data.tags, "mlflow.parentRunId").value_or("");
      for (const auto& p : run.data.params) r.params[p.key] = p.value;
      auto history = client.get_metric_history(r.run_id, "m");
      if (history.ok()) r.history = *history;
      INFO("run name " << r.name);
      CHECK_MESSAGE(out.count(r.name) == 0,
                    "two runs named " << r.name << ": a run was created twice");
      out[r.name] = std::move(r);
    }
    token = page->next_page_token;
  } while (!token.empty());
  return out;
}

void check_history(const StoredRun& run, int index, int metrics) {
  INFO("run " << run.name << " (" << run.run_id << ")");
  CHECK(run.history.size() == static_cast<std::size_t>(metrics));
  std::set<std::int64_t> steps;
  int wrong = 0;
  for (const auto& m : run.history) {
    steps.insert(m.step);
    if (m.value != static_cast<double>(index) * metrics + static_cast<double>(m.step)) ++wrong;
  }
  CHECK(steps.size() == static_cast<std::size_t>(metrics));
  CHECK(wrong == 0);
  if (!steps.empty()) {
    CHECK(*steps.begin() == 0);
    CHECK(*steps.rbegin() == metrics - 1);
  }
}

}  // namespace mlflow::testing

// SPDX-License-Identifier: Apache-2.0
// The async logger under faults against the real server: the server SIGKILLed and restarted, a
// proxy injecting errors, resets, stalls and truncated bodies, and eight processes logging at once.
#include <algorithm>
#include <chrono>
#include <doctest/doctest.h>
#include <thread>

#include "mlflow/async_logger.h"
#include "reliability_support.h"
#include "support/fault_proxy.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;
using namespace std::chrono_literals;

namespace {

struct Logged {
  std::vector<AsyncRun> runs;
  std::chrono::nanoseconds slowest_call{0};
};

/// Starts `n` runs in `experiment` and logs the writer's pattern (run i: "m" = i*metrics+j at step
/// j), pausing `pause` after every step; keeps the slowest logging call.
void log_runs(AsyncLogger& logger, const std::string& experiment, int n, int metrics,
              std::chrono::microseconds pause, Logged& out) {
  for (int i = 0; i < n; ++i) {
    RunOptions o;
    o.experiment_name = experiment;
    o.run_name = "run-" + std::to_string(i);
    auto r = logger.start_run(o);
    REQUIRE(r.ok());
    REQUIRE(r->log_param("index", std::to_string(i)).ok());
    out.runs.push_back(std::move(*r));
  }
  for (int j = 0; j < metrics; ++j) {
    for (int i = 0; i < n; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      Status s = out.runs[static_cast<std::size_t>(i)].log_metric(
          "m", static_cast<double>(i) * metrics + j, j);
      out.slowest_call = std::max(out.slowest_call, std::chrono::steady_clock::now() - t0);
      REQUIRE(s.ok());
    }
    if (pause.count() > 0 && j % 10 == 9) std::this_thread::sleep_for(pause);
  }
  for (auto& r : out.runs) r.end();
}

void check_all(MlflowClient& client, const std::string& experiment, int n, int metrics) {
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto& r = stored["run-" + std::to_string(i)];
    CHECK(r.status == "FINISHED");
    CHECK(r.params.at("index") == std::to_string(i));
    check_history(r, i, metrics);
  }
}

}  // namespace

TEST_CASE("50000 metrics over 5 runs survive the server being SIGKILLed and restarted 10 s later") {
  TempDir spool;
  OwnServer server;
  auto client = server.client();
  const std::string experiment = unique_name("kill9");
  AsyncLoggerOptions o;
  o.spool_dir = spool.path();
  o.probe_interval = 500ms;
  o.retry.request_timeout = 5s;
  auto logger = AsyncLogger::open(client, o);
  REQUIRE(logger.ok());

  std::thread chaos([&] {
    std::this_thread::sleep_for(3s);
    server.kill9();
    std::this_thread::sleep_for(10s);
    server.start();
  });
  Logged logged;
  // 10,000 steps x 5 runs, ~15 s of logging: the kill lands in the middle.
  log_runs(**logger, experiment, 5, 10'000, 15ms, logged);
  chaos.join();
  auto report = (*logger)->close(180s);
  INFO(report.status().message());
  CHECK(report.complete);
  CHECK(report.counters.spooled > 0);  // the outage really happened while logging
  CHECK(report.counters.replayed > 0);
  CHECK(report.counters.rejected == 0);
  CHECK(report.counters.sent == report.counters.queued);
  CHECK(logged.slowest_call < 1s);  // logging never waited for the dead server
  check_all(client, experiment, 5, 10'000);
}

TEST_CASE("every fault the proxy injects still gives each record exactly once") {
  TempDir spool;
  auto proxy = FaultProxy::start(
      server_url(), {"--seed", "11", "--stall-seconds", "4", "--retry-after", "1", "--faults",
                     "500:0.06,503:0.06,429:0.06,reset_before:0.06,reset_after:0.06,stall:0.03,"
                     "truncate:0.06"});
  auto through = MlflowClient::make(test_options(proxy.url()));
  REQUIRE(through.ok());
  const std::string experiment = unique_name("faults");
  AsyncLoggerOptions o;
  o.spool_dir = spool.path();
  o.batch_records = 200;  // many requests, so every kind of fault gets its turn
  o.probe_interval = 200ms;
  o.retry.request_timeout = 2s;  // shorter than the proxy's stall
  o.retry.max_retries = 3;
  o.retry.backoff_factor = 100ms;
  auto logger = AsyncLogger::open(*through, o);
  REQUIRE(logger.ok());
  Logged logged;
  log_runs(**logger, experiment, 5, 6000, 3ms, logged);
  const auto t0 = std::chrono::steady_clock::now();
  auto report = (*logger)->close(240s);
  const auto close_took = std::chrono::steady_clock::now() - t0;
  INFO(report.status().message());
  INFO(proxy.stats().dump());
  CHECK(report.complete);
  CHECK(report.counters.rejected == 0);
  CHECK(report.counters.sent == report.counters.queued);
  CHECK(report.counters.retried > 0);
  CHECK(logged.slowest_call < 1s);
  CHECK(close_took < 240s + 2s);  // bounded by its timeout plus one request
  for (const char* fault :
       {"500", "503", "429", "reset_before", "reset_after", "stall", "truncate"}) {
    INFO(fault);
    CHECK(proxy.count(fault) > 0);
  }
  auto direct = test_client();
  check_all(direct, experiment, 5, 6000);
}

TEST_CASE("8 processes x 4 runs x 10000 metrics into one server all arrive") {
  TempDir spool;
  const std::string experiment = unique_name("load");
  std::vector<std::unique_ptr<BackgroundProcess>> writers;
  for (int p = 0; p < 8; ++p) {
    writers.push_back(std::make_unique<BackgroundProcess>(
        LOG_WRITER_PATH,
        std::vector<std::string>{"--uri", server_url(), "--spool", spool.path(), "--experiment",
                                 experiment, "--prefix", "p" + std::to_string(p), "--runs", "4",
                                 "--metrics", "10000", "--max-retries", "4", "--close-ms",
                                 "240000"},
        std::vector<std::string>{}, spool.path() + "/../load-" + std::to_string(p) + ".out"));
  }
  for (auto& w : writers) {
    const auto deadline = std::chrono::steady_clock::now() + 290s;
    while (w->running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(200ms);
    INFO(w->output());
    int status = w->stop(5s);
    CHECK(status == 0);
    CHECK(w->output().find("CLOSED complete=1") != std::string::npos);
  }
  auto client = test_client();
  auto stored = stored_runs(client, experiment);
  CHECK(stored.size() == 32);
  std::size_t total = 0;
  for (int p = 0; p < 8; ++p) {
    for (int i = 0; i < 4; ++i) {
      const auto& r = stored["p" + std::to_string(p) + "-" + std::to_string(i)];
      check_history(r, i, 10'000);
      total += r.history.size();
    }
  }
  CHECK(total == 320'000);
}

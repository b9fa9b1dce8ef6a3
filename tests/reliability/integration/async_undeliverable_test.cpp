// SPDX-License-Identifier: Apache-2.0
// What the async logger keeps when it cannot deliver, against the real server: SIGTERM and SIGINT
// while the server stalls (the bounded flush, then the rest to the spool), std::exit() with the
// logger still open, and a server answering every API request with a malformed 200.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <doctest/doctest.h>
#include <mutex>
#include <optional>
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

constexpr int kRuns = 2;
constexpr int kMetrics = 3000;

/// Runs the writer (kRuns runs of kMetrics metrics, hooks on, 1 s hook timeout, 3 s requests)
/// against `uri`, sends `sig` once everything is logged and checks the hooks re-raised it.
void signal_writer(int sig, const std::string& uri, const std::string& spool,
                   const std::string& experiment) {
  TempDir out;
  BackgroundProcess writer(
      LOG_WRITER_PATH,
      {"--uri", uri, "--spool", spool, "--experiment", experiment, "--prefix", "w", "--runs",
       std::to_string(kRuns), "--metrics", std::to_string(kMetrics), "--hooks", "--hook-ms", "1000",
       "--request-timeout-ms", "3000", "--hold"},
      {}, out.path() + "/writer.out");
  REQUIRE(wait_for_output(writer, "READY"));
  // The worker is now waiting for a stalled answer, holding records in memory.
  ::kill(static_cast<pid_t>(writer.pid()), sig);
  // Not stop() at once: its SIGTERM could overtake `sig` (two threads take the two signals).
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (writer.running() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(50ms);
  }
  const int status = writer.stop();
  INFO(writer.output());
  CHECK(WIFSIGNALED(status));
  if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == sig);
  CHECK(writer.output().find("records kept in") != std::string::npos);
}

/// Every run the writer started holds each of its values exactly once and ended KILLED.
void check_killed_runs(const std::string& experiment) {
  auto client = test_client();
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == static_cast<std::size_t>(kRuns));
  for (int i = 0; i < kRuns; ++i) {
    const auto& r = stored["w-" + std::to_string(i)];
    CHECK(r.status == "KILLED");
    CHECK(r.params.at("run_index") == std::to_string(i));
    check_history(r, i, kMetrics);
  }
}

std::string port_of(const std::string& url) { return url.substr(url.rfind(':') + 1); }

}  // namespace

TEST_CASE(
    "SIGTERM while the server stalls: the rest is spooled, and the next start replays it once") {
  TempDir spool;
  const std::string experiment = unique_name("async-term-stall");
  // Runs get created; every log-batch reaches the server (and is applied) but is never answered.
  std::optional<FaultProxy> stalled = FaultProxy::start(
      server_url(),
      {"--faults", "stall:1", "--stall-seconds", "600", "--fault-paths", "/runs/log-batch"});
  const std::string uri = stalled->url();
  signal_writer(SIGTERM, uri, spool.path(), experiment);
  stalled.reset();

  // The server answers again at the same address: the next logger for it replays the session.
  auto healthy = FaultProxy::start(server_url(), {"--port", port_of(uri)});
  REQUIRE(healthy.url() == uri);
  auto client = MlflowClient::make(test_options(uri));
  REQUIRE(client.ok());
  auto logger = AsyncLogger::open(*client, quiet_options(spool.path()));
  REQUIRE(logger.ok());
  auto report = (*logger)->close(120s);
  INFO(report.status().message());
  CHECK(report.complete);
  CHECK(report.counters.replayed >= kRuns * (kMetrics + 3));  // metrics, param, tag, end per run
  CHECK(report.counters.sent == report.counters.replayed);
  CHECK(report.counters.rejected == 0);
  check_killed_runs(experiment);
  CHECK(files_under(spool.path()) == 0);
}

TEST_CASE(
    "SIGINT while the server stalls: the rest is spooled, and mlflowctl sync delivers it once") {
  TempDir spool;
  const std::string experiment = unique_name("async-int-stall");
  {
    // Nothing is answered: not the experiment's creation, not the runs', not a log-batch.
    auto stalled =
        FaultProxy::start(server_url(), {"--faults", "stall:1", "--stall-seconds", "600"});
    signal_writer(SIGINT, stalled.url(), spool.path(), experiment);
  }
  auto sync = run_process(MLFLOWCTL_PATH, {"sync", spool.path(), "--to", server_url()});
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  check_killed_runs(experiment);
  auto again = run_process(MLFLOWCTL_PATH, {"sync", spool.path(), "--to", server_url()});
  CHECK(again.exit_code == 0);
  check_killed_runs(experiment);  // nothing twice
}

TEST_CASE("std::exit() with the process hooks installed closes the open logger: nothing is lost") {
  TempDir spool;
  const std::string experiment = unique_name("async-exit");
  auto w =
      run_process(LOG_WRITER_PATH, {"--uri", server_url(), "--spool", spool.path(), "--experiment",
                                    experiment, "--prefix", "w", "--runs", std::to_string(kRuns),
                                    "--metrics", std::to_string(kMetrics), "--hooks", "--exit"});
  INFO(w.out << w.err);
  CHECK(w.exit_code == 0);
  CHECK(w.err.find("async logger closed") != std::string::npos);
  auto client = test_client();
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == static_cast<std::size_t>(kRuns));
  for (int i = 0; i < kRuns; ++i) {
    const auto& r = stored["w-" + std::to_string(i)];
    CHECK(r.status == "FINISHED");  // as MLflow's own atexit hook ends the active run
    check_history(r, i, kMetrics);
  }
  CHECK(files_under(spool.path()) == 0);
}

TEST_CASE(
    "a malformed 200 for every API request: records stay in the spool and the report says why") {
  TempDir spool;
  const std::string experiment = unique_name("async-badjson");
  {
    auto proxy = FaultProxy::start(server_url(), {"--mode", "badjson"});
    auto client = MlflowClient::make(test_options(proxy.url()));
    REQUIRE(client.ok());
    AsyncLoggerOptions o = quiet_options(spool.path());
    std::mutex mu;
    std::string log;
    o.log = [&](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu);
      log += line + "\n";
    };
    auto logger = AsyncLogger::open(*client, o);
    REQUIRE(logger.ok());
    RunOptions ro;
    ro.experiment_name = experiment;
    ro.run_name = "w-0";
    auto run = logger.value()->start_run(ro);
    REQUIRE(run.ok());
    REQUIRE(run->log_param("run_index", "0").ok());
    for (int j = 0; j < kMetrics; ++j) REQUIRE(run->log_metric("m", j, j).ok());
    run->end();

    auto report = (*logger)->flush(3s);
    const Status st = report.status();
    INFO(st.to_string());
    CHECK_FALSE(report.complete);
    CHECK(st.code() == StatusCode::kInternal);
    CHECK(st.message().find("not delivered yet") != std::string::npos);
    CHECK(st.message().find("malformed response") != std::string::npos);
    CHECK(st.message().find("not valid JSON") != std::string::npos);
    CHECK(st.message().find(proxy.url().substr(7)) != std::string::npos);  // which server
    CHECK(report.rejected.empty());
    auto closed = (*logger)->close(2s);
    CHECK_FALSE(closed.complete);
    CHECK(closed.counters.rejected == 0);
    CHECK(closed.counters.spooled == closed.counters.queued);
    std::lock_guard<std::mutex> lock(mu);
    CHECK(log.find("not valid JSON") != std::string::npos);
  }
  // Nothing was lost: a sync to the real server delivers all of it.
  auto sync = run_process(MLFLOWCTL_PATH, {"sync", spool.path(), "--to", server_url()});
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  auto client = test_client();
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 1);
  CHECK(stored["w-0"].status == "FINISHED");
  check_history(stored["w-0"], 0, kMetrics);
}

// SPDX-License-Identifier: Apache-2.0
// Faults at team scale: trainer processes log through a proxy into a PostgreSQL-backed server
// while PostgreSQL restarts, the server is SIGKILLed and brought back on its port, and the proxy
// moves to a second server on another port over the same database. Every value arrives once.
#include <chrono>
#include <cstdint>
#include <doctest/doctest.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "reliability_support.h"
#include "support/fault_proxy.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace mlflow::testing;
using namespace std::chrono_literals;

namespace {

std::string postgres_sh() { return std::string(MLFLOW_CPP_SOURCE_DIR) + "/mlflow/postgres.sh"; }

/// A throwaway PostgreSQL cluster (mlflow/postgres.sh) in `dir`, removed when destroyed.
class OwnPostgres {
 public:
  explicit OwnPostgres(std::string dir) : dir_(std::move(dir)) {
    (void)run_process("bash", {postgres_sh(), "remove", "--dir", dir_});  // a previous run's
    run("start");
    url_ = read_file(dir_ + "/postgres.url");
    REQUIRE(url_.rfind("postgresql://", 0) == 0);
  }
  ~OwnPostgres() { (void)run_process("bash", {postgres_sh(), "remove", "--dir", dir_}); }
  OwnPostgres(const OwnPostgres&) = delete;
  OwnPostgres& operator=(const OwnPostgres&) = delete;

  const std::string& url() const { return url_; }
  void run(const std::string& command) {
    auto r = run_process("bash", {postgres_sh(), command, "--dir", dir_});
    INFO("postgres.sh " << command << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }

 private:
  std::string dir_;
  std::string url_;
};

/// The last line of a program's output as JSON (the trainer's and the count's report).
nlohmann::json last_json_line(const std::string& output) {
  std::string text = output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const auto nl = text.rfind('\n');
  auto j =
      nlohmann::json::parse(nl == std::string::npos ? text : text.substr(nl + 1), nullptr, false);
  INFO(output);
  REQUIRE(!j.is_discarded());
  return j;
}

}  // namespace

TEST_CASE(
    "8 trainers through a proxy: PostgreSQL restarted, the server SIGKILLed and back on its port, "
    "then moved to another port; every value arrives exactly once") {
  constexpr int kTrainers = 8;
  constexpr int kMetrics = 12'000;  // 3000 steps x 4 keys, 40 ms apart: 2 min of logging each
  const auto started = std::chrono::steady_clock::now();
  OwnPostgres db(TEAM_FAULTS_DIR "/postgres");
  const std::vector<std::string> pg_server{"--backend-store-uri", db.url(), "--workers", "2"};
  OwnServer first(pg_server);
  // Started before the trainers (a server takes tens of seconds to start on 2 busy cores): the
  // move to it below is what happens during the logging.
  OwnServer second(pg_server);
  auto proxy = FaultProxy::start(first.url());
  TempDir spool, outputs;
  const std::string experiment = unique_name("team-faults");

  std::vector<std::unique_ptr<BackgroundProcess>> trainers;
  for (int i = 0; i < kTrainers; ++i) {
    trainers.push_back(std::make_unique<BackgroundProcess>(
        BENCH_TEAM_LOAD_PATH,
        std::vector<std::string>{"trainer",
                                 "--uri",
                                 proxy.url(),
                                 "--experiment",
                                 experiment,
                                 "--index",
                                 std::to_string(i),
                                 "--metrics",
                                 std::to_string(kMetrics),
                                 "--spool",
                                 spool.path(),
                                 "--pause-every",
                                 "1",
                                 "--pause-ms",
                                 "40",
                                 "--probe-ms",
                                 "500",
                                 "--request-timeout-ms",
                                 "5000",
                                 "--close-timeout",
                                 "150"},
        std::vector<std::string>{}, outputs.path() + "/trainer-" + std::to_string(i) + ".out"));
  }
  auto all_running = [&] {
    for (auto& t : trainers) {
      if (!t->running()) return false;
    }
    return true;
  };

  // (a) The database goes away and comes back: the server answers 503 meanwhile.
  std::this_thread::sleep_for(10s);
  REQUIRE(all_running());
  db.run("restart");
  // (b) The server dies without warning and comes back on the same address.
  std::this_thread::sleep_for(8s);
  REQUIRE(all_running());
  first.kill9();
  std::this_thread::sleep_for(3s);
  first.start();
  // (c) The proxy the trainers point at moves to the second server, on another port over the same
  // database, and the first one is stopped, so nothing can still reach it.
  REQUIRE(all_running());
  proxy.set_upstream(second.url());
  first.stop();
  const int forwarded_before_move = proxy.count("forwarded");

  std::uint64_t spooled = 0, retried = 0;
  for (int i = 0; i < kTrainers; ++i) {
    auto& t = *trainers[static_cast<std::size_t>(i)];
    const auto deadline = std::chrono::steady_clock::now() + 200s;
    while (t.running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(200ms);
    INFO("trainer " << i << ": " << t.output());
    CHECK(t.stop(5s) == 0);
    auto report = last_json_line(t.output());
    CHECK(report["complete"] == true);
    CHECK(report["rejected"] == 0);
    CHECK(report["sent"] == report["queued"]);
    spooled += report["spooled"].get<std::uint64_t>();
    retried += report["retried"].get<std::uint64_t>();
  }
  INFO(proxy.stats().dump());
  CHECK(spooled + retried > 0);                             // the faults were felt by the trainers
  CHECK(proxy.count("forwarded") > forwarded_before_move);  // the second server took traffic
  CHECK(files_under(spool.path()) == 0);                    // the spool is empty at the end

  auto count =
      run_process(BENCH_TEAM_LOAD_PATH,
                  {"count", "--uri", second.url(), "--experiment", experiment, "--trainers",
                   std::to_string(kTrainers), "--metrics", std::to_string(kMetrics)});
  INFO(count.out << count.err);
  auto counted = last_json_line(count.out);
  CHECK(counted["stored"] == kTrainers * kMetrics);
  CHECK(counted["missing"] == 0);
  CHECK(counted["duplicated"] == 0);
  CHECK(counted["wrong"] == 0);
  CHECK(counted["runs_finished"] == kTrainers);
  CHECK(counted["duplicate_runs"] == 0);
  CHECK(count.exit_code == 0);
  MESSAGE("team fault test took " << std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::steady_clock::now() - started)
                                         .count()
                                  << " s; trainers spooled " << spooled << " and retried "
                                  << retried << " records");
}

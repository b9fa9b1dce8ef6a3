// SPDX-License-Identifier: Apache-2.0
// AsyncLogger against the real server: delivery, exactly-once, bad input, the spool while the
// server is away, crash recovery at the next start, offline runs and `mlflowctl sync`, lifecycle
// hooks.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <limits>
#include <optional>

#include "mlflow/async_logger.h"
#include "reliability_support.h"
#include "support/fault_proxy.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;
using namespace std::chrono_literals;

namespace {

/// Logs the writer's pattern from this process.
void log_pattern(std::vector<AsyncRun>& runs, int metrics) {
  for (int j = 0; j < metrics; ++j) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      REQUIRE(runs[i].log_metric("m", static_cast<double>(i) * metrics + j, j).ok());
    }
  }
}

/// A run "parent" in `experiment` with `n` children "child-<i>".
struct Family {
  std::optional<AsyncRun> parent;
  std::vector<AsyncRun> children;
};
Family start_family(AsyncLogger& logger, const std::string& experiment, int n) {
  Family f;
  RunOptions o;
  o.experiment_name = experiment;
  o.run_name = "parent";
  auto parent = logger.start_run(o);
  REQUIRE(parent.ok());
  f.parent.emplace(std::move(*parent));
  for (int i = 0; i < n; ++i) {
    RunOptions c;
    c.run_name = "child-" + std::to_string(i);
    auto child = f.parent->start_child(c);
    REQUIRE(child.ok());
    f.children.push_back(std::move(*child));
  }
  return f;
}

/// Runs of the writer program: (exit code, stdout).
ProcessResult run_writer(const std::vector<std::string>& args) {
  return run_process(LOG_WRITER_PATH, args);
}

}  // namespace

TEST_CASE("async logger delivers nested runs with params, tags and every metric exactly once") {
  TempDir spool;
  auto client = test_client();
  const std::string experiment = unique_name("async-basic");
  auto logger = AsyncLogger::open(client, quiet_options(spool.path()));
  REQUIRE(logger.ok());
  auto family = start_family(**logger, experiment, 3);
  auto& parent = family.parent;
  auto& runs = family.children;
  for (int i = 0; i < 3; ++i) {
    auto& child = runs[static_cast<std::size_t>(i)];
    REQUIRE(child.log_param("index", std::to_string(i)).ok());
    REQUIRE(child.set_tag("stage", "first").ok());
    REQUIRE(child.set_tag("stage", "last").ok());  // last write wins
  }
  log_pattern(runs, 3000);
  auto id = parent->wait_for_id(30s);
  REQUIRE(id.ok());
  for (auto& r : runs) r.end();
  parent->end();
  auto report = (*logger)->close(60s);
  INFO(report.status().message());
  CHECK(report.complete);
  CHECK(report.status().ok());
  CHECK(report.counters.sent == report.counters.queued);
  CHECK(report.counters.rejected == 0);

  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 4);
  CHECK(stored["parent"].run_id == *id);
  CHECK(stored["parent"].status == "FINISHED");
  for (int i = 0; i < 3; ++i) {
    const auto& r = stored["child-" + std::to_string(i)];
    CHECK(r.status == "FINISHED");
    CHECK(r.parent_id == *id);
    CHECK(r.params.at("index") == std::to_string(i));
    check_history(r, i, 3000);
    auto run = client.get_run(r.run_id);
    REQUIRE(run.ok());
    CHECK(find_value(run->data.tags, "stage") == std::optional<std::string>("last"));
    CHECK(find_value(run->data.tags, "mlflow.user").has_value());
  }
  CHECK(files_under(spool.path()) == 0);  // nothing was left to spool
}

TEST_CASE("the pinned server stores a retried log-batch once, also after a partial write") {
  // What makes re-sending safe: MLflow's SQL store keys metric rows by (run, key, timestamp, step,
  // value) and skips rows it already has. If this ever changes, retries would duplicate history.
  auto client = test_client();
  auto ref = new_run(client, "retry-dup");
  std::vector<Metric> first, all;
  for (int i = 0; i < 20; ++i) {
    Metric m;
    m.key = "m";
    m.value = i * 0.5;
    m.step = i;
    m.timestamp = 1'700'000'000'000 + i;
    all.push_back(m);
    if (i < 10) first.push_back(m);
  }
  REQUIRE(client.log_batch(ref.run_id, first).ok());  // the part that was written before a failure
  REQUIRE(client.log_batch(ref.run_id, all).ok());    // the retry re-sends the whole batch
  REQUIRE(client.log_batch(ref.run_id, all).ok());    // and once more
  auto history = client.get_metric_history(ref.run_id, "m");
  REQUIRE(history.ok());
  CHECK(history->size() == 20);
}

TEST_CASE("bad input is refused at the call or reported at flush without poisoning the batch") {
  TempDir spool;
  auto client = test_client();
  const std::string experiment = unique_name("async-bad");
  auto logger = AsyncLogger::open(client, quiet_options(spool.path()));
  REQUIRE(logger.ok());
  RunOptions o;
  o.experiment_name = experiment;
  o.run_name = "bad";
  auto run = (*logger)->start_run(o);
  REQUIRE(run.ok());

  auto refused = [](const Status& s, const std::string& needle) {
    INFO(s.message());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().find(needle) != std::string::npos);
  };
  refused(run->log_metric("nan_metric", std::nan("")), "nan_metric");
  refused(run->log_metric("inf_metric", std::numeric_limits<double>::infinity()), "inf_metric");
  refused(run->log_metric("", 1.0), "empty");
  refused(run->log_metric(std::string(300, 'k'), 1.0), "300");
  refused(run->log_metric("bad*key", 1.0), "bad*key");
  refused(run->set_tag("ok", std::string(9000, 'v')), "ok");
  REQUIRE(run->log_param("lr", "0.1").ok());
  REQUIRE(run->log_param("lr", "0.1").ok());  // the same value again is fine
  refused(run->log_param("lr", "0.2"), "lr");

  // A param another client already set to something else: only the server knows; it refuses the
  // request, the logger isolates the one record and delivers the rest.
  auto id = run->wait_for_id(30s);
  REQUIRE(id.ok());
  REQUIRE(client.log_param(*id, "optimizer", "sgd").ok());
  REQUIRE(run->log_param("optimizer", "adam").ok());
  for (int j = 0; j < 50; ++j) REQUIRE(run->log_metric("m", j, j).ok());
  REQUIRE(run->set_tag("after", "yes").ok());
  auto report = (*logger)->flush(60s);
  CHECK(report.complete);
  std::size_t optimizer_reports = 0;
  for (const auto& r : report.rejected) {
    if (r.key == "optimizer") {
      ++optimizer_reports;
      CHECK(r.kind == "param");
      CHECK(r.run == *id);
      CHECK_FALSE(r.reason.empty());
    }
  }
  CHECK(optimizer_reports == 1);
  CHECK(report.rejected.size() == 8);  // 7 at the call + 1 by the server
  CHECK(report.status().code() == StatusCode::kInvalidArgument);
  CHECK(report.status().message().find("optimizer") != std::string::npos);

  auto history = client.get_metric_history(*id, "m");
  REQUIRE(history.ok());
  CHECK(history->size() == 50);
  auto stored = client.get_run(*id);
  REQUIRE(stored.ok());
  CHECK(find_value(stored->data.tags, "after") == std::optional<std::string>("yes"));
  bool optimizer_kept = false;
  for (const auto& p : stored->data.params)
    optimizer_kept |= p.key == "optimizer" && p.value == "sgd";
  CHECK(optimizer_kept);
  (void)(*logger)->close(30s);
}

TEST_CASE("a run started in a deleted experiment is rejected naming it, not spooled for ever") {
  TempDir spool;
  auto client = test_client();
  const std::string experiment = unique_name("async-deleted");
  auto experiment_id = client.create_experiment(experiment);
  REQUIRE(experiment_id.ok());
  REQUIRE(client.delete_experiment(*experiment_id).ok());
  auto logger = AsyncLogger::open(client, quiet_options(spool.path()));
  REQUIRE(logger.ok());
  RunOptions o;
  o.experiment_name = experiment;
  o.run_name = "into-deleted";
  auto run = (*logger)->start_run(o);
  REQUIRE(run.ok());
  REQUIRE(run->log_param("lr", "0.1").ok());
  for (int j = 0; j < 50; ++j) REQUIRE(run->log_metric("m", j, j).ok());
  auto report = (*logger)->flush(60s);
  INFO(report.status().message());
  // The server answered: nothing waits for it to come back.
  CHECK(report.complete);
  CHECK_FALSE((*logger)->degraded());
  CHECK(report.counters.spooled == 0);
  CHECK(report.counters.rejected == report.counters.queued);  // every record of the run
  REQUIRE_FALSE(report.rejected.empty());
  for (const auto& r : report.rejected) {
    CAPTURE(r.reason);
    CHECK(r.reason.find("experiment '" + experiment + "' (id " + *experiment_id + ") is deleted") !=
          std::string::npos);
  }
  CHECK(report.status().code() == StatusCode::kInvalidArgument);
  CHECK(report.status().message().find(experiment) != std::string::npos);
  // Logged later, sent later: refused the same way, without a request.
  run->end();
  auto closed = (*logger)->close(30s);
  CHECK(closed.complete);
  CHECK(closed.rejected.size() == 1);
  CHECK(closed.counters.rejected == closed.counters.queued);
  CHECK(files_under(spool.path()) == 0);
  SearchOptions all;
  auto runs = client.search_runs({*experiment_id}, all, ViewType::kAll);
  REQUIRE(runs.ok());
  CHECK(runs->items.empty());
}

TEST_CASE("runs started while the server is away get real ids when it is back, nesting kept") {
  TempDir spool;
  OwnServer server;
  server.stop();
  const std::string experiment = unique_name("async-away");
  auto client = server.client();
  auto logger = AsyncLogger::open(client, quiet_options(spool.path()));
  REQUIRE(logger.ok());
  auto family = start_family(**logger, experiment, 2);
  auto& parent = family.parent;
  auto& runs = family.children;
  log_pattern(runs, 2000);
  auto early = (*logger)->flush(3s);
  CHECK_FALSE(early.complete);
  CHECK((*logger)->degraded());
  CHECK(parent->id().empty());
  CHECK(early.counters.spooled > 0);

  server.start();
  for (auto& r : runs) r.end();
  parent->end();
  auto report = (*logger)->flush(60s);
  INFO(report.status().message());
  CHECK(report.complete);
  CHECK_FALSE((*logger)->degraded());
  CHECK(report.counters.replayed > 0);
  auto pid = parent->wait_for_id(1s);
  REQUIRE(pid.ok());

  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 3);
  CHECK(stored["parent"].run_id == *pid);
  for (int i = 0; i < 2; ++i) {
    const auto& r = stored["child-" + std::to_string(i)];
    CHECK(r.parent_id == *pid);
    CHECK(r.status == "FINISHED");
    check_history(r, i, 2000);
  }
  (void)(*logger)->close(10s);
}

TEST_CASE("after SIGKILL the spool is replayed by the next logger that starts") {
  TempDir spool;
  OwnServer server;
  server.stop();
  const std::string experiment = unique_name("async-crash");
  BackgroundProcess writer(
      LOG_WRITER_PATH,
      {"--uri", server.url(), "--spool", spool.path(), "--experiment", experiment, "--prefix",
       "crash", "--runs", "3", "--metrics", "1500", "--nested", "--hold", "--wait-spooled"},
      {}, spool.path() + "/../writer.out");
  const bool spooled = wait_for_output(writer, "SPOOLED");
  INFO(writer.output());
  REQUIRE(spooled);
  ::kill(static_cast<pid_t>(writer.pid()), SIGKILL);
  writer.stop();

  server.start();
  auto client = server.client();
  auto logger = AsyncLogger::open(client, quiet_options(spool.path()));
  REQUIRE(logger.ok());
  auto report = (*logger)->close(60s);
  CHECK(report.counters.replayed >= 3 * 1500 + 3 * 2 + 4);  // metrics, param+tag per run, starts
  CHECK(report.counters.sent == report.counters.replayed);  // another process's records count too
  CHECK(report.counters.rejected == 0);
  CHECK(report.complete);
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 4);
  for (int i = 0; i < 3; ++i) {
    const auto& r = stored["crash-" + std::to_string(i)];
    CHECK(r.parent_id == stored["crash-parent"].run_id);
    CHECK(r.status == "RUNNING");  // it never ended: the process was killed
    check_history(r, i, 1500);
  }
  CHECK(files_under(spool.path()) == 0);  // replayed sessions are removed
}

TEST_CASE("offline runs sync into a server with mlflowctl, and a rerun adds nothing") {
  TempDir dir;
  const std::string offline = dir.path() + "/offline";
  const std::string experiment = unique_name("async-offline");
  auto w = run_writer({"--uri", "offline:" + offline, "--experiment", experiment, "--prefix", "off",
                       "--runs", "3", "--metrics", "2000", "--nested"});
  INFO(w.out << w.err);
  REQUIRE(w.exit_code == 0);
  CHECK(w.err.find("mlflowctl sync") != std::string::npos);

  {
    // Interrupted: every other write through this proxy is applied but its answer lost, and
    // mlflowctl does not retry, so the sync stops part way (having delivered some of it).
    auto proxy = FaultProxy::start(server_url(), {"--seed", "3", "--faults", "reset_after:0.5"});
    auto cut = run_process(MLFLOWCTL_PATH, {"sync", offline, "--to", proxy.url()},
                           {"MLFLOW_HTTP_REQUEST_MAX_RETRIES=0"});
    INFO(cut.out << cut.err);
    CHECK(cut.exit_code == 1);
    CHECK(cut.err.find("run the same command again") != std::string::npos);
    CHECK(proxy.count("reset_after") > 0);
  }
  auto sync = run_process(MLFLOWCTL_PATH, {"sync", offline, "--to", server_url()});
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  CHECK(sync.out.find("synced 1 session(s)") != std::string::npos);
  auto again = run_process(MLFLOWCTL_PATH, {"sync", offline, "--to", server_url()});
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find("synced 0 session(s), 0 records") != std::string::npos);

  auto client = test_client();
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 4);
  for (int i = 0; i < 3; ++i) {
    const auto& r = stored["off-" + std::to_string(i)];
    CHECK(r.parent_id == stored["off-parent"].run_id);
    CHECK(r.status == "FINISHED");
    check_history(r, i, 2000);
  }
  auto missing = run_process(MLFLOWCTL_PATH, {"sync", dir.path() + "/nope", "--to", server_url()});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("nope") != std::string::npos);
}

TEST_CASE("SIGTERM ends the runs KILLED after flushing, an uncaught exception ends them FAILED") {
  TempDir spool;
  const std::string experiment = unique_name("async-life");
  {
    BackgroundProcess writer(
        LOG_WRITER_PATH,
        {"--uri", server_url(), "--spool", spool.path(), "--experiment", experiment, "--prefix",
         "term", "--runs", "2", "--metrics", "3000", "--hooks", "--hold"},
        {}, spool.path() + "/../term.out");
    REQUIRE(wait_for_output(writer, "READY"));
    ::kill(static_cast<pid_t>(writer.pid()), SIGTERM);
    int status = writer.stop(60s);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGTERM);
  }
  auto thrown =
      run_writer({"--uri", server_url(), "--spool", spool.path(), "--experiment", experiment,
                  "--prefix", "throw", "--runs", "1", "--metrics", "3000", "--hooks", "--throw"});
  CHECK(thrown.exit_code != 0);

  auto client = test_client();
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 3);
  for (int i = 0; i < 2; ++i) {
    const auto& r = stored["term-" + std::to_string(i)];
    CHECK(r.status == "KILLED");
    check_history(r, i, 3000);
  }
  CHECK(stored["throw-0"].status == "FAILED");
  check_history(stored["throw-0"], 0, 3000);
}

TEST_CASE("credentials never reach the spool or the output") {
  TempDir spool;
  const std::string user = "spool-user";
  const std::string password = "S3cret-" + unique_name("pw");
  // The server is away, so everything (run, params, metrics) goes to the spool and stays there.
  auto w =
      run_process(LOG_WRITER_PATH,
                  {"--uri", "http://" + user + ":" + password + "@" + dead_url().substr(7),
                   "--spool", spool.path(), "--experiment", unique_name("creds"), "--runs", "1",
                   "--metrics", "100", "--close-ms", "1500"},
                  {"MLFLOW_TRACKING_USERNAME=" + user, "MLFLOW_TRACKING_PASSWORD=" + password});
  INFO(w.out << w.err);
  CHECK(w.exit_code == 3);  // not delivered: kept in the spool
  REQUIRE(files_under(spool.path()) > 0);
  const std::string secrets[] = {password, base64(user + ":" + password)};
  for (const auto& secret : secrets) {
    CHECK(w.out.find(secret) == std::string::npos);
    CHECK(w.err.find(secret) == std::string::npos);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(spool.path())) {
      if (!entry.is_regular_file()) continue;
      INFO(entry.path().string());
      CHECK(read_file(entry.path().string()).find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("past the memory bound records go to the spool, and still arrive once each, in order") {
  TempDir spool;
  auto client = test_client();
  const std::string experiment = unique_name("async-bound");
  AsyncLoggerOptions o = quiet_options(spool.path());
  o.max_queued_records = 700;  // far below what the loop logs between two worker wake-ups
  o.batch_records = 700;       // = the bound: the queue spills before it would wake the worker
  o.flush_interval = std::chrono::milliseconds(500);
  auto logger = AsyncLogger::open(client, o);
  REQUIRE(logger.ok());
  auto family = start_family(**logger, experiment, 2);
  log_pattern(family.children, 10'000);
  for (int i = 0; i < 50; ++i) REQUIRE(family.children[0].set_tag("last", std::to_string(i)).ok());
  for (auto& r : family.children) r.end();
  family.parent->end();
  auto report = (*logger)->close(120s);
  INFO(report.status().message());
  CHECK(report.complete);
  CHECK(report.counters.spooled >= 15'000);  // most of it went through the disk
  CHECK(report.counters.sent == report.counters.queued);
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 3);
  for (int i = 0; i < 2; ++i) check_history(stored["child-" + std::to_string(i)], i, 10'000);
  auto run = client.get_run(stored["child-0"].run_id);
  REQUIRE(run.ok());
  CHECK(find_value(run->data.tags, "last") == std::optional<std::string>("49"));  // order kept
}

// SPDX-License-Identifier: Apache-2.0
// AsyncLogger against a scripted server or offline: close() from several threads, the bounded list
// of rejections, what status() says while records are pending, the spill past the memory bound.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
#include <vector>

#include "client_impl.h"
#include "mlflow/async_logger.h"
#include "scripted_server.h"
#include "spool.h"
#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;
using namespace std::chrono_literals;

namespace {

AsyncLoggerOptions quiet_options(const std::string& spool) {
  AsyncLoggerOptions o;
  o.spool_dir = spool;
  o.replay_orphaned_sessions = false;
  o.log = [](const std::string&) {};
  return o;
}

/// What a process killed while the server was away leaves in `root`: a session for
/// `tracking_uri` (runs in `store`, default the same) holding run "left" (key `run_key`) in
/// experiment 0 with param "refused" (the scripted server refuses it), metric "m" at steps
/// [0, metrics) and its end. Returns its directory.
std::string leave_session(const std::string& root, const std::string& tracking_uri, int metrics,
                          const std::string& run_key = "left-key", const std::string& store = {}) {
  using Kind = detail::LogRecord::Kind;
  std::vector<detail::LogRecord> records;
  auto add = [&](Kind kind, const std::string& key, const std::string& value, double number = 0) {
    detail::LogRecord r;
    r.seq = records.size() + 1;
    r.kind = kind;
    r.run = run_key;
    r.key = key;
    r.value = value;
    r.number = number;
    r.step = kind == Kind::kMetric ? static_cast<std::int64_t>(number) : 0;
    r.timestamp = 1700000000000;
    records.push_back(std::move(r));
  };
  add(Kind::kStartRun, "left", "0");
  add(Kind::kParam, "refused", "x");
  for (int i = 0; i < metrics; ++i) add(Kind::kMetric, "m", "", i);
  add(Kind::kEndRun, "", "FINISHED");
  auto writer = detail::SpoolWriter::create(root, tracking_uri, store);
  REQUIRE(writer.ok());
  REQUIRE((*writer)->append(records).ok());
  std::string dir = (*writer)->dir();
  writer->reset();  // its lock released, as a dead process's is
  return dir;
}

RunOptions run_named(const std::string& name) {
  RunOptions o;
  o.experiment_id = "0";
  o.run_name = name;
  return o;
}

}  // namespace

TEST_CASE("close() from two threads at once, with a flush beside them: each returns, once joined") {
  TempDir spool;
  ScriptedServer server;
  auto logger = AsyncLogger::open(server.client(), quiet_options(spool.path()));
  REQUIRE(logger.ok());
  auto run = (*logger)->start_run(run_named("r"));
  REQUIRE(run.ok());
  for (int i = 0; i < 100; ++i) REQUIRE(run->log_metric("m", i, i).ok());

  std::vector<FlushReport> reports(3);
  std::thread first([&] { reports[0] = (*logger)->close(30s); });
  std::thread second([&] { reports[1] = (*logger)->close(30s); });
  std::thread flusher([&] { reports[2] = (*logger)->flush(30s); });
  first.join();
  second.join();
  flusher.join();
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const FlushReport& r = reports[i];
    INFO(i, ": ", r.status().message());
    CHECK(r.complete);
    // A close reports everything sent; the flush only what was queued before it, and its counters
    // are a snapshot that may already count the run's end a racing close queued after it.
    if (i < 2) {
      CHECK(r.counters.sent == r.counters.queued);
    } else {
      CHECK(r.counters.sent <= r.counters.queued);
    }
  }
  CHECK((*logger)->close(1s).complete);  // and again, later
  CHECK(run->log_metric("m", 1.0).code() == StatusCode::kFailedPrecondition);
  const std::string id = server.key_to_run.at(run->key());
  CHECK(server.rows[id].size() == 100);
  CHECK(server.requests_to("/runs/update") == 1);  // ended once, FINISHED
}

TEST_CASE("rejections are listed up to kMaxListedRejections per report and counted beyond") {
  TempDir dir;
  auto logger = AsyncLogger::open_offline(dir.path(), quiet_options(dir.path()));
  REQUIRE(logger.ok());
  auto run = (*logger)->start_run(run_named("nan"));
  REQUIRE(run.ok());
  const std::size_t listed = FlushReport::kMaxListedRejections;
  const std::size_t refused = listed + 500;
  for (std::size_t i = 0; i < refused; ++i) {
    CHECK(run->log_metric("loss", std::nan(""), static_cast<std::int64_t>(i)).code() ==
          StatusCode::kInvalidArgument);
  }
  auto report = (*logger)->flush(30s);
  CHECK(report.rejected.size() == listed);
  CHECK(report.rejected_unlisted == 500);
  CHECK(report.counters.rejected == refused);
  const Status st = report.status();
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find(std::to_string(refused) + " record(s) rejected") != std::string::npos);
  CHECK(st.message().find("only the first " + std::to_string(listed) + " are listed") !=
        std::string::npos);
  auto next = (*logger)->flush(30s);  // each report lists what came since the previous one
  CHECK(next.rejected.empty());
  CHECK(next.rejected_unlisted == 0);
  CHECK(next.status().ok());
}

TEST_CASE("FlushReport::status names the last delivery error while records are pending") {
  FlushReport r;
  r.pending = 7;
  r.last_error = Status(StatusCode::kUnauthenticated,
                        "HTTP 401 from POST /api/2.0/mlflow/runs/create on h:5000 (authentication "
                        "failed: the server rejected the credentials)",
                        401);
  Status st = r.status();
  CHECK(st.code() == StatusCode::kUnauthenticated);
  CHECK(st.http_status() == 401);
  CHECK(st.message() ==
        "7 record(s) not delivered yet (kept in the spool): HTTP 401 from POST "
        "/api/2.0/mlflow/runs/create on h:5000 (authentication failed: the server rejected the "
        "credentials)");
  r.rejected.push_back({"run1", "param", "lr", "Changing param values is not allowed"});
  st = r.status();
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("1 record(s) rejected") != std::string::npos);
  CHECK(st.message().find("HTTP 401") != std::string::npos);
  r.rejected.clear();
  r.last_error = Status();
  CHECK(r.status().code() == StatusCode::kDeadlineExceeded);  // merely slower than the timeout
  r.complete = true;
  CHECK(r.status().ok());
}

TEST_CASE(
    "past the memory bound the spill thread spools the queue and every record arrives once, in "
    "order") {
  TempDir spool;
  ScriptedServer server;
  AsyncLoggerOptions o = quiet_options(spool.path());
  o.max_queued_records = 50;
  o.batch_records = 50;  // = the bound: the queue spills before it would wake the worker
  auto logger = AsyncLogger::open(server.client(), o);
  REQUIRE(logger.ok());
  auto run = (*logger)->start_run(run_named("bound"));
  REQUIRE(run.ok());
  for (int i = 0; i < 2000; ++i) {
    REQUIRE(run->log_metric("m", i, i).ok());
    if (i % 100 == 0) REQUIRE(run->set_tag("last", std::to_string(i)).ok());
  }
  run->end();
  auto report = (*logger)->close(60s);
  INFO(report.status().message());
  CHECK(report.complete);
  CHECK(report.counters.spooled > 0);
  CHECK(report.counters.sent == report.counters.queued);
  const std::string id = server.key_to_run.at(run->key());
  REQUIRE(server.rows[id].size() == 2000);
  std::vector<char> seen(2000, 0);
  for (const auto& m : server.rows[id]) seen[m["step"].get<std::size_t>()] = 1;
  CHECK(std::count(seen.begin(), seen.end(), 1) == 2000);
  CHECK(server.tags[id]["last"] == "1900");  // last write wins: order kept through the spool
}

TEST_CASE(
    "a logger's start replays what another process left and keeps what the server refuses in a "
    "file") {
  TempDir spool;
  ScriptedServer server;
  const std::string dir = leave_session(spool.path(), "http://mlflow.test", 10);
  const std::string session = dir.substr(dir.rfind('/') + 1);
  const std::string kept = spool.path() + "/rejected-" + session + ".jsonl";
  std::vector<std::string> lines;  // written by the worker, read once it is joined
  AsyncLoggerOptions o = quiet_options(spool.path());
  o.replay_orphaned_sessions = true;
  o.log = [&](const std::string& line) { lines.push_back(line); };
  auto logger = AsyncLogger::open(server.client(), o);
  REQUIRE(logger.ok());
  auto report = (*logger)->close(30s);

  CHECK(report.counters.replayed == 12);  // the start, the metrics, the end
  REQUIRE(report.rejected.size() == 1);
  CHECK(report.rejected[0].key == "refused");
  REQUIRE(report.rejected_files.size() == 1);
  CHECK(report.rejected_files[0].path == kept);
  CHECK(report.rejected_files[0].records == 1);
  const Status st = report.status();
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("1 record(s) rejected") != std::string::npos);
  CHECK(st.message().find(kept) != std::string::npos);
  const bool logged = std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find("refused 1 record(s), kept with its reasons in " + kept) != std::string::npos;
  });
  CHECK(logged);
  // The refused record, whole, with the server's reason; the session is gone.
  const std::string line = read_file(kept);
  CHECK(line.find("Changing param values") != std::string::npos);
  CHECK(line.find("\"session\":\"" + session + "\"") != std::string::npos);
  CHECK(line.find("\"key\":\"refused\"") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir));
  CHECK(server.rows[server.key_to_run.at("left-key")].size() == 10);
  CHECK((*logger)->close(1s).rejected_files.empty());  // reported once
}

TEST_CASE("a logger's start replays the sessions of its store, whatever their server's address") {
  TempDir spool;
  ScriptedServer server;
  const std::string db = "sqlite:////data/project/mlflow.db";
  // Local mode: the crashed process's server had another port; the database is the same.
  const std::string same_db = leave_session(spool.path(), "http://127.0.0.1:40001", 5, "k-db", db);
  // Another database's server once had that port: its runs do not live here.
  const std::string other_db = leave_session(spool.path(), "http://mlflow.test", 5, "k-other",
                                             "sqlite:////data/other/mlflow.db");
  // Written before sessions recorded their store: matched by the tracking URI, as then.
  const std::string old = leave_session(spool.path(), "http://mlflow.test", 5, "k-old");
  write_file(
      old + "/session.json",
      R"({"format":1,"tracking_uri":"http://mlflow.test","created_ms":5,"pid":42,"host":"h"})");

  AsyncLoggerOptions o = quiet_options(spool.path());
  o.replay_orphaned_sessions = true;
  // What connect() gives in local mode: a client of the server's address, its runs in the database.
  auto logger = AsyncLogger::open(detail::ClientAccess::with_store(server.client(), db), o);
  REQUIRE(logger.ok());
  auto report = (*logger)->close(30s);
  CHECK(report.counters.replayed == 2 * 7);
  CHECK(server.rows[server.key_to_run.at("k-db")].size() == 5);
  CHECK(server.rows[server.key_to_run.at("k-old")].size() == 5);
  CHECK(server.key_to_run.count("k-other") == 0);
  CHECK_FALSE(std::filesystem::exists(same_db));
  CHECK_FALSE(std::filesystem::exists(old));
  CHECK(std::filesystem::exists(other_db));
}

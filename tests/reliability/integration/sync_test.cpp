// SPDX-License-Identifier: Apache-2.0
// `mlflowctl sync` against real servers: a crashed online session belongs to its own server
// (refused elsewhere unless --force), and what a server refuses is kept in a rejected file, never
// dropped.
#include <chrono>
#include <doctest/doctest.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "mlflow/async_logger.h"
#include "reliability_support.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kMetrics = 300;

/// Entries directly under `dir`: session directories and rejected files.
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// What a crashed online logger leaves: run "online" was created on `server` (its id is returned),
/// then the server went away, so its metrics and its end, and all of run "late" (started while the
/// server was away), are only in the spool.
std::string leave_online_session(OwnServer& server, const std::string& spool,
                                 const std::string& experiment) {
  AsyncLoggerOptions o;
  o.spool_dir = spool;
  o.probe_interval = 200ms;
  o.retry.max_retries = 0;
  o.log = [](const std::string&) {};
  auto logger = AsyncLogger::open(server.client(), o);
  REQUIRE(logger.ok());
  RunOptions ro;
  ro.experiment_name = experiment;
  ro.run_name = "online";
  auto online = (*logger)->start_run(ro);
  REQUIRE(online.ok());
  REQUIRE(online->log_param("p", "1").ok());
  auto id = online->wait_for_id(30s);
  REQUIRE(id.ok());
  REQUIRE((*logger)->flush(30s).complete);

  server.stop();
  ro.run_name = "late";
  auto late = (*logger)->start_run(ro);
  REQUIRE(late.ok());
  for (int j = 0; j < kMetrics; ++j) {
    REQUIRE(online->log_metric("m", j, j).ok());
    REQUIRE(late->log_metric("m", kMetrics + j, j).ok());
  }
  online->end();
  late->end();
  auto report = (*logger)->close(3s);
  REQUIRE_FALSE(report.complete);  // left in the spool, as a crash would leave it
  REQUIRE(entries(spool).size() == 1);
  return *id;
}

/// `url` with user:password@ in it.
std::string with_credentials(const std::string& url, const std::string& password) {
  return "http://sync-user:" + password + "@" + url.substr(std::string("http://").size());
}

/// `url` with 127.0.0.1 written as localhost: another address of the same server.
std::string as_localhost(const std::string& url) {
  const std::string ip = "127.0.0.1";
  std::string out = url;
  out.replace(out.find(ip), ip.size(), "localhost");
  return out;
}

ProcessResult sync(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"sync"};
  all.insert(all.end(), args.begin(), args.end());
  return run_process(MLFLOWCTL_PATH, all, {"MLFLOW_HTTP_REQUEST_MAX_RETRIES=1"});
}

}  // namespace

TEST_CASE("mlflowctl sync refuses a crashed online session into another server and keeps it") {
  TempDir dir;
  const std::string spool = dir.path() + "/spool";
  const std::string experiment = unique_name("sync-foreign");
  OwnServer a;
  const std::string online_id = leave_online_session(a, spool, experiment);
  const std::string session = entries(spool).front();

  // Into the fixture server: its ids would be NOT_FOUND there. Nothing is sent, nothing removed.
  const std::string password = "Pw-" + unique_name("secret");
  auto wrong = sync({spool, "--to", with_credentials(server_url(), password)});
  INFO(wrong.out << wrong.err);
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.err.find("mlflowctl: error: sync " + spool) != std::string::npos);
  CHECK(wrong.err.find("hold runs of " + a.url() + ", not of " + server_url()) !=
        std::string::npos);
  CHECK(wrong.err.find("--force") != std::string::npos);
  CHECK(wrong.err.find(session) != std::string::npos);
  CHECK(wrong.out.find("1 session(s) refused") != std::string::npos);
  CHECK(wrong.out.find(password) == std::string::npos);
  CHECK(wrong.err.find(password) == std::string::npos);
  CHECK(entries(spool) == std::vector<std::string>{session});
  auto fixture = test_client();
  CHECK(fixture.get_experiment_by_name(experiment).status().code() == StatusCode::kNotFound);

  // Its own server under another name (the run ids are known there): delivered, then removed.
  a.start();
  auto right = sync({spool, "--to", as_localhost(a.url())});
  INFO(right.out << right.err);
  REQUIRE(right.exit_code == 0);
  CHECK(right.out.find("synced 1 session(s)") != std::string::npos);
  CHECK(entries(spool).empty());
  auto client = a.client();
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 2);
  CHECK(stored["online"].run_id == online_id);
  CHECK(stored["online"].params.at("p") == "1");
  CHECK(stored["online"].status == "FINISHED");
  check_history(stored["online"], 0, kMetrics);
  CHECK(stored["late"].status == "FINISHED");
  check_history(stored["late"], 1, kMetrics);
}

TEST_CASE("mlflowctl sync --force sends it anyway and keeps what the server refuses in a file") {
  TempDir dir;
  const std::string spool = dir.path() + "/spool";
  const std::string experiment = unique_name("sync-force");
  std::string online_id, session;
  {
    OwnServer a;
    online_id = leave_online_session(a, spool, experiment);
    session = entries(spool).front();
  }  // server A is gone for good

  auto forced = sync({spool, "--to", server_url(), "--force"});
  INFO(forced.out << forced.err);
  CHECK(forced.exit_code == 1);  // records were refused
  const std::string kept = spool + "/rejected-" + session + ".jsonl";
  CHECK(forced.err.find("kept " + std::to_string(kMetrics + 1) +
                        " rejected record(s) with their reasons in " + kept) != std::string::npos);
  CHECK(entries(spool) == std::vector<std::string>{"rejected-" + session + ".jsonl"});

  // Run "late" had no id anywhere: it was created here, complete. Run "online" is in the file.
  auto client = test_client();
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 1);
  CHECK(stored["late"].status == "FINISHED");
  check_history(stored["late"], 1, kMetrics);

  std::istringstream lines(read_file(kept));
  std::set<std::int64_t> steps;
  int ends = 0, lines_read = 0;
  for (std::string line; std::getline(lines, line); ++lines_read) {
    const json j = json::parse(line);
    INFO(line);
    CHECK(j.at("reason").get<std::string>().find(online_id) != std::string::npos);  // NOT_FOUND
    CHECK(j.at("server") == server_url());
    CHECK(j.at("session") == session);
    CHECK(j.at("run_id") == online_id);
    const json& r = j.at("record");
    if (r.at("k") == "metric") {
      CHECK(r.at("key") == "m");
      CHECK(r.value("n", 0.0) == static_cast<double>(r.value("st", 0)));
      steps.insert(r.value("st", std::int64_t{0}));
    } else {
      CHECK(r.at("k") == "end");
      CHECK(r.at("v") == "FINISHED");
      ++ends;
    }
  }
  CHECK(lines_read == kMetrics + 1);
  CHECK(steps.size() == static_cast<std::size_t>(kMetrics));
  CHECK(ends == 1);

  // Nothing is sent twice: the session is gone, the file stays as it was.
  const std::string before = read_file(kept);
  auto again = sync({spool, "--to", server_url()});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("synced 0 session(s), 0 records") != std::string::npos);
  CHECK(read_file(kept) == before);
  check_history(stored_runs(client, experiment)["late"], 1, kMetrics);
}

TEST_CASE(
    "mlflowctl sync keeps the records a server refuses of an offline session, delivers the rest") {
  TempDir dir;
  const std::string offline = dir.path() + "/offline";
  const std::string experiment = unique_name("sync-partly");
  {
    auto logger = AsyncLogger::open_uri("offline:" + offline);
    REQUIRE(logger.ok());
    RunOptions ro;
    ro.experiment_id = "987654321";  // no such experiment: the server refuses the run
    ro.run_name = "refused";
    auto refused = (*logger)->start_run(ro);
    REQUIRE(refused.ok());
    ro.experiment_id.clear();
    ro.experiment_name = experiment;
    ro.run_name = "kept";
    auto kept = (*logger)->start_run(ro);
    REQUIRE(kept.ok());
    for (int j = 0; j < kMetrics; ++j) {
      REQUIRE(refused->log_metric("m", j, j).ok());
      REQUIRE(kept->log_metric("m", j, j).ok());
    }
    refused->end();
    kept->end();
    REQUIRE((*logger)->close(30s).complete);
  }
  REQUIRE(entries(offline).size() == 1);
  const std::string session = entries(offline).front();

  auto synced = sync({offline, "--to", server_url()});
  INFO(synced.out << synced.err);
  CHECK(synced.exit_code == 1);
  CHECK(synced.out.find("synced 1 session(s)") != std::string::npos);
  CHECK(synced.err.find("987654321") != std::string::npos);  // the server's reason, shown
  const std::string kept_file = offline + "/rejected-" + session + ".jsonl";
  CHECK(synced.err.find("mlflowctl: error: ") != std::string::npos);
  CHECK(synced.err.find(kept_file) != std::string::npos);
  CHECK(entries(offline) == std::vector<std::string>{"rejected-" + session + ".jsonl"});

  // Every record of the refused run (start, system tags, metrics, end), each with its reason;
  // none of the delivered run.
  std::istringstream lines(read_file(kept_file));
  int metrics = 0, starts = 0, lines_read = 0;
  for (std::string line; std::getline(lines, line); ++lines_read) {
    const json j = json::parse(line);
    INFO(line);
    CHECK_FALSE(j.at("reason").get<std::string>().empty());
    CHECK_FALSE(j.contains("run_id"));  // it was never created
    const json& r = j.at("record");
    metrics += r.at("k") == "metric";
    if (r.at("k") == "start") {
      ++starts;
      CHECK(r.at("key") == "refused");
    }
  }
  CHECK(metrics == kMetrics);
  CHECK(starts == 1);
  CHECK(lines_read > kMetrics + 2);
  auto client = test_client();
  auto stored = stored_runs(client, experiment);
  REQUIRE(stored.size() == 1);
  CHECK(stored["kept"].status == "FINISHED");
  check_history(stored["kept"], 0, kMetrics);
}

TEST_CASE(
    "mlflowctl sync of an offline session into a deleted experiment keeps it all in the rejected "
    "file") {
  TempDir dir;
  const std::string offline = dir.path() + "/offline";
  const std::string experiment = unique_name("sync-deleted");
  auto client = test_client();
  auto experiment_id = client.create_experiment(experiment);
  REQUIRE(experiment_id.ok());
  REQUIRE(client.delete_experiment(*experiment_id).ok());
  {
    auto logger = AsyncLogger::open_uri("offline:" + offline);
    REQUIRE(logger.ok());
    RunOptions ro;
    ro.experiment_name = experiment;
    ro.run_name = "into-deleted";
    auto run = (*logger)->start_run(ro);
    REQUIRE(run.ok());
    for (int j = 0; j < kMetrics; ++j) REQUIRE(run->log_metric("m", j, j).ok());
    run->end();
    REQUIRE((*logger)->close(30s).complete);
  }
  REQUIRE(entries(offline).size() == 1);
  const std::string session = entries(offline).front();

  // Refused, not "the server is away": the session is settled, its records kept with the reason.
  auto synced = sync({offline, "--to", server_url()});
  INFO(synced.out << synced.err);
  CHECK(synced.exit_code == 1);
  CHECK(synced.out.find("synced 1 session(s)") != std::string::npos);
  const std::string kept_file = offline + "/rejected-" + session + ".jsonl";
  CHECK(synced.err.find(kept_file) != std::string::npos);
  CHECK(synced.err.find("experiment '" + experiment + "'") != std::string::npos);
  CHECK(entries(offline) == std::vector<std::string>{"rejected-" + session + ".jsonl"});
  std::istringstream lines(read_file(kept_file));
  int metrics = 0, lines_read = 0;
  for (std::string line; std::getline(lines, line); ++lines_read) {
    const json j = json::parse(line);
    INFO(line);
    CHECK(j.at("reason").get<std::string>().find("experiment '" + experiment + "' (id " +
                                                 *experiment_id + ") is deleted") !=
          std::string::npos);
    metrics += j.at("record").at("k") == "metric";
  }
  CHECK(metrics == kMetrics);
  CHECK(lines_read > kMetrics + 1);  // the start, the system tags, the end too
  SearchOptions all;
  auto runs = client.search_runs({*experiment_id}, all, ViewType::kAll);
  REQUIRE(runs.ok());
  CHECK(runs->items.empty());
}

// SPDX-License-Identifier: Apache-2.0
// sync_spool with a fake server: which sessions are refused (their runs live elsewhere), --force,
// refusals acknowledged with their window and kept in rejected-<session>.jsonl, and URL matching.
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mlflow/spool_sync.h"
#include "spool.h"
#include "spool_records.h"
#include "support/test_support.h"
#include "url.h"

using mlflow::HttpRequest;
using mlflow::HttpResponse;
using mlflow::MlflowClient;
using mlflow::StatusCode;
using mlflow::StatusOr;
using mlflow::testing::FakeClock;
using mlflow::testing::FakeTransport;
using mlflow::testing::metric;
using mlflow::testing::start_run;
using mlflow::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr const char* kServerA = "http://a.example:5000";
constexpr const char* kRunOnA = "0123456789abcdef0123456789abcdef";

/// What a crashed logger of server A leaves: run "rkey" created on A as kRunOnA, two of its metrics
/// not delivered. Returns the session directory.
std::string online_session(const std::string& root) {
  auto w = mlflow::detail::SpoolWriter::create(root, kServerA);
  REQUIRE(w.ok());
  REQUIRE((*w)->mark_run("rkey", kRunOnA).ok());
  REQUIRE((*w)->append({metric(1, 1, "rkey"), metric(2, 2, "rkey")}).ok());
  return (*w)->dir();
}

/// A client of `url` whose server answers every request with `answer`; records them.
struct FakeServer {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  MlflowClient client;

  FakeServer(const std::string& url,
             std::function<StatusOr<HttpResponse>(const HttpRequest&)> answer)
      : client(make(url)) {
    transport->set_handler(std::move(answer));
  }
  MlflowClient make(const std::string& url) {
    mlflow::ClientOptions o;
    o.tracking_uri = url;
    o.retry.max_retries = 0;
    auto c = MlflowClient::make(o, {transport, std::make_shared<FakeClock>(), [] { return 0.0; }});
    REQUIRE(c.ok());
    return *c;
  }
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const auto& r : transport->requests()) {
      const auto api = r.url.find("/api/");
      out.push_back(r.method + " " + r.url.substr(api, r.url.find('?') - api));
    }
    return out;
  }
};

HttpResponse not_found() {
  return {404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run not found"})", {}};
}

bool is(const HttpRequest& r, const std::string& endpoint) {
  return r.url.find("/api/2.0/mlflow/" + endpoint) != std::string::npos;
}

/// The answers that create run "bid" for a start record: no run with its key yet, then created.
std::optional<HttpResponse> creates_run_bid(const HttpRequest& r) {
  if (is(r, "runs/search")) return HttpResponse{200, "{}", {}};
  if (is(r, "runs/create")) {
    return HttpResponse{
        200, R"({"run":{"info":{"run_id":"bid","experiment_id":"1"},"data":{}}})", {}};
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("sync: a session whose runs have ids on another server is refused and left untouched") {
  TempDir root;
  const std::string dir = online_session(root.path());
  const std::string progress_before = mlflow::testing::read_file(dir + "/progress.jsonl");
  FakeServer b("http://b.example:5000",
               [](const HttpRequest&) -> StatusOr<HttpResponse> { return not_found(); });
  auto report = mlflow::sync_spool(root.path(), b.client);
  REQUIRE_MESSAGE(report.ok(), report.status().to_string());
  REQUIRE(report->refused.size() == 1);
  CHECK(report->refused[0].session == dir);
  CHECK(report->refused[0].server == kServerA);
  CHECK(report->sessions_synced == 0);
  CHECK(report->records == 0);
  // One question (does B know the run?) and nothing sent.
  CHECK(b.paths() == std::vector<std::string>{"GET /api/2.0/mlflow/runs/get"});
  CHECK(b.transport->requests().at(0).url.find(kRunOnA) != std::string::npos);
  CHECK(mlflow::testing::read_file(dir + "/progress.jsonl") == progress_before);
}

TEST_CASE("sync: another address of the same server (it knows the run ids) is not refused") {
  TempDir root;
  const std::string dir = online_session(root.path());
  FakeServer alias("http://A.EXAMPLE.proxy:8080",
                   [](const HttpRequest& r) -> StatusOr<HttpResponse> {
                     if (is(r, "runs/get"))
                       return HttpResponse{200, R"({"run":{"info":{"run_id":"x"},"data":{}}})", {}};
                     if (is(r, "runs/log-batch")) return HttpResponse{200, "{}", {}};
                     return not_found();
                   });
  auto report = mlflow::sync_spool(root.path(), alias.client);
  REQUIRE_MESSAGE(report.ok(), report.status().to_string());
  CHECK(report->refused.empty());
  CHECK(report->sessions_synced == 1);
  CHECK(report->records == 2);
  CHECK(report->rejected_files.empty());
  CHECK_FALSE(fs::exists(dir));
  CHECK(fs::is_empty(root.path()));
}

TEST_CASE("sync: with force, what the server refuses is kept in a file and the rest delivered") {
  TempDir root;
  const std::string dir = online_session(root.path());
  // A run the same logger started while the server was away: it has no id anywhere yet.
  auto w = mlflow::detail::SpoolWriter::create(root.path(), kServerA);
  REQUIRE(w.ok());
  REQUIRE((*w)->append({start_run(1, "rlate"), metric(2, 2, "rlate")}).ok());
  w->reset();

  FakeServer b("http://b.example:5000", [](const HttpRequest& r) -> StatusOr<HttpResponse> {
    if (auto created = creates_run_bid(r)) return *created;
    if (is(r, "runs/log-batch") && r.body.find("bid") != std::string::npos) {
      return HttpResponse{200, "{}", {}};
    }
    return not_found();  // everything of kRunOnA
  });
  mlflow::SyncOptions options;
  options.force = true;
  auto report = mlflow::sync_spool(root.path(), b.client, options);
  REQUIRE_MESSAGE(report.ok(), report.status().to_string());
  CHECK(report->refused.empty());
  CHECK(report->sessions_synced == 2);
  CHECK(report->records == 2);  // the late run's start and metric
  CHECK(report->rejected.size() == 2);
  REQUIRE(report->rejected_files.size() == 1);
  const auto& kept = report->rejected_files[0];
  CHECK(kept.records == 2);
  CHECK(kept.path == root.path() + "/rejected-" + dir.substr(dir.rfind('/') + 1) + ".jsonl");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root.path())) names.push_back(e.path().filename());
  CHECK(names == std::vector<std::string>{"rejected-" + dir.substr(dir.rfind('/') + 1) + ".jsonl"});

  const std::string text = mlflow::testing::read_file(kept.path);
  std::vector<nlohmann::json> lines;
  for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(nlohmann::json::parse(text.substr(at, nl - at)));
  }
  REQUIRE(lines.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(lines[i]["reason"].get<std::string>().find("Run not found") != std::string::npos);
    CHECK(lines[i]["server"] == "http://b.example:5000");
    CHECK(lines[i]["run_id"] == kRunOnA);
    CHECK(lines[i]["record"]["k"] == "metric");
    CHECK(lines[i]["record"]["r"] == "rkey");
    CHECK(lines[i]["record"]["st"] == i + 1);
  }
}

TEST_CASE("sync: refusals recorded before a crash are written to the file on the next sync") {
  TempDir root;
  const std::string dir = online_session(root.path());
  {
    auto s = mlflow::detail::SpoolSession::open(dir);
    REQUIRE(s.ok());
    REQUIRE((*s)->mark_acked(2, {{kRunOnA, "metric", "loss", "refused (test)"}}).ok());
  }  // the crash: acknowledged, file not written yet
  FakeServer a(kServerA, [](const HttpRequest&) -> StatusOr<HttpResponse> { return not_found(); });
  auto report = mlflow::sync_spool(root.path(), a.client);
  REQUIRE_MESSAGE(report.ok(), report.status().to_string());
  CHECK(a.transport->requests().empty());  // its own server: no question; nothing left to send
  CHECK(report->sessions_synced == 1);
  CHECK(report->rejected.empty());
  REQUIRE(report->rejected_files.size() == 1);
  CHECK(report->rejected_files[0].records == 2);  // both metrics of the run, one reason
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("sync: an offline session goes anywhere, and records where its runs were created") {
  TempDir root;
  auto w = mlflow::detail::SpoolWriter::create(root.path(), "offline:");
  REQUIRE(w.ok());
  const std::string dir = (*w)->dir();
  REQUIRE((*w)->append({start_run(1, "roff"), metric(2, 2, "roff")}).ok());
  w->reset();
  // The server goes away after creating the run: the session now belongs to it.
  FakeServer b("http://b.example:5000", [](const HttpRequest& r) -> StatusOr<HttpResponse> {
    if (auto created = creates_run_bid(r)) return *created;
    return mlflow::Status(StatusCode::kUnavailable, "Couldn't connect to server");
  });
  auto cut = mlflow::sync_spool(root.path(), b.client);
  CHECK(cut.status().code() == StatusCode::kUnavailable);
  {
    auto s = mlflow::detail::SpoolSession::open(dir, /*lock=*/false);
    REQUIRE(s.ok());
    CHECK((*s)->progress().server == "http://b.example:5000");
    CHECK((*s)->progress().runs.at("roff") == "bid");
  }
  // Now it is refused by a server that does not know run "bid".
  FakeServer c("http://c.example:5000",
               [](const HttpRequest&) -> StatusOr<HttpResponse> { return not_found(); });
  auto elsewhere = mlflow::sync_spool(root.path(), c.client);
  REQUIRE(elsewhere.ok());
  REQUIRE(elsewhere->refused.size() == 1);
  CHECK(elsewhere->refused[0].server == "http://b.example:5000");
}

TEST_CASE("url: same_server compares scheme, host, port and path, not credentials or query") {
  using mlflow::detail::same_server;
  CHECK(same_server("http://h:5000", "http://h:5000/"));
  CHECK(same_server("http://H.Example:80/mlflow", "http://user:pw@h.example/mlflow/?x=1"));
  CHECK(same_server("https://h", "https://h:443"));
  CHECK_FALSE(same_server("http://h:5000", "https://h:5000"));
  CHECK_FALSE(same_server("http://h:5000", "http://h:5001"));
  CHECK_FALSE(same_server("http://h:5000/a", "http://h:5000/b"));
  CHECK_FALSE(same_server("http://127.0.0.1:5000", "http://localhost:5000"));  // only the address
  CHECK_FALSE(same_server("offline:", "http://h:5000"));
}

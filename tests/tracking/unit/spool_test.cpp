// SPDX-License-Identifier: Apache-2.0
// The durable spool: record lines, segments merged by seq, progress, torn and corrupt lines, the
// session lock, cleanup, compaction and file modes.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "spool.h"
#include "spool_records.h"
#include "support/test_support.h"

using mlflow::StatusCode;
using mlflow::detail::LogRecord;
using mlflow::detail::SpoolSession;
using mlflow::detail::SpoolWriter;
using mlflow::testing::file_mode;
using mlflow::testing::metric;
using mlflow::testing::TempDir;
namespace d = mlflow::detail;
namespace fs = std::filesystem;

namespace {

std::uint64_t bits(double v) {
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

void check_same(const LogRecord& a, const LogRecord& b) {
  CHECK(a.kind == b.kind);
  CHECK(a.seq == b.seq);
  CHECK(a.run == b.run);
  CHECK(a.key == b.key);
  CHECK(a.value == b.value);
  CHECK(bits(a.number) == bits(b.number));
  CHECK(a.step == b.step);
  CHECK(a.timestamp == b.timestamp);
  CHECK(a.parent == b.parent);
}

LogRecord round_trip(const LogRecord& r) {
  auto back = d::record_from_json_line(d::record_to_json_line(r));
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  return *back;
}

std::unique_ptr<SpoolWriter> new_writer(const std::string& root) {
  auto w = SpoolWriter::create(root, "http://127.0.0.1:5000");
  REQUIRE_MESSAGE(w.ok(), w.status().to_string());
  return std::move(*w);
}

std::unique_ptr<SpoolSession> open_session(const std::string& dir, bool lock = true) {
  auto s = SpoolSession::open(dir, lock);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  return std::move(*s);
}

// Every unacked record's seq, in the order for_each_unacked gives them.
std::vector<std::uint64_t> unacked_seqs(const SpoolSession& session) {
  std::vector<std::uint64_t> seqs;
  auto st = session.for_each_unacked([&](const LogRecord& r) {
    seqs.push_back(r.seq);
    return mlflow::Status();
  });
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  return seqs;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (auto s = first; s <= last; ++s) out.push_back(s);
  return out;
}

// A session directory written by hand: session.json and the given segment files' contents.
std::string hand_made_session(const std::string& root,
                              const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string dir = root + "/20260101T000000.000Z-1-00000000";
  mlflow::testing::write_file(
      dir + "/session.json",
      R"({"format":1,"tracking_uri":"offline:x","created_ms":5,"pid":42,"host":"h"})");
  for (const auto& [name, content] : files) mlflow::testing::write_file(dir + "/" + name, content);
  return dir;
}

std::string lines(const std::vector<LogRecord>& records) {
  std::string out;
  for (const auto& r : records) out += d::record_to_json_line(r) + "\n";
  return out;
}

std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("seg-", 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

mlflow::Status ignore(const LogRecord&) { return mlflow::Status(); }

}  // namespace

TEST_CASE("spool: every record kind round-trips through a JSON line") {
  LogRecord start;
  start.kind = LogRecord::Kind::kStartRun;
  start.seq = 1;
  start.run = "local-1";
  start.key = "my run";
  start.value = "12";
  start.timestamp = 1700000000123;
  start.parent = "local-0";
  LogRecord param;
  param.kind = LogRecord::Kind::kParam;
  param.seq = 2;
  param.run = "abc123";
  param.key = "lr";
  param.value = "0.001";
  LogRecord tag;
  tag.kind = LogRecord::Kind::kTag;
  tag.seq = 3;
  tag.run = "abc123";
  tag.key = "note";
  tag.value = "quote \" backslash \\ newline \n tab \t unicode \xC3\xA9\xE2\x82\xAC ctrl \x01";
  LogRecord end;
  end.kind = LogRecord::Kind::kEndRun;
  end.seq = std::numeric_limits<std::uint64_t>::max();
  end.run = "abc123";
  end.value = "FINISHED";
  end.timestamp = 1700000009999;
  LogRecord m = metric(4, -2.5);
  m.step = std::numeric_limits<std::int64_t>::min();
  m.timestamp = -1;
  for (const LogRecord& r : {start, param, tag, end, m, LogRecord{}}) {
    CAPTURE(d::record_to_json_line(r));
    check_same(round_trip(r), r);
    CHECK(d::record_to_json_line(r).find('\n') == std::string::npos);
  }
}

TEST_CASE("spool: doubles round-trip bit for bit") {
  const double values[] = {0.1,
                           1e-300,
                           -0.0,
                           0.0,
                           DBL_MAX,
                           -DBL_MAX,
                           DBL_MIN,
                           std::numeric_limits<double>::denorm_min(),
                           2.2250738585072009e-308,  // the largest subnormal
                           -4.9406564584124654e-324,
                           1.0 / 3.0,
                           std::nextafter(1.0, 2.0),
                           123456789.123456789,
                           9007199254740993.0,
                           1e22,
                           -7.0};
  for (double v : values) {
    CAPTURE(v);
    const LogRecord back = round_trip(metric(1, v));
    CHECK(bits(back.number) == bits(v));
  }
}

TEST_CASE("spool: NaN and infinities become JSON strings and come back") {
  const double values[] = {std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  const char* texts[] = {R"("n":"NaN")", R"("n":"Infinity")", R"("n":"-Infinity")"};
  for (int i = 0; i < 3; ++i) {
    const std::string line = d::record_to_json_line(metric(1, values[i]));
    CAPTURE(line);
    CHECK(line.find(texts[i]) != std::string::npos);
    CHECK_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded());
    const LogRecord back = round_trip(metric(1, values[i]));
    if (std::isnan(values[i])) {
      CHECK(std::isnan(back.number));
    } else {
      CHECK(back.number == values[i]);
    }
  }
}

TEST_CASE("spool: a bad record line names the bad field") {
  struct Case {
    const char* line;
    const char* field;
  };
  const Case cases[] = {{R"({"k":"metric"})", "\"s\""},
                        {R"({"s":-1,"k":"metric"})", "\"s\""},
                        {R"({"s":1,"k":"bogus"})", "\"k\""},
                        {R"({"s":1,"k":"metric","n":"x"})", "\"n\""},
                        {R"({"s":1,"k":"metric","st":"3"})", "\"st\""},
                        {R"({"s":1,"k":"metric","t":1.5})", "\"t\""},
                        {R"({"s":1,"k":"tag","v":7})", "\"v\""},
                        {R"({"s":1,"k":"metric","st":18446744073709551615})", "\"st\""}};
  for (const Case& c : cases) {
    auto r = d::record_from_json_line(c.line);
    CAPTURE(c.line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK(r.status().message().find(c.field) != std::string::npos);
  }
  CHECK(d::record_from_json_line(R"({"s":1,"k":"met)").status().message() == "not valid JSON");
  CHECK(d::record_from_json_line("[1]").status().message() == "not a JSON object");
}

TEST_CASE("spool: appended records are read back in seq order after reopening") {
  TempDir tmp;
  std::string dir;
  {
    auto w = new_writer(tmp.path() + "/spool");
    dir = w->dir();
    REQUIRE(w->append({metric(1), metric(2)}).ok());
    REQUIRE(w->append({metric(5), metric(6)}, /*new_segment=*/true).ok());  // a spill ahead
    // 3 is below the current segment's 6: the writer starts another segment by itself.
    REQUIRE(w->append({metric(3), metric(4)}).ok());
    REQUIRE(w->append({metric(7, 0.25)}).ok());
    CHECK(w->has_unacked());
    CHECK(segment_files(dir) ==
          std::vector<std::string>{"seg-000001.jsonl", "seg-000002.jsonl", "seg-000003.jsonl"});
  }
  REQUIRE(fs::exists(dir));  // unacked: kept for a replay
  auto s = open_session(dir);
  CHECK(s->info().tracking_uri == "http://127.0.0.1:5000");
  CHECK(s->info().pid == static_cast<long>(::getpid()));
  CHECK(s->info().created_ms > 0);
  CHECK(s->progress().acked == 0);
  CHECK(unacked_seqs(*s) == range(1, 7));
  std::vector<LogRecord> got;
  REQUIRE(s->for_each_unacked([&](const LogRecord& r) {
             got.push_back(r);
             return mlflow::Status();
           }).ok());
  REQUIRE(got.size() == 7);
  check_same(got[6], metric(7, 0.25));
}

TEST_CASE("spool: two interleaving segments are merged by seq") {
  TempDir tmp;
  const std::string dir = hand_made_session(
      tmp.path(), {{"seg-000001.jsonl", lines({metric(1), metric(2), metric(5), metric(6)})},
                   {"seg-000002.jsonl", lines({metric(3), metric(4), metric(7)})}});
  auto s = open_session(dir);
  CHECK(s->info().host == "h");
  CHECK(s->info().pid == 42);
  CHECK(unacked_seqs(*s) == range(1, 7));

  // The visitor's failure stops the pass and is returned as it is.
  int calls = 0;
  auto st = s->for_each_unacked([&](const LogRecord& r) {
    ++calls;
    return r.seq == 3 ? mlflow::Status(StatusCode::kUnavailable, "server down") : mlflow::Status();
  });
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK(calls == 3);
}

TEST_CASE("spool: a record spooled twice is delivered once") {
  TempDir tmp;
  const std::string dir = hand_made_session(
      tmp.path(), {{"seg-000001.jsonl", lines({metric(1), metric(2), metric(3)})},
                   {"seg-000002.jsonl", lines({metric(2), metric(3), metric(4)})}});
  CHECK(unacked_seqs(*open_session(dir)) == range(1, 4));
}

TEST_CASE("spool: acked records are skipped and progress is durable") {
  TempDir tmp;
  std::string dir;
  {
    auto w = new_writer(tmp.path());
    dir = w->dir();
    REQUIRE(w->append({metric(1), metric(2), metric(3), metric(4), metric(5)}).ok());
    REQUIRE(w->mark_acked(3).ok());
    REQUIRE(w->mark_acked(2).ok());  // lower than what is acked: changes nothing
    REQUIRE(w->mark_run("local-1", "abc").ok());
    REQUIRE(w->mark_run("local-2", "def").ok());
    CHECK(w->has_unacked());
  }
  {
    auto s = open_session(dir);
    CHECK(s->progress().acked == 3);
    CHECK(s->progress().runs ==
          std::map<std::string, std::string>{{"local-1", "abc"}, {"local-2", "def"}});
    CHECK(unacked_seqs(*s) == std::vector<std::uint64_t>{4, 5});
    // The replay's own progress, taken while it visits.
    REQUIRE(s->for_each_unacked([&](const LogRecord& r) {
               if (r.seq == 4) REQUIRE(s->mark_run("local-3", "ghi").ok());
               return s->mark_acked(r.seq);
             }).ok());
    CHECK(s->progress().acked == 5);
  }
  {
    auto s = open_session(dir);
    CHECK(s->progress().acked == 5);
    CHECK(s->progress().runs.at("local-3") == "ghi");
    CHECK(unacked_seqs(*s).empty());
    REQUIRE(s->remove().ok());
  }
  CHECK_FALSE(fs::exists(dir));
  CHECK(fs::is_empty(tmp.path()));  // nothing hidden left behind either
}

TEST_CASE("spool: an incomplete last line is ignored") {
  TempDir tmp;
  const std::string good = lines({metric(1), metric(2)});
  SUBCASE("no newline") {
    const std::string dir =
        hand_made_session(tmp.path(), {{"seg-000001.jsonl", good + R"({"s":3,"k":"met)"}});
    CHECK(unacked_seqs(*open_session(dir)) == range(1, 2));
  }
  SUBCASE("a newline but not JSON (e.g. zeros from a lost page)") {
    const std::string dir =
        hand_made_session(tmp.path(), {{"seg-000001.jsonl", good + std::string(5, '\0') + "\n"}});
    CHECK(unacked_seqs(*open_session(dir)) == range(1, 2));
  }
  SUBCASE("in progress.jsonl, which is then repaired before the next append") {
    const std::string dir = hand_made_session(
        tmp.path(), {{"seg-000001.jsonl", lines({metric(1), metric(2), metric(3)})},
                     {"progress.jsonl", R"({"acked":1})"
                                        "\n"
                                        R"({"run":"local-1","id":"x"})"
                                        "\n"
                                        R"({"ack)"}});
    {
      auto s = open_session(dir);
      CHECK(s->progress().acked == 1);
      CHECK(s->progress().runs.size() == 1);
      CHECK(unacked_seqs(*s) == range(2, 3));
      REQUIRE(s->mark_acked(2).ok());
    }
    CHECK(mlflow::testing::read_file(dir + "/progress.jsonl") ==
          "{\"acked\":1}\n{\"run\":\"local-1\",\"id\":\"x\"}\n{\"acked\":2}\n");
    auto s = open_session(dir);
    CHECK(s->progress().acked == 2);
    CHECK(unacked_seqs(*s) == std::vector<std::uint64_t>{3});
  }
}

TEST_CASE("spool: a corrupt line before the last is data loss naming file and line") {
  TempDir tmp;
  SUBCASE("not JSON") {
    const std::string dir = hand_made_session(
        tmp.path(), {{"seg-000001.jsonl", lines({metric(1)}) + "garbage\n" + lines({metric(3)})}});
    auto st = open_session(dir)->for_each_unacked(ignore);
    CHECK(st.code() == StatusCode::kDataLoss);
    CHECK(st.message() == dir + "/seg-000001.jsonl:2: not valid JSON");
  }
  SUBCASE("a bad field") {
    const std::string dir = hand_made_session(
        tmp.path(), {{"seg-000001.jsonl", "{\"s\":1,\"k\":\"nope\"}\n" + lines({metric(3)})}});
    auto st = open_session(dir)->for_each_unacked(ignore);
    CHECK(st.code() == StatusCode::kDataLoss);
    CHECK(st.message().find("seg-000001.jsonl:1: field \"k\"") != std::string::npos);
  }
  SUBCASE("seq not increasing within a segment") {
    const std::string dir = hand_made_session(
        tmp.path(), {{"seg-000001.jsonl", lines({metric(1)})},
                     {"seg-000002.jsonl", lines({metric(2), metric(4), metric(4), metric(6)})}});
    std::vector<std::uint64_t> seen;
    auto st = open_session(dir)->for_each_unacked([&](const LogRecord& r) {
      seen.push_back(r.seq);
      return mlflow::Status();
    });
    CHECK(st.code() == StatusCode::kDataLoss);
    CHECK(st.message().find("seg-000002.jsonl:3: seq 4 does not follow") != std::string::npos);
  }
  SUBCASE("in progress.jsonl: open fails") {
    const std::string dir = hand_made_session(
        tmp.path(), {{"progress.jsonl", "{\"acked\":1}\n{\"acked\":\"2\"}\n{\"acked\":3}\n"}});
    auto s = SpoolSession::open(dir);
    CHECK(s.status().code() == StatusCode::kDataLoss);
    CHECK(s.status().message().find(dir + "/progress.jsonl:2: ") != std::string::npos);
  }
}

TEST_CASE("spool: session.json problems are named") {
  TempDir tmp;
  auto missing = SpoolSession::open(tmp.path());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find(tmp.path() + "/session.json") != std::string::npos);
  // No lock file is left in a directory that is no session.
  CHECK_FALSE(fs::exists(tmp.path() + "/lock"));

  mlflow::testing::write_file(tmp.path() + "/s/session.json", R"({"format":2})");
  auto future = SpoolSession::open(tmp.path() + "/s");
  CHECK(future.status().code() == StatusCode::kFailedPrecondition);
  CHECK(future.status().message().find("format 2") != std::string::npos);

  mlflow::testing::write_file(tmp.path() + "/t/session.json", "{\"format\":1,");
  CHECK(SpoolSession::open(tmp.path() + "/t").status().code() == StatusCode::kDataLoss);
}

TEST_CASE("spool: the session lock keeps a live writer's session from being replayed") {
  TempDir tmp;
  std::string dir;
  {
    auto w = new_writer(tmp.path());
    dir = w->dir();
    REQUIRE(w->append({metric(1)}).ok());
    auto busy = SpoolSession::open(dir, /*lock=*/true);
    CHECK(busy.status().code() == StatusCode::kUnavailable);
    CHECK(busy.status().message().find(dir) != std::string::npos);
    // Reading without the lock works; writing progress without it does not.
    auto peek = open_session(dir, /*lock=*/false);
    CHECK(unacked_seqs(*peek) == std::vector<std::uint64_t>{1});
    CHECK(peek->mark_acked(1).code() == StatusCode::kFailedPrecondition);
    CHECK(peek->mark_run("k", "v").code() == StatusCode::kFailedPrecondition);
    CHECK(peek->remove().code() == StatusCode::kFailedPrecondition);
  }
  auto first = open_session(dir);  // released with the writer
  CHECK(SpoolSession::open(dir).status().code() == StatusCode::kUnavailable);
  first.reset();
  CHECK(SpoolSession::open(dir).ok());
}

TEST_CASE("spool: the writer removes its session only when nothing is unacked") {
  TempDir tmp;
  const std::string root = tmp.path() + "/spool";
  std::string empty, acked, unacked;
  {
    auto w = new_writer(root);
    empty = w->dir();
    CHECK_FALSE(w->has_unacked());
  }
  {
    auto w = new_writer(root);
    acked = w->dir();
    REQUIRE(w->append({metric(1), metric(2)}).ok());
    REQUIRE(w->append({metric(3)}, true).ok());
    REQUIRE(w->mark_acked(2).ok());
    CHECK(w->has_unacked());
    REQUIRE(w->mark_acked(3).ok());
    CHECK_FALSE(w->has_unacked());
  }
  {
    auto w = new_writer(root);
    unacked = w->dir();
    REQUIRE(w->append({metric(1), metric(2)}).ok());
    REQUIRE(w->mark_acked(1).ok());
  }
  CHECK_FALSE(fs::exists(empty));
  CHECK_FALSE(fs::exists(acked));
  auto sessions = d::list_spool_sessions(root);
  REQUIRE(sessions.ok());
  CHECK(*sessions == std::vector<std::string>{unacked});
  CHECK(unacked_seqs(*open_session(unacked)) == std::vector<std::uint64_t>{2});
}

TEST_CASE("spool: compact deletes fully acked segments only") {
  TempDir tmp;
  auto w = new_writer(tmp.path());
  const std::string dir = w->dir();
  REQUIRE(w->append({metric(1), metric(2)}).ok());
  REQUIRE(w->append({metric(3), metric(4)}, true).ok());
  REQUIRE(w->mark_acked(3).ok());
  REQUIRE(w->compact().ok());
  CHECK(segment_files(dir) == std::vector<std::string>{"seg-000002.jsonl"});
  CHECK(unacked_seqs(*open_session(dir, false)) == std::vector<std::uint64_t>{4});

  REQUIRE(w->append({metric(5)}).ok());  // still the current segment
  CHECK(segment_files(dir) == std::vector<std::string>{"seg-000002.jsonl"});
  REQUIRE(w->mark_run("local-1", "abc").ok());
  REQUIRE(w->mark_acked(5).ok());
  REQUIRE(w->compact().ok());
  CHECK(segment_files(dir).empty());
  // progress.jsonl is rewritten as its summary.
  CHECK(mlflow::testing::read_file(dir + "/progress.jsonl") ==
        "{\"acked\":5}\n{\"run\":\"local-1\",\"id\":\"abc\"}\n");
  // A name is never reused after compaction.
  REQUIRE(w->append({metric(6)}).ok());
  CHECK(segment_files(dir) == std::vector<std::string>{"seg-000003.jsonl"});
  REQUIRE(w->mark_acked(6).ok());
  auto s = open_session(dir, false);
  CHECK(s->progress().acked == 6);
  CHECK(s->progress().runs.at("local-1") == "abc");
}

TEST_CASE("spool: append rejects seqs that do not increase") {
  TempDir tmp;
  auto w = new_writer(tmp.path());
  CHECK(w->append({metric(0)}).code() == StatusCode::kInvalidArgument);
  CHECK(w->append({metric(2), metric(2)}).code() == StatusCode::kInvalidArgument);
  CHECK(w->append({metric(3), metric(1)}).code() == StatusCode::kInvalidArgument);
  CHECK(w->append({}).ok());
  CHECK_FALSE(w->has_unacked());
  CHECK(segment_files(w->dir()).empty());
}

TEST_CASE("spool: listing sessions") {
  TempDir tmp;
  auto none = d::list_spool_sessions(tmp.path() + "/missing");
  REQUIRE(none.ok());
  CHECK(none->empty());

  fs::create_directories(tmp.path() + "/b");
  fs::create_directories(tmp.path() + "/a");
  fs::create_directories(tmp.path() + "/.creating-c");
  mlflow::testing::write_file(tmp.path() + "/file", "x");
  auto listed = d::list_spool_sessions(tmp.path() + "/");
  REQUIRE(listed.ok());
  CHECK(*listed == std::vector<std::string>{tmp.path() + "/a", tmp.path() + "/b"});

  auto not_dir = d::list_spool_sessions(tmp.path() + "/file");
  CHECK_FALSE(not_dir.ok());
  CHECK(not_dir.status().message().find(tmp.path() + "/file") != std::string::npos);
}

TEST_CASE("spool: a root that cannot be created is an invalid argument naming it") {
  TempDir tmp;
  mlflow::testing::write_file(tmp.path() + "/file", "x");
  auto w = SpoolWriter::create(tmp.path() + "/file/spool", "http://h");
  CHECK(w.status().code() == StatusCode::kInvalidArgument);
  CHECK(w.status().message().find(tmp.path() + "/file") != std::string::npos);
}

TEST_CASE("spool: directories are 0700 and files 0600") {
  TempDir tmp;
  const std::string root = tmp.path() + "/cache/spool";
  auto w = new_writer(root);
  REQUIRE(w->append({metric(1)}).ok());
  REQUIRE(w->mark_acked(1).ok());
  CHECK(file_mode(tmp.path() + "/cache") == 0700);
  CHECK(file_mode(root) == 0700);
  CHECK(file_mode(w->dir()) == 0700);
  for (const char* f : {"lock", "session.json", "seg-000001.jsonl", "progress.jsonl"}) {
    CAPTURE(f);
    CHECK(file_mode(w->dir() + "/" + f) == 0600);
  }
}

TEST_CASE("spool: credentials in the tracking URI never reach session.json") {
  TempDir tmp;
  auto w = SpoolWriter::create(tmp.path(), "https://alice:s3cret@mlflow.example.com:8443/x?y=1");
  REQUIRE(w.ok());
  REQUIRE((*w)->append({metric(1)}).ok());
  const std::string json = mlflow::testing::read_file((*w)->dir() + "/session.json");
  CHECK(json.find("s3cret") == std::string::npos);
  CHECK(json.find("alice") == std::string::npos);
  CHECK(open_session((*w)->dir(), false)->info().tracking_uri ==
        "https://mlflow.example.com:8443/x");  // a query may hold a token too
}

TEST_CASE("spool: session.json records where the runs live; a session without it matches by URL") {
  using mlflow::detail::session_in_store;
  TempDir tmp;
  const std::string db = "sqlite:////data/project/mlflow.db";
  // A local-mode logger: its server's port changes with every start, its database does not.
  auto local = SpoolWriter::create(tmp.path() + "/a", "http://127.0.0.1:40001", db);
  REQUIRE(local.ok());
  auto local_session = open_session((*local)->dir(), false);
  const auto& info = local_session->info();
  CHECK(info.store == db);
  CHECK(info.tracking_uri == "http://127.0.0.1:40001");
  CHECK(session_in_store(info, db, "http://127.0.0.1:40777"));
  // Another database's server that got the same port later: not where these runs live.
  CHECK_FALSE(session_in_store(info, "sqlite:////data/other/mlflow.db", "http://127.0.0.1:40001"));
  CHECK_FALSE(session_in_store(info, "http://127.0.0.1:40001", "http://127.0.0.1:40001"));

  // A team server: its address is its store, compared as same_server() does.
  auto remote = SpoolWriter::create(tmp.path() + "/b", "http://u:pw@Mlflow.example:80/");
  REQUIRE(remote.ok());
  auto team_session = open_session((*remote)->dir(), false);
  const auto& team = team_session->info();
  CHECK(team.store == "http://Mlflow.example:80/");
  CHECK(session_in_store(team, "http://mlflow.example", "http://mlflow.example"));

  // Written before sessions recorded their store: readable, matched by the tracking URI.
  const std::string old = hand_made_session(tmp.path() + "/c", {});
  mlflow::testing::write_file(
      old + "/session.json",
      R"({"format":1,"tracking_uri":"http://127.0.0.1:5000","created_ms":5,"pid":42,"host":"h"})");
  auto old_session = open_session(old, false);
  const auto& before = old_session->info();
  CHECK(before.store.empty());
  CHECK(session_in_store(before, db, "http://127.0.0.1:5000"));
  CHECK_FALSE(session_in_store(before, "http://127.0.0.1:5001", "http://127.0.0.1:5001"));
}

TEST_CASE("spool: concurrent appends that each start a segment get distinct segments") {
  TempDir tmp;
  auto w = new_writer(tmp.path());
  constexpr int kGroups = 25;
  auto producer = [&](std::uint64_t offset) {
    for (int i = 0; i < kGroups; ++i) {
      const std::uint64_t base = 4 * static_cast<std::uint64_t>(i) + offset;
      REQUIRE(w->append({metric(base + 1), metric(base + 2)}, /*new_segment=*/true).ok());
    }
  };
  std::thread a(producer, 0);
  std::thread b(producer, 2);
  a.join();
  b.join();
  CHECK(segment_files(w->dir()).size() == 2 * kGroups);
  CHECK(unacked_seqs(*open_session(w->dir(), false)) == range(1, 4 * kGroups));
}

TEST_CASE("spool: a merge of many segments reads them all") {
  TempDir tmp;
  constexpr std::uint64_t kSegments = 300;  // more than are kept open at once
  std::vector<std::pair<std::string, std::string>> files;
  for (std::uint64_t i = 0; i < kSegments; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "seg-%06u.jsonl", static_cast<unsigned>(i + 1));
    files.emplace_back(
        name, lines({metric(i + 1), metric(i + 1 + kSegments), metric(i + 1 + 2 * kSegments)}));
  }
  const std::string dir = hand_made_session(tmp.path(), files);
  CHECK(unacked_seqs(*open_session(dir)) == range(1, 3 * kSegments));
}

TEST_CASE("spool: the default root follows XDG_CACHE_HOME, HOME, never MLFLOW_CPP_SPOOL_DIR") {
  const char* names[] = {"MLFLOW_CPP_SPOOL_DIR", "XDG_CACHE_HOME", "HOME"};
  std::vector<std::pair<std::string, bool>> saved;
  for (const char* n : names) {
    const char* v = std::getenv(n);
    saved.emplace_back(v != nullptr ? v : "", v != nullptr);
  }
  ::setenv("MLFLOW_CPP_SPOOL_DIR", "/data/spool", 1);
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  ::setenv("HOME", "/home/u", 1);
  CHECK(d::default_spool_root() == "/xdg/mlflow-cpp/spool");  // read at the edge only
  ::setenv("XDG_CACHE_HOME", "relative", 1);                  // invalid per the XDG spec: ignored
  CHECK(d::default_spool_root() == "/home/u/.cache/mlflow-cpp/spool");
  ::unsetenv("XDG_CACHE_HOME");
  CHECK(d::default_spool_root() == "/home/u/.cache/mlflow-cpp/spool");
  for (std::size_t i = 0; i < saved.size(); ++i) {
    if (saved[i].second) {
      ::setenv(names[i], saved[i].first.c_str(), 1);
    } else {
      ::unsetenv(names[i]);
    }
  }
}

TEST_CASE("spool: refusals are acknowledged with their window, and the sync's server is kept") {
  TempDir tmp;
  std::string dir;
  {
    auto w = new_writer(tmp.path());
    dir = w->dir();
    REQUIRE(w->append({metric(1), metric(2), metric(3), metric(4)}).ok());
  }
  {
    auto s = open_session(dir);
    REQUIRE(s->mark_server("http://bob:pw@b.example:5000/?token=t").ok());
    REQUIRE(s->mark_acked(1).ok());
    REQUIRE(s->mark_acked(3, {{"run-1", "metric", "loss", "refused (test)"}}).ok());
    REQUIRE(s->mark_acked(3, {{"run-1", "metric", "loss", "again"}}).ok());  // not above: nothing
    CHECK(s->progress().rejected.size() == 1);
  }
  // A torn last write (an ack with refusals cut short) counts as never made.
  {
    std::ofstream out(dir + "/progress.jsonl", std::ios::app);
    out << R"({"acked":4,"after":3,"rejected":[{"run":"run-1","kind":"met)";
  }
  auto s = open_session(dir);
  const auto& p = s->progress();
  CHECK(p.server == "http://b.example:5000/");  // no credentials, no query
  CHECK(p.acked == 3);
  REQUIRE(p.rejected.size() == 1);
  CHECK(p.rejected[0].after == 1);
  CHECK(p.rejected[0].through == 3);
  REQUIRE(p.rejected[0].records.size() == 1);
  CHECK(p.rejected[0].records[0].run == "run-1");
  CHECK(p.rejected[0].records[0].kind == "metric");
  CHECK(p.rejected[0].records[0].key == "loss");
  CHECK(p.rejected[0].records[0].reason == "refused (test)");
  CHECK(unacked_seqs(*s) == std::vector<std::uint64_t>{4});
  std::vector<std::uint64_t> since;
  REQUIRE(s->for_each_since(1, [&](const LogRecord& r) {
             since.push_back(r.seq);
             return mlflow::Status();
           }).ok());
  CHECK(since == range(2, 4));
  const std::string text = mlflow::testing::read_file(dir + "/progress.jsonl");
  CHECK(text.find("pw") == std::string::npos);
  CHECK(text.find("token") == std::string::npos);
}

TEST_CASE("spool: a malformed refusal list before the last line is data loss naming the line") {
  TempDir tmp;
  const std::string dir = hand_made_session(tmp.path(), {{"seg-000001.jsonl", lines({metric(1)})}});
  mlflow::testing::write_file(
      dir + "/progress.jsonl",
      "{\"acked\":1,\"after\":0,\"rejected\":[{\"run\":1}]}\n{\"acked\":1}\n");
  auto s = SpoolSession::open(dir);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kDataLoss);
  CHECK(s.status().message().find("progress.jsonl:1") != std::string::npos);
  CHECK(s.status().message().find("rejected") != std::string::npos);
}

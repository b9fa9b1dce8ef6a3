// SPDX-License-Identifier: Apache-2.0
// The spool's formats: record lines, progress lines and session.json; where spools live.
#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "spool_internal.h"

namespace mlflow::detail {

using nlohmann::json;
using nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

// Invalid UTF-8 cannot be written as JSON: it is replaced (U+FFFD) rather than failing the spool.
// The logger validates keys and values at the call, so this only guards against a missed case.
template <typename J>
std::string dump_line(const J& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* kind_name(LogRecord::Kind kind) {
  switch (kind) {
    case LogRecord::Kind::kStartRun:
      return "start";
    case LogRecord::Kind::kMetric:
      return "metric";
    case LogRecord::Kind::kParam:
      return "param";
    case LogRecord::Kind::kTag:
      return "tag";
    case LogRecord::Kind::kEndRun:
      return "end";
  }
  return "?";
}

bool kind_from_name(const std::string& name, LogRecord::Kind* kind) {
  for (auto k : {LogRecord::Kind::kStartRun, LogRecord::Kind::kMetric, LogRecord::Kind::kParam,
                 LogRecord::Kind::kTag, LogRecord::Kind::kEndRun}) {
    if (name == kind_name(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

Status bad_field(const char* field, const std::string& what) {
  return Status(StatusCode::kDataLoss, std::string("field \"") + field + "\" " + what);
}

// Optional fields: absent leaves *out as it is.
Status get_string(const json& j, const char* field, std::string* out) {
  const auto it = j.find(field);
  if (it == j.end()) return Status();
  if (!it->is_string()) return bad_field(field, "is not a string");
  *out = it->get<std::string>();
  return Status();
}

Status get_int64(const json& j, const char* field, std::int64_t* out) {
  const auto it = j.find(field);
  if (it == j.end()) return Status();
  if (it->is_number_unsigned()) {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (it->get<std::uint64_t>() > kMax) {
      return bad_field(field, "is out of the int64 range");
    }
  } else if (!it->is_number_integer()) {
    return bad_field(field, "is not an integer");
  }
  *out = it->get<std::int64_t>();
  return Status();
}

Status get_double(const json& j, const char* field, double* out) {
  const auto it = j.find(field);
  if (it == j.end()) return Status();
  if (it->is_number()) {
    *out = it->get<double>();
    return Status();
  }
  // Never written by the logger (it rejects non-finite values) but representable all the same.
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s == "NaN") {
      *out = std::numeric_limits<double>::quiet_NaN();
      return Status();
    }
    if (s == "Infinity" || s == "-Infinity") {
      *out = (s[0] == '-' ? -1 : 1) * std::numeric_limits<double>::infinity();
      return Status();
    }
  }
  return bad_field(field, R"(is not a number, "NaN", "Infinity" or "-Infinity")");
}

// The "after" and "rejected" fields of an acked line; an empty string when they are well formed,
// else what is wrong.
std::string parse_rejected(const json& j, RejectedWindow* window) {
  const auto after = j.find("after");
  if (after == j.end() || !after->is_number_unsigned()) {
    return "\"after\" is missing or not an unsigned integer";
  }
  window->after = after->get<std::uint64_t>();
  const auto& list = j.at("rejected");
  if (!list.is_array()) return "\"rejected\" is not an array";
  for (const auto& item : list) {
    RejectedRecord r;
    if (!item.is_object() || !get_string(item, "run", &r.run).ok() ||
        !get_string(item, "kind", &r.kind).ok() || !get_string(item, "key", &r.key).ok() ||
        !get_string(item, "reason", &r.reason).ok()) {
      return "a \"rejected\" entry is not an object of strings run, kind, key, reason";
    }
    window->records.push_back(std::move(r));
  }
  return "";
}

}  // namespace

std::string record_to_json_line(const LogRecord& record) {
  ordered_json j;
  j["s"] = record.seq;
  j["k"] = kind_name(record.kind);
  if (!record.run.empty()) j["r"] = record.run;
  if (!record.key.empty()) j["key"] = record.key;
  if (!record.value.empty()) j["v"] = record.value;
  const double n = record.number;
  if (std::isnan(n)) {
    j["n"] = "NaN";
  } else if (std::isinf(n)) {
    j["n"] = n > 0 ? "Infinity" : "-Infinity";
  } else if (n != 0 || std::signbit(n)) {  // -0.0 is kept: the round trip is bit for bit
    j["n"] = n;  // nlohmann writes the shortest text that reads back to the same double
  }
  if (record.step != 0) j["st"] = record.step;
  if (record.timestamp != 0) j["t"] = record.timestamp;
  if (!record.parent.empty()) j["p"] = record.parent;
  if (!record.experiment_name.empty()) j["e"] = record.experiment_name;
  return dump_line(j);
}

StatusOr<LogRecord> record_from_json_line(const std::string& line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(StatusCode::kDataLoss, "not valid JSON");
  if (!j.is_object()) return Status(StatusCode::kDataLoss, "not a JSON object");
  LogRecord r;
  const auto seq = j.find("s");
  if (seq == j.end()) return bad_field("s", "(seq) is missing");
  if (!seq->is_number_unsigned()) return bad_field("s", "(seq) is not an unsigned integer");
  r.seq = seq->get<std::uint64_t>();
  const auto kind = j.find("k");
  if (kind == j.end()) return bad_field("k", "(kind) is missing");
  if (!kind->is_string() || !kind_from_name(kind->get<std::string>(), &r.kind)) {
    return bad_field("k", "(kind) is not one of start, metric, param, tag, end");
  }
  MLFLOW_CPP_RETURN_IF_ERROR(get_string(j, "r", &r.run));
  MLFLOW_CPP_RETURN_IF_ERROR(get_string(j, "key", &r.key));
  MLFLOW_CPP_RETURN_IF_ERROR(get_string(j, "v", &r.value));
  MLFLOW_CPP_RETURN_IF_ERROR(get_double(j, "n", &r.number));
  MLFLOW_CPP_RETURN_IF_ERROR(get_int64(j, "st", &r.step));
  MLFLOW_CPP_RETURN_IF_ERROR(get_int64(j, "t", &r.timestamp));
  MLFLOW_CPP_RETURN_IF_ERROR(get_string(j, "p", &r.parent));
  MLFLOW_CPP_RETURN_IF_ERROR(get_string(j, "e", &r.experiment_name));
  return r;
}

StatusOr<std::vector<std::string>> list_spool_sessions(const std::string& root) {
  std::string base = root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator it(base, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  if (ec) return Status(StatusCode::kInternal, "cannot list " + base + ": " + ec.message());
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return Status(StatusCode::kInternal, "cannot list " + base + ": " + ec.message());
    const std::string name = it->path().filename().string();
    // Hidden names are sessions being created or removed.
    std::error_code type_ec;
    if (name.empty() || name[0] == '.' || !it->is_directory(type_ec)) continue;
    std::string path = base;
    path += '/';
    path += name;
    out.push_back(std::move(path));
  }
  if (ec) return Status(StatusCode::kInternal, "cannot list " + base + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

std::string default_spool_root() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  if (std::string cache = env("XDG_CACHE_HOME"); !cache.empty() && cache[0] == '/') {
    return cache + "/mlflow-cpp/spool";
  }
  std::string home = env("HOME");
  if (home.empty()) {  // e.g. a service without HOME: the password database knows it
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_dir != nullptr) {
      home = found->pw_dir;
    }
  }
  if (home.empty()) return "/tmp/mlflow-cpp-" + std::to_string(::getuid()) + "/spool";
  return home + "/.cache/mlflow-cpp/spool";
}

namespace spool {

std::string acked_line(std::uint64_t seq) { return "{\"acked\":" + std::to_string(seq) + "}"; }

std::string run_line(const std::string& key, const std::string& server_run_id) {
  ordered_json j;
  j["run"] = key;
  j["id"] = server_run_id;
  return dump_line(j);
}

std::string server_line(const std::string& server_uri) {
  ordered_json j;
  j["server"] = server_uri;
  return dump_line(j);
}

std::string acked_line(const RejectedWindow& window) {
  if (window.records.empty()) return acked_line(window.through);
  ordered_json j;
  j["acked"] = window.through;
  j["after"] = window.after;
  ordered_json& list = j["rejected"] = ordered_json::array();
  for (const auto& r : window.records) {
    list.push_back({{"run", r.run}, {"kind", r.kind}, {"key", r.key}, {"reason", r.reason}});
  }
  return dump_line(j);
}

std::string progress_lines(const SpoolProgress& progress) {
  std::string out;
  if (!progress.server.empty()) out += server_line(progress.server) + "\n";
  for (const auto& window : progress.rejected) out += acked_line(window) + "\n";
  out += acked_line(progress.acked) + "\n";
  for (const auto& [key, id] : progress.runs) out += run_line(key, id) + "\n";
  return out;
}

std::string rejected_file_line(const LogRecord& record, const std::string& reason,
                               const std::string& run_id, const std::string& server,
                               const std::string& session) {
  ordered_json j;
  j["reason"] = reason;
  j["server"] = server;
  j["session"] = session;
  if (!run_id.empty()) j["run_id"] = run_id;
  j["record"] = ordered_json::parse(record_to_json_line(record));
  return dump_line(j);
}

Status read_progress(const std::string& path, SpoolProgress* out, std::uint64_t* valid_end) {
  *out = SpoolProgress{};
  *valid_end = 0;
  LineReader reader;
  if (Status st = reader.open(path); !st.ok()) {
    return st.code() == StatusCode::kNotFound ? Status() : st;
  }
  std::string line;
  for (;;) {
    StatusOr<bool> more = reader.next(&line);
    if (!more.ok()) return more.status();
    if (!*more) return Status();
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    std::string what;
    if (!j.is_object()) {
      what = "not a JSON object";
    } else if (const auto acked = j.find("acked"); acked != j.end()) {
      if (acked->is_number_unsigned()) {
        RejectedWindow window;
        window.through = acked->get<std::uint64_t>();
        if (j.contains("rejected")) what = parse_rejected(j, &window);
        if (what.empty()) {
          out->acked = std::max(out->acked, window.through);
          if (!window.records.empty()) out->rejected.push_back(std::move(window));
        }
      } else {
        what = "\"acked\" is not an unsigned integer";
      }
    } else if (const auto run = j.find("run"), id = j.find("id");
               run != j.end() && id != j.end() && run->is_string() && id->is_string()) {
      out->runs[run->get<std::string>()] = id->get<std::string>();
    } else if (const auto server = j.find("server"); server != j.end() && server->is_string()) {
      out->server = server->get<std::string>();
    } else {
      what = R"(neither {"acked":SEQ}, {"run":KEY,"id":RUN_ID} nor {"server":URI})";
    }
    if (!what.empty()) {
      StatusOr<bool> last = reader.at_end();
      if (!last.ok()) return last.status();
      if (*last) return Status();  // an interrupted last write
      return reader.corrupt(what);
    }
    *valid_end = reader.offset();
  }
}

std::string session_json(const SpoolSessionInfo& info) {
  ordered_json j;
  j["format"] = kFormat;
  j["tracking_uri"] = info.tracking_uri;
  if (!info.store.empty()) j["store"] = info.store;
  j["created_ms"] = info.created_ms;
  j["pid"] = info.pid;
  j["host"] = info.host;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Status read_session_json(const std::string& dir, SpoolSessionInfo* info) {
  const std::string path = dir + "/" + kSessionFile;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return Status(StatusCode::kNotFound,
                    path + " is missing: " + dir + " is not a spool session");
    }
    return errno_status(errno, "cannot open", path);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(errno, "cannot read", path);
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (1u << 20)) {
      return Status(StatusCode::kDataLoss, path + ": larger than 1 MiB");
    }
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status(StatusCode::kDataLoss, path + ": not a JSON object");
  const auto format = j.find("format");
  if (format == j.end() || !format->is_number_integer()) {
    return Status(StatusCode::kDataLoss, path + ": \"format\" is missing or not an integer");
  }
  if (format->get<std::int64_t>() != kFormat) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("{}: format {} is not supported (this build reads format {})", path,
                              format->dump(), kFormat));
  }
  SpoolSessionInfo out;
  out.dir = dir;
  std::int64_t pid = 0;
  Status st = get_string(j, "tracking_uri", &out.tracking_uri);
  if (st.ok()) st = get_string(j, "store", &out.store);
  if (st.ok()) st = get_int64(j, "created_ms", &out.created_ms);
  if (st.ok()) st = get_int64(j, "pid", &pid);
  if (st.ok()) st = get_string(j, "host", &out.host);
  if (!st.ok()) return Status(StatusCode::kDataLoss, path + ": " + st.message());
  out.pid = static_cast<long>(pid);
  *info = std::move(out);
  return Status();
}

}  // namespace spool

}  // namespace mlflow::detail

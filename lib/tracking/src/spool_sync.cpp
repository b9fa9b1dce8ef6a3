// SPDX-License-Identifier: Apache-2.0
// sync_spool: each session of a spool directory checked against the target server, replayed through
// replay_session, what the server refused kept in a file, then the session removed.
#include "mlflow/spool_sync.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "delivery.h"
#include "replay.h"
#include "replay_progress.h"
#include "spool.h"
#include "spool_internal.h"
#include "url.h"

namespace mlflow {

using detail::LogRecord;
using detail::SpoolSession;

namespace {

bool is_http(const std::string& uri) {
  return uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0;
}

std::string base_name(const std::string& dir) { return dir.substr(dir.find_last_of('/') + 1); }

/// Where the run ids a session holds live: the server a sync recorded, else an online logger's own
/// server. Empty for an offline session (and for one an earlier build synced without saying where).
std::string owner_of(const SpoolSession& s) {
  if (!s.progress().server.empty()) return s.progress().server;
  return is_http(s.info().tracking_uri) ? s.info().tracking_uri : std::string();
}

/// A server run id that the session's unsent records depend on, or "" when they name none: the
/// runs its loggers or an earlier replay created, or (online sessions only) a run resumed or used
/// as parent by its server id rather than by a key a start record of the session introduced.
StatusOr<std::string> some_server_run_id(const SpoolSession& s) {
  if (!s.progress().runs.empty()) return s.progress().runs.begin()->second;
  if (!is_http(s.info().tracking_uri)) return std::string();  // an offline logger knows no ids
  std::set<std::string> keys;
  std::string found;
  const Status st = s.for_each_unacked([&](const LogRecord& r) {
    if (r.kind == LogRecord::Kind::kStartRun) {
      keys.insert(r.run);
      if (!r.parent.empty() && keys.count(r.parent) == 0) found = r.parent;
    } else if (!r.run.empty() && keys.count(r.run) == 0) {
      found = r.run;
    }
    // Stops the scan at the first id: one is enough to ask the target about.
    return found.empty() ? Status() : Status(StatusCode::kCancelled, "found");
  });
  if (!found.empty()) return found;
  if (!st.ok()) return st;
  return std::string();
}

/// Whether `s` must not go to `client`'s server: its runs have ids, and the target is neither
/// their server's address nor a server that knows them (another name or a proxy of the same one).
/// *owner: the server they live on, as recorded (may be empty: not recorded).
StatusOr<bool> belongs_elsewhere(const SpoolSession& s, MlflowClient& client, std::string* owner) {
  *owner = owner_of(s);
  if (!owner->empty() && detail::same_server(*owner, client.tracking_uri())) return false;
  auto id = some_server_run_id(s);
  if (!id.ok()) return id.status();
  if (id->empty()) return false;
  auto run = client.get_run(*id);
  if (run.ok()) return false;
  if (detail::is_server_away(run.status())) return run.status();
  return true;
}

/// The records `s`'s progress lists as refused, found again by window and (kind, key, run), written
/// with their reasons to ROOT/rejected-<session>.jsonl through a temporary file and a rename, so
/// the file is either complete or absent. A refusal names (run, kind, key), not the record: when
/// the server refused only some of several such records of one window, all of them are kept (a
/// metric or param it took, sent again, adds nothing: it keeps one copy of an identical row).
StatusOr<RejectedFile> keep_rejected(const SpoolSession& s, const std::string& root,
                                     const std::string& server) {
  const auto& windows = s.progress().rejected;
  const auto& runs = s.progress().runs;
  const std::string session = base_name(s.info().dir);
  RejectedFile out;
  out.path = root + "/rejected-" + session + ".jsonl";
  const std::string tmp = out.path + ".tmp";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
    return detail::spool::errno_status(errno, "cannot remove", tmp);
  }
  detail::spool::AppendFile file;
  MLFLOW_CPP_RETURN_IF_ERROR(file.open(tmp, /*create_new=*/true));

  using Match = std::tuple<std::string, std::string, std::string>;  // kind, key, run
  std::map<Match, std::string> reasons;  // of the current window
  std::set<std::string> keys;  // runs the session introduced (by key): never created unless mapped
  std::size_t w = 0;
  bool entered = false;
  std::string buffer;
  bool done = false;
  // From the start (the segments are read from their start anyway), to learn every key.
  Status st = s.for_each_since(0, [&](const LogRecord& r) -> Status {
    if (r.kind == LogRecord::Kind::kStartRun) keys.insert(r.run);
    while (w < windows.size() && r.seq > windows[w].through) {
      ++w;
      entered = false;
    }
    if (w == windows.size()) {
      done = true;
      return Status(StatusCode::kCancelled, "past the last window");
    }
    if (r.seq <= windows[w].after) return Status();
    if (!entered) {
      reasons.clear();
      for (const auto& rej : windows[w].records) {
        reasons.emplace(Match{rej.kind, rej.key, rej.run}, rej.reason);
      }
      entered = true;
    }
    const char* kind = detail::rejected_kind(r.kind);
    // Delivery names the run by its server id once it has one, else by the record's key; a
    // record names it by key, or by id when its logger knew the id (or resumed the run).
    const auto mapped = runs.find(r.run);
    const std::string run_id = mapped != runs.end() ? mapped->second
                               : keys.count(r.run) != 0 ? std::string()
                                                        : r.run;
    auto it = reasons.find(Match{kind, r.key, r.run});
    if (it == reasons.end() && !run_id.empty()) it = reasons.find(Match{kind, r.key, run_id});
    if (it == reasons.end()) return Status();
    buffer += detail::spool::rejected_file_line(r, it->second, run_id, server, session) + "\n";
    ++out.records;
    if (buffer.size() < (1u << 20)) return Status();
    Status written = file.append(buffer);
    buffer.clear();
    return written;
  });
  if (!st.ok() && !done) return st;
  if (!buffer.empty()) MLFLOW_CPP_RETURN_IF_ERROR(file.append(buffer));
  file.close();
  if (::rename(tmp.c_str(), out.path.c_str()) != 0) {
    return detail::spool::errno_status(errno, "cannot rename " + tmp + " to", out.path);
  }
  MLFLOW_CPP_RETURN_IF_ERROR(detail::spool::sync_dir(root));
  return out;
}

}  // namespace

StatusOr<SyncReport> sync_spool(const std::string& path, MlflowClient client,
                                const std::function<void(std::uint64_t)>& on_progress) {
  SyncOptions options;
  options.on_progress = on_progress;
  return sync_spool(path, std::move(client), options);
}

StatusOr<SyncReport> sync_spool(const std::string& path, MlflowClient client,
                                const SyncOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status(StatusCode::kNotFound, "spool directory '" + path + "' does not exist");
  }
  std::string root = path;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  auto dirs = detail::list_spool_sessions(root);
  if (!dirs.ok()) return dirs.status();
  RetryOptions once = client.options().retry;
  once.max_retries = 0;
  detail::Delivery delivery(client, client.derive(once));
  const std::string target = client.tracking_uri();  // never holds credentials

  SyncReport report;
  std::vector<RejectedRecord> refused_in_window;  // by the server, since the last acknowledgement
  detail::DeliveryEvents events;
  events.delivered = [&](std::uint64_t n) {
    report.records += n;
    if (options.on_progress) options.on_progress(report.records);
  };
  events.rejected = [&](RejectedRecord r) { refused_in_window.push_back(std::move(r)); };
  events.run_created = [&](const std::string&, const std::string& run_id) {
    report.run_ids.push_back(run_id);
    return Status();
  };
  for (const auto& dir : *dirs) {
    auto session = SpoolSession::open(dir, /*lock=*/true);
    if (!session.ok()) {
      if (session.status().code() == StatusCode::kUnavailable) {
        ++report.sessions_skipped;
        continue;
      }
      return session.status();
    }
    SpoolSession& s = **session;
    std::string owner;
    auto elsewhere = belongs_elsewhere(s, client, &owner);
    if (!elsewhere.ok()) return elsewhere.status();
    if (*elsewhere && !options.force) {
      report.refused.push_back({dir, detail::redact_url(owner)});
      continue;
    }
    // The runs this replay creates live on the target: say so before the first one exists.
    if (!detail::same_server(owner, target)) MLFLOW_CPP_RETURN_IF_ERROR(s.mark_server(target));

    detail::ReplayProgress progress = detail::progress_into(s);
    // A window's refusals are recorded in the same durable line as its acknowledgement: a crash
    // keeps both (the file is written from them) or neither (the window is sent again).
    progress.acked = [&](std::uint64_t seq) -> Status {
      MLFLOW_CPP_RETURN_IF_ERROR(s.mark_acked(seq, refused_in_window));
      for (auto& r : refused_in_window) report.rejected.push_back(std::move(r));
      refused_in_window.clear();
      return Status();
    };
    refused_in_window.clear();
    MLFLOW_CPP_RETURN_IF_ERROR(detail::replay_session(s, delivery, progress, events));
    if (!s.progress().rejected.empty()) {
      auto kept = keep_rejected(s, root, target);
      if (!kept.ok()) return kept.status();
      report.rejected_files.push_back(std::move(*kept));
    }
    MLFLOW_CPP_RETURN_IF_ERROR(s.remove());
    ++report.sessions_synced;
  }
  return report;
}

}  // namespace mlflow

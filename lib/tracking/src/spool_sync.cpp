// SPDX-License-Identifier: Apache-2.0
// sync_spool: each session of a spool directory checked against the target server, then replayed,
// what the server refused kept in a file and the session removed (replay_and_remove).
#include "mlflow/spool_sync.h"

#include <sys/stat.h>

#include <optional>
#include <set>
#include <utility>

#include "delivery.h"
#include "replay.h"
#include "spool.h"
#include "url.h"

namespace mlflow {

using detail::LogRecord;
using detail::SpoolSession;

namespace {

bool is_http(const std::string& uri) {
  return uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0;
}

/// Where the run ids a session holds live: the store a sync recorded, else an online logger's own
/// (its database in local mode, whose server's port is long gone). Empty for an offline session
/// (and for one an earlier build synced without saying where).
std::string owner_of(const SpoolSession& s) {
  if (!s.progress().server.empty()) return s.progress().server;
  if (!is_http(s.info().tracking_uri)) return std::string();
  return s.info().store.empty() ? s.info().tracking_uri : s.info().store;
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
  if (!owner->empty() && (detail::same_server(*owner, client.store_uri()) ||
                          detail::same_server(*owner, client.tracking_uri()))) {
    return false;
  }
  auto id = some_server_run_id(s);
  if (!id.ok()) return id.status();
  if (id->empty()) return false;
  auto run = client.get_run(*id);
  if (run.ok()) return false;
  if (detail::is_server_away(run.status())) return run.status();
  return true;
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
  const std::string target_store = client.store_uri();

  SyncReport report;
  detail::DeliveryEvents events;
  events.delivered = [&](std::uint64_t n) {
    report.records += n;
    if (options.on_progress) options.on_progress(report.records);
  };
  events.rejected = [&](RejectedRecord r) { report.rejected.push_back(std::move(r)); };
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
    // The runs this replay creates live in the target's store: say so before the first one exists.
    if (!detail::same_server(owner, target_store)) {
      MLFLOW_CPP_RETURN_IF_ERROR(s.mark_server(target_store));
    }

    std::optional<RejectedFile> kept;
    MLFLOW_CPP_RETURN_IF_ERROR(detail::replay_and_remove(s, delivery, root, target, events, &kept));
    if (kept) report.rejected_files.push_back(std::move(*kept));
    ++report.sessions_synced;
  }
  return report;
}

}  // namespace mlflow

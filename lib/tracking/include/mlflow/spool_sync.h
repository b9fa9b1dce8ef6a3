// SPDX-License-Identifier: Apache-2.0
// Replaying a spool directory (an offline logger's, or what crashed processes left) into a server.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlflow/async_logger.h"
#include "mlflow/client.h"
#include "mlflow/status.h"

namespace mlflow {

/// How sync_spool() replays.
struct SyncOptions {
  /// Also replay sessions whose runs already have ids on another server (see sync_spool). Their
  /// records that name those runs are then refused by this server, and kept in the rejected file.
  bool force = false;
  /// Called with the records delivered so far after every delivered window.
  std::function<void(std::uint64_t records)> on_progress;
};

/// A session left in place because its runs live on another server.
struct RefusedSession {
  std::string session;  ///< the session directory
  std::string server;   ///< where its runs have ids (no credentials); empty when not recorded
};

/// What sync_spool() did.
struct SyncReport {
  int sessions_synced = 0;               ///< replayed completely and removed
  int sessions_skipped = 0;              ///< in use by a running process (their lock is held)
  std::uint64_t records = 0;             ///< delivered
  std::vector<RejectedRecord> rejected;  ///< refused by the server during this call
  /// rejected-SESSION.jsonl files written for sessions removed by this call
  std::vector<RejectedFile> rejected_files;
  std::vector<RefusedSession> refused;  ///< not replayed: their runs live on another server
  std::vector<std::string> run_ids;     ///< runs created by the replay
};

/// Replays every session directory under `path` into `client`'s server, oldest first, then removes
/// each one that was fully delivered. Progress is durable: interrupted (Ctrl-C, a network failure,
/// a crash) and run again, it continues where it stopped, creating no run twice and no metric
/// twice.
///
/// A session whose runs already have ids on another server (an online logger's session, or one
/// partly synced elsewhere) is left untouched and listed in SyncReport::refused, unless
/// `options.force`: its records would be refused here (NOT_FOUND) or split across two servers.
/// "Another server" is a different address and store (MlflowClient::store_uri(): a local-mode
/// database is the same whatever its server's port) that does not know the session's run ids
/// (checked with one get-run), so a second name of the same server, or a proxy in front of it, is
/// not refused.
/// Offline sessions whose runs have no ids yet go anywhere.
///
/// Records the server refuses are never lost: before a session is removed they are written, each
/// with the server's reason, to `PATH/rejected-<session>.jsonl` (atomically; see
/// SyncReport::rejected_files). Records it took are not in that file and are not sent again.
///
/// Errors: kNotFound when `path` does not exist; kDataLoss naming file:line for a corrupt spool;
/// the server's error (kUnavailable, kUnauthenticated, ...) when it cannot be reached; the report
/// so far is lost then, but what was delivered (and refused) is recorded in the spool.
/// Thread-safety: one call per spool directory at a time (sessions are locked; a concurrent call
/// skips them).
StatusOr<SyncReport> sync_spool(const std::string& path, MlflowClient client,
                                const SyncOptions& options = {});

/// As above with only a progress callback (kept for callers of the earlier signature).
StatusOr<SyncReport> sync_spool(const std::string& path, MlflowClient client,
                                const std::function<void(std::uint64_t)>& on_progress);

}  // namespace mlflow

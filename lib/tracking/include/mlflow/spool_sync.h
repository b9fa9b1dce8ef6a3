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

struct SyncReport {
  int sessions_synced = 0;    ///< replayed completely and removed
  int sessions_skipped = 0;   ///< in use by a running process (their lock is held)
  std::uint64_t records = 0;  ///< delivered
  std::vector<RejectedRecord> rejected;
  std::vector<std::string> run_ids;  ///< runs created by the replay
};

/// Replays every session directory under `path` into `client`'s server, oldest first, then removes
/// each one that was fully delivered. Progress is durable: interrupted (Ctrl-C, a network failure, a
/// crash) and run again, it continues where it stopped, creating no run twice and no metric twice.
/// `on_progress(records_so_far)` is called after every delivered window. Errors: kNotFound when
/// `path` does not exist; kDataLoss naming file:line for a corrupt spool; the server's error
/// (kUnavailable, kUnauthenticated, ...) when it cannot be reached; the report so far is lost then,
/// but what was delivered is recorded in the spool.
StatusOr<SyncReport> sync_spool(const std::string& path, MlflowClient client,
                                const std::function<void(std::uint64_t)>& on_progress = {});

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
// sync_spool: every session of a spool directory through replay_session, then removed.
#include "mlflow/spool_sync.h"

#include <sys/stat.h>

#include "delivery.h"
#include "replay.h"
#include "spool.h"

namespace mlflow {

StatusOr<SyncReport> sync_spool(const std::string& path, MlflowClient client,
                                const std::function<void(std::uint64_t)>& on_progress) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status(StatusCode::kNotFound, "spool directory '" + path + "' does not exist");
  }
  auto dirs = detail::list_spool_sessions(path);
  if (!dirs.ok()) return dirs.status();
  RetryOptions once = client.options().retry;
  once.max_retries = 0;
  detail::Delivery delivery(client, client.derive(once));

  SyncReport report;
  detail::DeliveryEvents events;
  events.delivered = [&](std::uint64_t n) {
    report.records += n;
    if (on_progress) on_progress(report.records);
  };
  events.rejected = [&](RejectedRecord r) { report.rejected.push_back(std::move(r)); };
  events.run_created = [&](const std::string&, const std::string& run_id) {
    report.run_ids.push_back(run_id);
    return Status();
  };
  for (const auto& dir : *dirs) {
    auto session = detail::SpoolSession::open(dir, /*lock=*/true);
    if (!session.ok()) {
      if (session.status().code() == StatusCode::kUnavailable) {
        ++report.sessions_skipped;
        continue;
      }
      return session.status();
    }
    detail::SpoolSession& s = **session;
    detail::ReplayProgress progress{
        [&s](std::uint64_t seq) { return s.mark_acked(seq); },
        [&s](const std::string& k, const std::string& id) { return s.mark_run(k, id); }};
    MLFLOW_CPP_RETURN_IF_ERROR(detail::replay_session(s, delivery, progress, events));
    MLFLOW_CPP_RETURN_IF_ERROR(s.remove());
    ++report.sessions_synced;
  }
  return report;
}

}  // namespace mlflow

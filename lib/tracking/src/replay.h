// SPDX-License-Identifier: Apache-2.0
// Replaying a spool session through a Delivery, acknowledging durably as it goes (private).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "delivery.h"
#include "spool.h"

namespace mlflow::detail {

/// Records replayed per delivery window (and per durable acknowledgement).
inline constexpr std::size_t kReplayWindow = 5000;

/// Where replay records its progress: a SpoolWriter (our own live session) or the SpoolSession.
struct ReplayProgress {
  std::function<Status(std::uint64_t seq)> acked;
  std::function<Status(const std::string& key, const std::string& run_id)> run;
};

/// Delivers every unacked record of `session` in seq order, in windows of kReplayWindow; after each
/// delivered window, progress.acked(last seq). Runs created on the way are recorded with
/// progress.run before their window is acknowledged, so an interrupted replay resumes without
/// duplicates. A window cut short is sent again in full (the server keeps one copy of each row), so
/// events.delivered counts each record once: when its window is acknowledged, not when sent.
/// Returns OK when everything was delivered or rejected; an is_server_away() error when the server
/// went away (what was not acknowledged stays in the spool); kDataLoss for a corrupt spool.
Status replay_session(const SpoolSession& session, Delivery& delivery,
                      const ReplayProgress& progress, const DeliveryEvents& events);

/// Replays a session that is not a live logger's own (an offline one, or what a crashed process
/// left) to its end, then removes it: the path both `mlflowctl sync` and a logger's start take.
/// Each window's refusals are recorded in the same durable line as its acknowledgement, and only
/// then passed to events.rejected. Before the session is removed, every record its progress lists
/// as refused (also by an earlier, interrupted replay) is written with its reason to
/// ROOT/rejected-<session>.jsonl, naming `server` (no credentials) as the one that refused it;
/// *kept is then that file, else nullopt. `session` must be opened with its lock.
/// Errors as replay_session's (the session stays, with what was done recorded), or the file's.
Status replay_and_remove(SpoolSession& session, Delivery& delivery, const std::string& root,
                         const std::string& server, const DeliveryEvents& events,
                         std::optional<RejectedFile>* kept);

}  // namespace mlflow::detail

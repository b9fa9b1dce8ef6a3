// SPDX-License-Identifier: Apache-2.0
// Spool replay: windows in seq order, durable acknowledgements, run mappings before acks; what the
// server refused of a replayed session kept in a file before the session is removed.
#include "replay.h"

#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "mlflow/atomic_file.h"
#include "replay_progress.h"
#include "spool_internal.h"

namespace mlflow::detail {

namespace {

std::string base_name(const std::string& dir) { return dir.substr(dir.find_last_of('/') + 1); }

/// The records `s`'s progress lists as refused, found again by window and (kind, key, run), written
/// with their reasons to ROOT/rejected-<session>.jsonl as an AtomicFile, so the file is either
/// complete or absent. A refusal names (run, kind, key), not the record: when
/// the server refused only some of several such records of one window, all of them are kept (a
/// metric or param it took, sent again, adds nothing: it keeps one copy of an identical row).
StatusOr<RejectedFile> keep_rejected(const SpoolSession& s, const std::string& root,
                                     const std::string& server) {
  const auto& windows = s.progress().rejected;
  const auto& runs = s.progress().runs;
  const std::string session = base_name(s.info().dir);
  RejectedFile out;
  out.path = root + "/rejected-" + session + ".jsonl";
  auto file = AtomicFile::create(out.path, kPrivateFileMode);
  if (!file.ok()) return file.status();

  using Match = std::tuple<std::string, std::string, std::string>;  // kind, key, run
  std::map<Match, std::string> reasons;                             // of the current window
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
    const char* kind = rejected_kind(r.kind);
    // Delivery names the run by its server id once it has one, else by the record's key; a
    // record names it by key, or by id when its logger knew the id (or resumed the run).
    const auto mapped = runs.find(r.run);
    const std::string run_id = mapped != runs.end()     ? mapped->second
                               : keys.count(r.run) != 0 ? std::string()
                                                        : r.run;
    auto it = reasons.find(Match{kind, r.key, r.run});
    if (it == reasons.end() && !run_id.empty()) it = reasons.find(Match{kind, r.key, run_id});
    if (it == reasons.end()) return Status();
    buffer += spool::rejected_file_line(r, it->second, run_id, server, session) + "\n";
    ++out.records;
    if (buffer.size() < (1u << 20)) return Status();
    Status written = file->append(buffer);
    buffer.clear();
    return written;
  });
  if (!st.ok() && !done) return st;
  if (!buffer.empty()) MLFLOW_CPP_RETURN_IF_ERROR(file->append(buffer));
  MLFLOW_CPP_RETURN_IF_ERROR(file->commit());
  return out;
}

}  // namespace

Status replay_session(const SpoolSession& session, Delivery& delivery,
                      const ReplayProgress& progress, const DeliveryEvents& events) {
  for (const auto& [key, run_id] : session.progress().runs) delivery.run_ids()[key] = run_id;

  std::uint64_t delivered_in_window = 0;
  DeliveryEvents ev = events;
  ev.run_created = [&](const std::string& key, const std::string& run_id) {
    MLFLOW_CPP_RETURN_IF_ERROR(progress.run(key, run_id));
    return events.run_created ? events.run_created(key, run_id) : Status();
  };
  ev.delivered = [&](std::uint64_t n) { delivered_in_window += n; };
  std::vector<LogRecord> window;
  auto deliver_window = [&]() -> Status {
    if (window.empty()) return Status();
    const std::uint64_t last = window.back().seq;
    delivered_in_window = 0;
    auto result = delivery.deliver(std::move(window), ev);
    window.clear();
    MLFLOW_CPP_RETURN_IF_ERROR(result.status);
    MLFLOW_CPP_RETURN_IF_ERROR(progress.acked(last));
    if (events.delivered) events.delivered(delivered_in_window);
    return Status();
  };
  MLFLOW_CPP_RETURN_IF_ERROR(session.for_each_unacked([&](const LogRecord& r) -> Status {
    window.push_back(r);
    return window.size() >= kReplayWindow ? deliver_window() : Status();
  }));
  return deliver_window();
}

Status replay_and_remove(SpoolSession& session, Delivery& delivery, const std::string& root,
                         const std::string& server, const DeliveryEvents& events,
                         std::optional<RejectedFile>* kept) {
  kept->reset();
  std::vector<RejectedRecord> refused_in_window;  // by the server, since the last acknowledgement
  DeliveryEvents ev = events;
  ev.rejected = [&](RejectedRecord r) { refused_in_window.push_back(std::move(r)); };
  ReplayProgress progress = progress_into(session);
  // A crash keeps both the acknowledgement and the refusals (the file is written from them) or
  // neither (the window is sent again).
  progress.acked = [&](std::uint64_t seq) -> Status {
    MLFLOW_CPP_RETURN_IF_ERROR(session.mark_acked(seq, refused_in_window));
    if (events.rejected) {
      for (auto& r : refused_in_window) events.rejected(std::move(r));
    }
    refused_in_window.clear();
    return Status();
  };
  MLFLOW_CPP_RETURN_IF_ERROR(replay_session(session, delivery, progress, ev));
  if (!session.progress().rejected.empty()) {
    auto file = keep_rejected(session, root, server);
    if (!file.ok()) return file.status();
    *kept = std::move(*file);
  }
  return session.remove();
}

}  // namespace mlflow::detail

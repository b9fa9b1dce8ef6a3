// SPDX-License-Identifier: Apache-2.0
// The durable spool: append-only, fsync'd journals of LogRecords that survive the process
// (private).
//
// Layout: ROOT/<session>/ is one logger's session (a process's logger, or an offline run's writer):
//   lock           flock()ed exclusively by whoever writes or replays the session; a dead owner's
//                  lock is released by the kernel, so "not lockable" means "alive, leave it alone"
//   session.json   {"format":1,"tracking_uri":"<URI without credentials or query, or offline:>",
//                   "store":"<where its runs live: MlflowClient::store_uri(), e.g.
//                   sqlite:////a.db>", "created_ms":..., "pid":..., "host":"..."} ("store" is
//                   absent in sessions written before it was recorded)
//   seg-NNNNNN.jsonl  record segments, one JSON object per line, seq strictly increasing within a
//   file
//                  (different segments may interleave in seq: replay merges them by seq)
//   progress.jsonl what replay has done: {"acked":S} (every record with seq <= S was delivered),
//                  {"run":"<session key>","id":"<server run id>"} (a run the replay created),
//                  {"server":"<URI>"} (the store those ids live in when not the session's own;
//                  written by sync_spool before it replays into another server) and
//                  {"acked":S,"after":A,"rejected":[{"run","kind","key","reason"},...]} (records
//                  with A < seq <= S were delivered, except the listed ones, which the server
//                  refused: sync_spool keeps those in a file before it removes the session)
// A line is only valid when complete (ends with '\n' and parses); an incomplete LAST line of a file
// (a write cut short by SIGKILL or power loss) is ignored. Any other bad line is corruption: an
// error naming file:line. Nothing in the spool holds credentials.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "log_record.h"
#include "mlflow/async_logger.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow::detail {

struct SpoolSessionInfo {
  std::string dir;           ///< ROOT/<session>
  std::string tracking_uri;  ///< as written in session.json
  /// Where its runs live (MlflowClient::store_uri(); "offline:" for an offline session); empty in a
  /// session written before sessions recorded it.
  std::string store;
  TimestampMs created_ms = 0;
  long pid = 0;
  std::string host;
};

/// An acknowledged window (after, through] of seqs and the records of it the server refused.
struct RejectedWindow {
  std::uint64_t after = 0;
  std::uint64_t through = 0;
  std::vector<RejectedRecord> records;
};

/// What a session's progress file says.
struct SpoolProgress {
  std::uint64_t acked = 0;                  ///< 0 = nothing delivered yet (seqs start at 1)
  std::map<std::string, std::string> runs;  ///< session run key -> server run id
  /// The server `runs` (and acked records) went to when not the session's tracking_uri; empty
  /// otherwise. The last {"server":...} line wins.
  std::string server;
  std::vector<RejectedWindow> rejected;  ///< in seq order
};

/// Writer side of one session, owned by one logger. Holds the session lock for its lifetime.
/// Thread-safety: append() and mark_*() may be called from several threads (internally locked);
/// each append() call writes its records as one contiguous group and fsyncs before returning.
class SpoolWriter {
 public:
  /// Creates ROOT (mkdir -p, mode 0700) and a new session directory in it (unique name: time, pid,
  /// random), writes session.json, takes the lock. kInvalidArgument naming the path when ROOT or
  /// the session directory cannot be created (e.g. ROOT not writable); other I/O errors name the
  /// file (kResourceExhausted for a full disk, kInternal and the like otherwise).
  /// `store`: where the logger's runs live (MlflowClient::store_uri()); empty: `tracking_uri`.
  static StatusOr<std::unique_ptr<SpoolWriter>> create(const std::string& root,
                                                       const std::string& tracking_uri,
                                                       const std::string& store = {});
  ~SpoolWriter();  ///< releases the lock; removes the session directory if it holds nothing unacked

  const std::string& dir() const;

  /// Appends records (seq increasing within the call and above every seq this writer appended to
  /// the same segment before) to the writer's current segment, then fdatasync. `new_segment` = true
  /// starts a new segment file first (used for records that jump ahead of records appended later,
  /// e.g. an overflow spill from the producer side). A group whose first seq is not above the
  /// current segment's starts a new segment by itself. kInvalidArgument for seq 0 or seqs not
  /// increasing within the call; I/O errors name the file (kResourceExhausted for a full disk).
  Status append(const std::vector<LogRecord>& records, bool new_segment = false);

  /// Records progress durably (appends to progress.jsonl, fdatasync).
  Status mark_acked(std::uint64_t seq);
  Status mark_run(const std::string& key, const std::string& server_run_id);

  /// True when some appended record has seq > the last mark_acked().
  bool has_unacked() const;
  /// Deletes segment files whose records are all acked (keeps the session); called after a replay.
  Status compact();

  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

 private:
  struct State;
  explicit SpoolWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Reader/replayer side of any session directory (a crashed process's, an offline one, or our own).
/// Thread-safety: one thread at a time (the visitor of for_each_unacked may call mark_*()).
/// mark_*() and remove() need the lock: kFailedPrecondition when opened with `lock` = false.
class SpoolSession {
 public:
  /// Opens ROOT/<session>: reads session.json and progress.jsonl. With `lock` = true, takes the
  /// session lock without waiting: kUnavailable ("in use by a running process") when held
  /// elsewhere. Errors name the file (and line for a corrupt progress line).
  static StatusOr<std::unique_ptr<SpoolSession>> open(const std::string& dir, bool lock = true);
  ~SpoolSession();

  const SpoolSessionInfo& info() const;
  const SpoolProgress& progress() const;

  /// Streams every record with seq > progress().acked in seq order (merging all segments), calling
  /// `visit` for each; stops early and returns the visitor's status when it is not ok. Corrupt
  /// lines give kDataLoss naming file:line.
  Status for_each_unacked(const std::function<Status(const LogRecord&)>& visit) const;
  /// The same for every record with seq > `after` (acked or not), e.g. to find rejected records
  /// again once everything is acked.
  Status for_each_since(std::uint64_t after,
                        const std::function<Status(const LogRecord&)>& visit) const;

  /// Durable progress, as SpoolWriter's (also updates progress()).
  Status mark_acked(std::uint64_t seq);
  Status mark_run(const std::string& key, const std::string& server_run_id);
  /// Acknowledges (progress().acked, seq] with `rejected` of it refused, in one line: a crash
  /// leaves either both or neither. Without rejections it is mark_acked(seq).
  Status mark_acked(std::uint64_t seq, std::vector<RejectedRecord> rejected);
  /// Records that the run ids marked from now on live on `server_uri` (credentials removed).
  Status mark_server(const std::string& server_uri);

  /// Removes the whole session directory (call when everything is acked).
  Status remove();

  SpoolSession(const SpoolSession&) = delete;
  SpoolSession& operator=(const SpoolSession&) = delete;

 private:
  struct State;
  explicit SpoolSession(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Whether the runs of `session` live in `store` (a logger's MlflowClient::store_uri(), whose
/// server is at `tracking_uri`), compared as same_server() does: a local-mode database is the same
/// whichever port its server had. A session that recorded no store matches by its tracking URI,
/// as the builds that wrote it matched.
bool session_in_store(const SpoolSessionInfo& session, const std::string& store,
                      const std::string& tracking_uri);

/// Session directories directly under ROOT (sorted by name = creation order). A missing ROOT gives
/// an empty list. Does not lock or validate them.
StatusOr<std::vector<std::string>> list_spool_sessions(const std::string& root);

/// The default spool root: $XDG_CACHE_HOME/mlflow-cpp/spool, else $HOME/.cache/mlflow-cpp/spool
/// (MLFLOW_CPP_SPOOL_DIR is read at the edge: AsyncLogger::open_from_env).
std::string default_spool_root();

/// One record as a JSON line (no trailing newline) and back. from_json errors say which field is
/// bad.
std::string record_to_json_line(const LogRecord& record);
StatusOr<LogRecord> record_from_json_line(const std::string& line);

}  // namespace mlflow::detail

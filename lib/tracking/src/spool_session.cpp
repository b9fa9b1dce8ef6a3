// SPDX-License-Identifier: Apache-2.0
// SpoolSession: reads any session directory and merges its segments by seq for replay.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <queue>
#include <system_error>
#include <utility>

#include "spool.h"
#include "spool_internal.h"
#include "url.h"

namespace mlflow::detail {

struct SpoolSession::State {
  SpoolSessionInfo info;
  SpoolProgress progress;
  spool::Fd lock;  // not valid when opened without the lock
  spool::AppendFile progress_file;
  std::uint64_t progress_valid_end = 0;  // bytes of progress.jsonl up to its last valid line

  Status need_lock(const char* what) const {
    if (lock.valid()) return Status();
    return Status(StatusCode::kFailedPrecondition, std::string("cannot ") + what +
                                                       " in spool session " + info.dir +
                                                       ": it was opened without its lock");
  }
  Status append_progress(const std::string& line);
};

namespace {

// One segment's records in file order.
struct SegmentCursor {
  spool::LineReader reader;
  LogRecord record;  // the current record, valid unless done
  std::uint64_t last_seq = 0;
  bool done = false;

  Status advance() {
    std::string line;
    StatusOr<bool> more = reader.next(&line);
    if (!more.ok()) return more.status();
    if (!*more) {
      done = true;
      return Status();
    }
    StatusOr<LogRecord> parsed = record_from_json_line(line);
    if (!parsed.ok()) {
      StatusOr<bool> last = reader.at_end();
      if (!last.ok()) return last.status();
      if (*last) {  // a write cut short: never acknowledged to the logger, so not lost
        done = true;
        return Status();
      }
      return reader.corrupt(parsed.status().message());
    }
    if (parsed->seq <= last_seq) {
      return reader.corrupt(
          fmt::format("seq {} does not follow the previous line's seq {}", parsed->seq, last_seq));
    }
    last_seq = parsed->seq;
    record = std::move(*parsed);
    return Status();
  }
};

// Descriptors and buffers for a merge of many segments stay bounded.
constexpr std::size_t kMaxOpenSegments = 64;
constexpr std::size_t kMergeBufferBudget = 8u << 20;

}  // namespace

SpoolSession::SpoolSession(std::unique_ptr<State> state) : state_(std::move(state)) {}
SpoolSession::~SpoolSession() = default;

StatusOr<std::unique_ptr<SpoolSession>> SpoolSession::open(const std::string& dir, bool lock) {
  std::string path = dir;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto state = std::make_unique<State>();
  // Checked before locking, so that locking a directory that is no session leaves no lock file.
  const std::string session_file = path + "/" + spool::kSessionFile;
  struct stat st {};
  if (::stat(session_file.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return Status(StatusCode::kNotFound,
                    session_file + " is missing: " + path + " is not a spool session");
    }
    return spool::errno_status(errno, "cannot read", session_file);
  }
  if (lock) {
    StatusOr<spool::Fd> fd = spool::lock_session(path);
    if (!fd.ok()) return fd.status();
    state->lock = std::move(*fd);
  }
  MLFLOW_CPP_RETURN_IF_ERROR(spool::read_session_json(path, &state->info));
  MLFLOW_CPP_RETURN_IF_ERROR(spool::read_progress(path + "/" + spool::kProgressFile,
                                                  &state->progress, &state->progress_valid_end));
  return std::unique_ptr<SpoolSession>(new SpoolSession(std::move(state)));
}

const SpoolSessionInfo& SpoolSession::info() const { return state_->info; }
const SpoolProgress& SpoolSession::progress() const { return state_->progress; }

Status SpoolSession::for_each_unacked(const std::function<Status(const LogRecord&)>& visit) const {
  // Fixed at the start: the visitor's own mark_acked() calls do not change what this pass sends.
  return for_each_since(state_->progress.acked, visit);
}

Status SpoolSession::for_each_since(std::uint64_t after,
                                    const std::function<Status(const LogRecord&)>& visit) const {
  const std::string& dir = state_->info.dir;
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (spool::is_segment_name(name)) names.push_back(std::move(name));
  }
  if (ec) return Status(StatusCode::kInternal, "cannot list " + dir + ": " + ec.message());
  std::sort(names.begin(), names.end());

  const bool keep_open = names.size() <= kMaxOpenSegments;
  const std::size_t buffer = std::clamp<std::size_t>(
      kMergeBufferBudget / std::max<std::size_t>(names.size(), 1), 4096, std::size_t{64} * 1024);
  std::vector<SegmentCursor> cursors(names.size());
  // (seq, cursor index): equal seqs come from the older segment first.
  using Head = std::pair<std::uint64_t, std::size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (std::size_t i = 0; i < names.size(); ++i) {
    Status st = cursors[i].reader.open(dir + "/" + names[i], buffer, keep_open);
    if (st.code() == StatusCode::kNotFound) continue;  // compacted away since the listing
    MLFLOW_CPP_RETURN_IF_ERROR(st);
    MLFLOW_CPP_RETURN_IF_ERROR(cursors[i].advance());
    if (!cursors[i].done) heads.emplace(cursors[i].record.seq, i);
  }

  std::uint64_t delivered = after;
  while (!heads.empty()) {
    const std::size_t i = heads.top().second;
    heads.pop();
    SegmentCursor& c = cursors[i];
    // A record spooled twice (appended again after an append that failed late) is sent once.
    if (c.record.seq > delivered) {
      MLFLOW_CPP_RETURN_IF_ERROR(visit(c.record));
      delivered = c.record.seq;
    }
    MLFLOW_CPP_RETURN_IF_ERROR(c.advance());
    if (!c.done) heads.emplace(c.record.seq, i);
  }
  return Status();
}

Status SpoolSession::State::append_progress(const std::string& line) {
  if (!progress_file.is_open()) {
    // Cuts an incomplete last line first: appended after, it would read as corruption.
    MLFLOW_CPP_RETURN_IF_ERROR(progress_file.open(info.dir + "/" + spool::kProgressFile,
                                                  /*create_new=*/false, progress_valid_end));
  }
  return progress_file.append(line + "\n");
}

Status SpoolSession::mark_acked(std::uint64_t seq) {
  MLFLOW_CPP_RETURN_IF_ERROR(state_->need_lock("record progress"));
  if (seq <= state_->progress.acked) return Status();
  MLFLOW_CPP_RETURN_IF_ERROR(state_->append_progress(spool::acked_line(seq)));
  state_->progress.acked = seq;
  return Status();
}

Status SpoolSession::mark_run(const std::string& key, const std::string& server_run_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(state_->need_lock("record progress"));
  MLFLOW_CPP_RETURN_IF_ERROR(state_->append_progress(spool::run_line(key, server_run_id)));
  state_->progress.runs[key] = server_run_id;
  return Status();
}

Status SpoolSession::mark_acked(std::uint64_t seq, std::vector<RejectedRecord> rejected) {
  if (rejected.empty()) return mark_acked(seq);
  MLFLOW_CPP_RETURN_IF_ERROR(state_->need_lock("record progress"));
  if (seq <= state_->progress.acked) return Status();
  RejectedWindow window{state_->progress.acked, seq, std::move(rejected)};
  MLFLOW_CPP_RETURN_IF_ERROR(state_->append_progress(spool::acked_line(window)));
  state_->progress.acked = seq;
  state_->progress.rejected.push_back(std::move(window));
  return Status();
}

Status SpoolSession::mark_server(const std::string& server_uri) {
  MLFLOW_CPP_RETURN_IF_ERROR(state_->need_lock("record progress"));
  const std::string shown = redact_url(server_uri);
  MLFLOW_CPP_RETURN_IF_ERROR(state_->append_progress(spool::server_line(shown)));
  state_->progress.server = shown;
  return Status();
}

Status SpoolSession::remove() {
  MLFLOW_CPP_RETURN_IF_ERROR(state_->need_lock("remove"));
  state_->progress_file.close();
  return spool::remove_session_dir(state_->info.dir);
}

bool session_in_store(const SpoolSessionInfo& session, const std::string& store,
                      const std::string& tracking_uri) {
  if (session.store.empty()) return same_server(session.tracking_uri, tracking_uri);
  return same_server(session.store, store);
}

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// SpoolWriter: one logger's session, created under a hidden name and shown complete, appended to
// with one write and one fdatasync per group.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <random>
#include <system_error>

#include "mlflow/atomic_file.h"
#include "mlflow/system_tags.h"
#include "spool.h"
#include "spool_internal.h"
#include "url.h"

namespace mlflow::detail {

using spool::AppendFile;

struct SpoolWriter::State {
  std::string dir;
  spool::Fd lock;  // held for the object's lifetime

  mutable std::mutex mu;  // guards everything below
  struct Segment {
    std::string path;
    std::uint64_t max_seq = 0;  // also counts a failed append's records: some may be on disk
  };
  std::vector<Segment> segments;  // every segment not compacted away; the last is the current one
  AppendFile segment;             // the current one; closed = start a new one at the next append
  std::uint64_t next_index = 1;   // never reused, so two segments never share a name
  std::uint64_t max_seq = 0;      // the highest seq given to append()
  AppendFile progress_file;
  SpoolProgress progress;

  std::string progress_path() const { return dir + "/" + spool::kProgressFile; }
  Status open_segment();
  Status append_progress(const std::string& line);
};

namespace {

// "20260822T101530.123Z-4242-9f3a1c0b": sorts by creation time; pid and randomness keep
// sessions of concurrent processes (or of one process in the same millisecond) apart.
std::string new_session_name() {
  const TimestampMs ms = now_ms();
  const auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  std::uint32_t salt = 0;
  try {
    salt = std::random_device{}();
  } catch (...) {
    salt = static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z-{}-{:08x}", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000,
                     ::getpid(), salt);
}

Status unusable_root(const Status& st) {
  return Status(StatusCode::kInvalidArgument, "spool: " + st.message());
}

}  // namespace

SpoolWriter::SpoolWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}

StatusOr<std::unique_ptr<SpoolWriter>> SpoolWriter::create(const std::string& root,
                                                           const std::string& tracking_uri,
                                                           const std::string& store) {
  if (root.empty()) return Status(StatusCode::kInvalidArgument, "spool: the spool root is empty");
  std::string base = root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (Status st = spool::make_dirs(base); !st.ok()) return unusable_root(st);

  // Built under a hidden name and renamed once complete: a replayer listing ROOT never sees a
  // session without its session.json or its lock.
  std::string name;
  std::string hidden;
  for (int attempt = 0;; ++attempt) {
    name = new_session_name();
    hidden = base;
    hidden += "/.creating-";
    hidden += name;
    if (::mkdir(hidden.c_str(), 0700) == 0) break;
    if (errno != EEXIST || attempt >= 16) {
      return unusable_root(spool::errno_status(errno, "cannot create directory", hidden));
    }
  }
  auto state = std::make_unique<State>();
  state->dir = base + "/" + name;
  auto fail = [&](const Status& st) {
    std::error_code ec;
    std::filesystem::remove_all(hidden, ec);
    return st;
  };

  StatusOr<spool::Fd> lock = spool::lock_session(hidden);
  if (!lock.ok()) return fail(lock.status());
  state->lock = std::move(*lock);
  SpoolSessionInfo info;
  info.tracking_uri = redact_url(tracking_uri);  // nothing in the spool holds credentials
  info.store = redact_url(store.empty() ? tracking_uri : store);
  info.created_ms = now_ms();
  info.pid = static_cast<long>(::getpid());
  info.host = host_name();
  if (Status st = write_file_atomically(hidden + "/" + spool::kSessionFile,
                                        spool::session_json(info), kPrivateFileMode);
      !st.ok()) {
    return fail(st);
  }
  if (::rename(hidden.c_str(), state->dir.c_str()) != 0) {
    return fail(spool::errno_status(errno, "cannot rename " + hidden + " to", state->dir));
  }
  if (Status st = sync_directory(base); !st.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(state->dir, ec);
    return st;
  }
  return std::unique_ptr<SpoolWriter>(new SpoolWriter(std::move(state)));
}

SpoolWriter::~SpoolWriter() {
  if (!state_) return;
  std::lock_guard<std::mutex> guard(state_->mu);
  state_->segment.close();
  state_->progress_file.close();
  // Removed while the lock is still held, so no replayer starts on a half-removed session.
  if (state_->max_seq <= state_->progress.acked) (void)spool::remove_session_dir(state_->dir);
  state_->lock.reset();
}

const std::string& SpoolWriter::dir() const { return state_->dir; }

Status SpoolWriter::State::open_segment() {
  const std::string path = dir + "/" + spool::segment_name(next_index++);
  MLFLOW_CPP_RETURN_IF_ERROR(segment.open(path, /*create_new=*/true));
  segments.push_back(Segment{path, 0});
  return Status();
}

Status SpoolWriter::append(const std::vector<LogRecord>& records, bool new_segment) {
  if (records.empty()) return Status();
  std::uint64_t prev = 0;
  std::string buf;
  buf.reserve(records.size() * 96);
  for (const LogRecord& r : records) {
    if (r.seq == 0) {
      return Status(StatusCode::kInvalidArgument,
                    "spool " + state_->dir + ": seq 0 is not valid (seqs start at 1)");
    }
    if (r.seq <= prev) {
      return Status(
          StatusCode::kInvalidArgument,
          fmt::format("spool {}: seq {} follows seq {} in one append", state_->dir, r.seq, prev));
    }
    prev = r.seq;
    buf += record_to_json_line(r);
    buf += '\n';
  }

  std::lock_guard<std::mutex> guard(state_->mu);
  State& s = *state_;
  // A group that does not continue the current segment's seqs starts a new segment even when the
  // caller did not ask: a segment's seqs must increase for replay to merge segments.
  if (new_segment || !s.segment.is_open() || records.front().seq <= s.segments.back().max_seq) {
    MLFLOW_CPP_RETURN_IF_ERROR(s.open_segment());
  }
  // Counted before the write: a failed write may still have put some of the records on disk.
  s.segments.back().max_seq = records.back().seq;
  s.max_seq = std::max(s.max_seq, records.back().seq);
  if (Status st = s.segment.append(buf); !st.ok()) {
    s.segment.close();  // whatever this write left at the segment's end stays its last line
    return st;
  }
  return Status();
}

Status SpoolWriter::State::append_progress(const std::string& line) {
  if (!progress_file.is_open()) {
    MLFLOW_CPP_RETURN_IF_ERROR(progress_file.open(progress_path(), /*create_new=*/false));
  }
  return progress_file.append(line + "\n");
}

Status SpoolWriter::mark_acked(std::uint64_t seq) {
  std::lock_guard<std::mutex> guard(state_->mu);
  if (seq <= state_->progress.acked) return Status();
  MLFLOW_CPP_RETURN_IF_ERROR(state_->append_progress(spool::acked_line(seq)));
  state_->progress.acked = seq;
  return Status();
}

Status SpoolWriter::mark_run(const std::string& key, const std::string& server_run_id) {
  std::lock_guard<std::mutex> guard(state_->mu);
  MLFLOW_CPP_RETURN_IF_ERROR(state_->append_progress(spool::run_line(key, server_run_id)));
  state_->progress.runs[key] = server_run_id;
  return Status();
}

bool SpoolWriter::has_unacked() const {
  std::lock_guard<std::mutex> guard(state_->mu);
  return state_->max_seq > state_->progress.acked;
}

Status SpoolWriter::compact() {
  std::lock_guard<std::mutex> guard(state_->mu);
  State& s = *state_;
  std::vector<State::Segment> kept;
  Status failed;
  bool removed = false;
  for (const State::Segment& seg : s.segments) {
    if (seg.max_seq > s.progress.acked) {
      kept.push_back(seg);
      continue;
    }
    if (s.segment.is_open() && s.segment.path() == seg.path) s.segment.close();
    if (::unlink(seg.path.c_str()) != 0 && errno != ENOENT) {
      if (failed.ok()) failed = spool::errno_status(errno, "cannot remove", seg.path);
      kept.push_back(seg);
      continue;
    }
    removed = true;
  }
  s.segments = std::move(kept);
  MLFLOW_CPP_RETURN_IF_ERROR(failed);
  if (removed) MLFLOW_CPP_RETURN_IF_ERROR(sync_directory(s.dir));
  // progress.jsonl gains a line per ack; rewritten as its summary it stays small.
  if (s.progress_file.is_open()) {
    s.progress_file.close();
    const std::string content = spool::progress_lines(s.progress);
    MLFLOW_CPP_RETURN_IF_ERROR(write_file_atomically(s.progress_path(), content, kPrivateFileMode));
    MLFLOW_CPP_RETURN_IF_ERROR(
        s.progress_file.open(s.progress_path(), /*create_new=*/false, content.size()));
  }
  return Status();
}

}  // namespace mlflow::detail

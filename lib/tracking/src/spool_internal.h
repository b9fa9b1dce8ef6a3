// SPDX-License-Identifier: Apache-2.0
// What the spool's translation units share: file names, durable POSIX writes, line reading, the
// progress and session.json formats (private to spool_*.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlflow/status.h"
#include "posix_file.h"
#include "spool.h"

namespace mlflow::detail::spool {

inline constexpr const char* kLockFile = "lock";
inline constexpr const char* kSessionFile = "session.json";
inline constexpr const char* kProgressFile = "progress.jsonl";
inline constexpr int kFormat = 1;

/// "seg-000001.jsonl" for index 1.
std::string segment_name(std::uint64_t index);
bool is_segment_name(const std::string& name);

using detail::errno_status;
using detail::Fd;

/// mkdir -p; directories it creates get mode 0700 and are made durable in their parent.
Status make_dirs(const std::string& path);
/// Takes DIR/lock (created 0600 if missing) without waiting; kUnavailable when another open file
/// description holds it.
StatusOr<Fd> lock_session(const std::string& dir);
/// Removes a session directory: renamed to a hidden name first so that nobody sees half of it.
Status remove_session_dir(const std::string& dir);

/// A file that only grows by whole appends, each made durable before append() returns.
class AppendFile {
 public:
  /// Opens `path` (created with mode 0600) for appending. `create_new`: fail when it exists.
  /// `valid_size`: the file's bytes past this (a torn or bad last line) are cut before the first
  /// append, so that they never end up in the middle of the file.
  Status open(const std::string& path, bool create_new, std::uint64_t valid_size = 0);
  bool is_open() const { return fd_.valid(); }
  const std::string& path() const { return path_; }
  /// One write() of `data`, then fdatasync. When the write fails the file is cut back to its
  /// previous size (retried before the next append if that fails too).
  Status append(const std::string& data);
  void close() { fd_.reset(); }

 private:
  std::string path_;
  Fd fd_;
  std::uint64_t good_size_ = 0;  // the size after the last append that fully succeeded
};

/// Reads a file line by line through a fixed buffer (segments can be hundreds of MB).
class LineReader {
 public:
  static constexpr std::size_t kMaxLine = 16u << 20;

  /// kNotFound when the file is missing. `keep_open` = false closes the descriptor between reads
  /// (a merge of many segments must not run out of descriptors); a file removed meanwhile then
  /// reads as ended.
  Status open(const std::string& path, std::size_t buffer_size = std::size_t{64} * 1024,
              bool keep_open = true);
  /// The next complete line, without its '\n', in *line; false at the end. A last fragment with
  /// no '\n' (a write cut short) is never returned. Errors: read failures, a line over kMaxLine.
  StatusOr<bool> next(std::string* line);
  /// True when no byte follows the line next() returned.
  StatusOr<bool> at_end();
  const std::string& path() const { return path_; }
  std::uint64_t line_number() const { return line_number_; }
  /// Bytes up to and including the '\n' of the line next() returned.
  std::uint64_t offset() const { return offset_; }
  /// kDataLoss "PATH:LINE: what" for the line next() returned.
  Status corrupt(const std::string& what) const;

 private:
  StatusOr<bool> fill();

  std::string path_;
  Fd fd_;
  bool keep_open_ = true;
  std::uint64_t file_offset_ = 0;  // bytes read from the file into buf_ so far
  std::vector<char> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::uint64_t line_number_ = 0;
  std::uint64_t offset_ = 0;
};

/// progress.jsonl lines (no trailing newline).
std::string acked_line(std::uint64_t seq);
std::string run_line(const std::string& key, const std::string& server_run_id);
std::string server_line(const std::string& server_uri);
/// {"acked":through,"after":...,"rejected":[...]}, or the plain acked line when nothing was
/// refused.
std::string acked_line(const RejectedWindow& window);
/// The whole progress as the lines a compacted progress.jsonl holds (with newlines).
std::string progress_lines(const SpoolProgress& progress);
/// Reads `path` (missing = no progress). *valid_end: bytes up to the last valid line. A bad or
/// incomplete last line is ignored; any other bad line is kDataLoss "PATH:LINE: ...".
Status read_progress(const std::string& path, SpoolProgress* out, std::uint64_t* valid_end);

/// One line of a sync's rejected-records file (no trailing newline): {"reason","server" (that
/// refused it),"session","run_id" (the run id it was sent to; absent for a run never created),
/// "record":<the record as a spool line>}.
std::string rejected_file_line(const LogRecord& record, const std::string& reason,
                               const std::string& run_id, const std::string& server,
                               const std::string& session);

/// session.json's content, and reading it back into *info (kNotFound when missing, kDataLoss when
/// unreadable, kFailedPrecondition for a format this build does not know).
std::string session_json(const SpoolSessionInfo& info);
Status read_session_json(const std::string& dir, SpoolSessionInfo* info);

}  // namespace mlflow::detail::spool

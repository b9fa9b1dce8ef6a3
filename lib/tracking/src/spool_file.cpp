// SPDX-License-Identifier: Apache-2.0
// The spool's POSIX layer: durable appends, session directories and their lock, and reading files
// line by line (atomic whole-file writes are mlflow/atomic_file.h's).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "mlflow/atomic_file.h"
#include "spool_internal.h"

namespace mlflow::detail::spool {

namespace fs = std::filesystem;

namespace {

using detail::parent_of;

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

std::string segment_name(std::uint64_t index) { return fmt::format("seg-{:06}.jsonl", index); }

bool is_segment_name(const std::string& name) {
  constexpr std::string_view kPrefix = "seg-", kSuffix = ".jsonl";
  return name.size() > kPrefix.size() + kSuffix.size() && name.compare(0, 4, kPrefix) == 0 &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

Status make_dirs(const std::string& path) {
  if (path.empty()) return Status(StatusCode::kInvalidArgument, "empty directory path");
  for (std::size_t end = 1; end <= path.size(); ++end) {
    if (end < path.size() && path[end] != '/') continue;
    if (path[end - 1] == '/') continue;  // "//" or a trailing '/'
    const std::string prefix = path.substr(0, end);
    struct stat st {};
    if (::stat(prefix.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return errno_status(ENOTDIR, "cannot create directory", prefix);
      continue;
    }
    if (::mkdir(prefix.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;  // made by someone else meanwhile
      return errno_status(errno, "cannot create directory", prefix);
    }
    MLFLOW_CPP_RETURN_IF_ERROR(sync_directory(parent_of(prefix)));
  }
  return Status();
}

StatusOr<Fd> lock_session(const std::string& dir) {
  const std::string path = dir + "/" + kLockFile;
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status(StatusCode::kNotFound, "no spool session at " + dir);
    return errno_status(errno, "cannot open", path);
  }
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) {
      return Status(
          StatusCode::kUnavailable,
          "spool session " + dir + " is in use by a running process (" + path + " is locked)");
    }
    return errno_status(errno, "cannot lock", path);
  }
  return fd;
}

Status remove_session_dir(const std::string& dir) {
  const std::string path = without_trailing_slashes(dir);
  const std::string parent = parent_of(path);
  // Renamed out of sight first: a listing never shows a session that is half removed, and a crash
  // in the middle leaves only a hidden directory behind.
  std::string target = parent + "/.removed-" + path.substr(path.find_last_of('/') + 1);
  if (::rename(path.c_str(), target.c_str()) != 0) {
    if (errno == ENOENT) return Status();
    target = path;  // e.g. a leftover hidden directory of the same name: remove in place
  }
  std::error_code ec;
  fs::remove_all(target, ec);
  if (ec) return Status(StatusCode::kInternal, "cannot remove " + target + ": " + ec.message());
  return sync_directory(parent);
}

Status AppendFile::open(const std::string& path, bool create_new, std::uint64_t valid_size) {
  fd_.reset();
  path_ = path;
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC;
  int fd = ::open(path.c_str(), kFlags | O_CREAT | O_EXCL, 0600);
  const bool created = fd >= 0;
  if (fd < 0 && errno == EEXIST && !create_new) fd = ::open(path.c_str(), kFlags | O_CREAT, 0600);
  if (fd < 0) return errno_status(errno, create_new ? "cannot create" : "cannot open", path);
  fd_ = Fd(fd);
  good_size_ = created ? 0 : valid_size;
  // A new file's directory entry is durable only once its directory is synced.
  if (created) {
    if (Status st = sync_directory(parent_of(path)); !st.ok()) {
      fd_.reset();
      return st;
    }
  }
  return Status();
}

Status AppendFile::append(const std::string& data) {
  if (!fd_.valid()) return Status(StatusCode::kFailedPrecondition, path_ + " is not open");
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return errno_status(errno, "cannot stat", path_);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < good_size_) good_size_ = size;  // cut by someone else: never extend it with zeros
  if (size > good_size_ && ::ftruncate(fd_.get(), static_cast<off_t>(good_size_)) != 0) {
    return errno_status(errno, "cannot cut the incomplete last line of", path_);
  }
  if (int err = write_all(fd_.get(), data.data(), data.size()); err != 0) {
    // Best effort now; the next append() cuts it again if this fails.
    [[maybe_unused]] int rc = ::ftruncate(fd_.get(), static_cast<off_t>(good_size_));
    return errno_status(err, "cannot write", path_);
  }
  good_size_ += data.size();
  if (::fdatasync(fd_.get()) != 0) return errno_status(errno, "cannot sync", path_);
  return Status();
}

Status LineReader::open(const std::string& path, std::size_t buffer_size, bool keep_open) {
  path_ = path;
  keep_open_ = keep_open;
  fd_ = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd_.valid()) return errno_status(errno, "cannot open", path);
  if (!keep_open_) fd_.reset();
  buf_.resize(buffer_size);
  pos_ = end_ = 0;
  file_offset_ = line_number_ = offset_ = 0;
  return Status();
}

StatusOr<bool> LineReader::fill() {
  pos_ = end_ = 0;
  if (!fd_.valid()) {
    fd_ = Fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_.valid()) {
      if (errno == ENOENT) return false;  // compacted away meanwhile: all of it was acked
      return errno_status(errno, "cannot open", path_);
    }
  }
  ssize_t n;
  do {
    n = ::pread(fd_.get(), buf_.data(), buf_.size(), static_cast<off_t>(file_offset_));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno_status(errno, "cannot read", path_);
  if (!keep_open_) fd_.reset();
  end_ = static_cast<std::size_t>(n);
  file_offset_ += end_;
  return n > 0;
}

StatusOr<bool> LineReader::next(std::string* line) {
  line->clear();
  for (;;) {
    if (pos_ == end_) {
      StatusOr<bool> more = fill();
      if (!more.ok()) return more.status();
      if (!*more) return false;  // the end; a fragment without '\n' in *line is a torn write
    }
    const char* start = buf_.data() + pos_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
    const std::size_t n = nl != nullptr ? static_cast<std::size_t>(nl - start) : end_ - pos_;
    if (line->size() + n > kMaxLine) {
      return Status(StatusCode::kDataLoss, fmt::format("{}:{}: line longer than {} bytes", path_,
                                                       line_number_ + 1, kMaxLine));
    }
    line->append(start, n);
    pos_ += n;
    if (nl != nullptr) {
      ++pos_;
      ++line_number_;
      offset_ += line->size() + 1;
      return true;
    }
  }
}

StatusOr<bool> LineReader::at_end() {
  if (pos_ < end_) return false;
  StatusOr<bool> more = fill();
  if (!more.ok()) return more.status();
  return !*more;
}

Status LineReader::corrupt(const std::string& what) const {
  return Status(StatusCode::kDataLoss, fmt::format("{}:{}: {}", path_, line_number_, what));
}

}  // namespace mlflow::detail::spool

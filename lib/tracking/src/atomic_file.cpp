// SPDX-License-Identifier: Apache-2.0
// Atomic, durable file writes and directory replacement (the policy is in mlflow/atomic_file.h).
#include "mlflow/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "posix_file.h"

namespace mlflow {

namespace fs = std::filesystem;
using detail::errno_status;
using detail::parent_of;

namespace {

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

/// DIR/.NAME.<kind>-XXXXXX for `path` = DIR/NAME (a mkstemp/mkdtemp template).
std::vector<char> hidden_sibling_template(const std::string& path, const char* kind) {
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string t = dir + "." + name + "." + kind + "-XXXXXX";
  std::vector<char> out(t.begin(), t.end());
  out.push_back('\0');
  return out;
}

Status fsync_path(const std::string& path) {
  detail::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_status(errno, "cannot open", path);
  if (::fsync(fd.get()) != 0) return errno_status(errno, "cannot sync", path);
  return Status();
}

}  // namespace

AtomicFile::AtomicFile(std::string path, std::string temp, int fd)
    : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    temp_ = std::move(other.temp_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temp_.c_str());
  fd_ = -1;
}

StatusOr<AtomicFile> AtomicFile::create(const std::string& path, unsigned mode) {
  if (path.empty()) return Status(StatusCode::kInvalidArgument, "file path is empty");
  if (path.back() == '/') {
    return Status(StatusCode::kInvalidArgument, "file path '" + path + "' names a directory");
  }
  std::vector<char> name = hidden_sibling_template(path, "tmp");
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return errno_status(errno, "cannot create a temporary file beside", path);
  AtomicFile file(path, name.data(), fd);
  // mkstemp makes 0600 files; the mode is the caller's choice.
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    return errno_status(errno, "cannot set the mode of", file.temp_);
  }
  return file;
}

Status AtomicFile::append(std::string_view bytes) {
  if (fd_ < 0) return Status(StatusCode::kFailedPrecondition, path_ + " is already committed");
  if (int err = detail::write_all(fd_, bytes.data(), bytes.size()); err != 0) {
    return errno_status(err, "cannot write", temp_);
  }
  return Status();
}

Status AtomicFile::commit() {
  if (fd_ < 0) return Status(StatusCode::kFailedPrecondition, path_ + " is already committed");
  // Through the path, not fd_: a writer given temp_path() wrote through descriptors of its own.
  Status st = fsync_path(temp_);
  if (st.ok() && ::rename(temp_.c_str(), path_.c_str()) != 0) {
    st = errno_status(errno, "cannot rename " + temp_ + " to", path_);
  }
  if (!st.ok()) {
    discard();
    return st;
  }
  ::close(fd_);
  fd_ = -1;
  return sync_directory(parent_of(path_));
}

Status write_file_atomically(const std::string& path, std::string_view bytes, unsigned mode) {
  auto file = AtomicFile::create(path, mode);
  if (!file.ok()) return file.status();
  MLFLOW_CPP_RETURN_IF_ERROR(file->append(bytes));
  return file->commit();
}

Status sync_directory(const std::string& dir) {
  detail::Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno_status(errno, "cannot open directory", dir);
  // EINVAL: the file system cannot sync directories (nothing more can be done there).
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return errno_status(errno, "cannot sync", dir);
  return Status();
}

StatusOr<std::string> make_staging_directory(const std::string& target) {
  const std::string path = without_trailing_slashes(target);
  if (path.empty() || path == "/") {
    return Status(StatusCode::kInvalidArgument, "directory path '" + target + "' is not usable");
  }
  std::error_code ec;
  fs::create_directories(parent_of(path), ec);
  if (ec) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot create directory " + parent_of(path) + ": " + ec.message());
  }
  std::vector<char> name = hidden_sibling_template(path, "stage");
  if (::mkdtemp(name.data()) == nullptr) {
    return errno_status(errno, "cannot create a staging directory beside", path);
  }
  return std::string(name.data());
}

Status replace_directory(const std::string& staged, const std::string& target) {
  const std::string path = without_trailing_slashes(target);
  const std::string parent = parent_of(path);
  MLFLOW_CPP_RETURN_IF_ERROR(sync_directory(staged));
  struct stat st {};
  std::string old;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return errno_status(ENOTDIR, "cannot replace", path);
    // Aside under a fresh hidden name (rename may replace the empty directory mkdtemp made).
    std::vector<char> name = hidden_sibling_template(path, "old");
    if (::mkdtemp(name.data()) == nullptr) {
      return errno_status(errno, "cannot create a directory beside", path);
    }
    old = name.data();
    if (::rename(path.c_str(), old.c_str()) != 0) {
      Status failed = errno_status(errno, "cannot move aside", path);
      ::rmdir(old.c_str());
      return failed;
    }
  } else if (errno != ENOENT) {
    return errno_status(errno, "cannot replace", path);
  }
  if (::rename(staged.c_str(), path.c_str()) != 0) {
    Status failed = errno_status(errno, "cannot rename " + staged + " to", path);
    if (!old.empty()) (void)::rename(old.c_str(), path.c_str());
    return failed;
  }
  Status synced = sync_directory(parent);
  if (!old.empty()) {
    std::error_code ec;
    fs::remove_all(old, ec);  // best effort: the new directory is in place either way
  }
  return synced;
}

}  // namespace mlflow

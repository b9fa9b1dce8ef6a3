// SPDX-License-Identifier: Apache-2.0
// Owned descriptors, whole writes and errno as a Status.
#include "posix_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mlflow::detail {

Status errno_status(int err, const std::string& what, const std::string& path) {
  StatusCode code = StatusCode::kInternal;
  if (err == ENOSPC || err == EDQUOT) {
    code = StatusCode::kResourceExhausted;
  } else if (err == ENOENT) {
    code = StatusCode::kNotFound;
  } else if (err == EACCES || err == EPERM || err == EROFS) {
    code = StatusCode::kPermissionDenied;
  }
  return Status(code, what + " " + path + ": " + std::strerror(err));
}

int write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace mlflow::detail

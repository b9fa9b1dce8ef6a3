// SPDX-License-Identifier: Apache-2.0
// The POSIX file layer shared by the spool and the atomic writes: owned descriptors, whole writes,
// errno as a Status (private).
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "mlflow/status.h"

namespace mlflow::detail {

/// `what` + " " + path + ": " + strerror(err), with a code for the errno (a full disk is
/// kResourceExhausted, a missing file kNotFound, a denied one kPermissionDenied, else kInternal).
Status errno_status(int err, const std::string& what, const std::string& path);

/// 0 or the errno of the failed write(); loops over short writes and EINTR.
int write_all(int fd, const char* data, std::size_t size);

/// The directory holding `path` ("." for a bare name, "/" for a name in the root).
std::string parent_of(const std::string& path);

/// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

}  // namespace mlflow::detail

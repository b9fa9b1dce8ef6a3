// SPDX-License-Identifier: Apache-2.0
// Atomic file writing with mkstemp + rename.
#include "png_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

namespace mlflow::plot::internal {
namespace {

Status io_error(const std::string& path, const std::string& what, int err) {
  return Status(StatusCode::kFailedPrecondition, "cannot write PNG '" + path + "': " + what + ": " +
                                                     std::generic_category().message(err));
}

}  // namespace

Status write_file_atomically(const std::string& path, const std::string& bytes) {
  if (path.empty()) return Status(StatusCode::kInvalidArgument, "PNG path is empty");
  if (path.back() == '/') {
    return Status(StatusCode::kInvalidArgument, "PNG path '" + path + "' names a directory");
  }
  const std::string::size_type slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // A hidden name, so directory listings and artifact uploads running meanwhile skip it.
  std::string tmpl = dir + "." + base + ".tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return io_error(path, "cannot create a temporary file in its directory", errno);
  const std::string tmp(name.data());

  auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    return io_error(path, what, err);
  };

  // mkstemp makes 0600 files; charts are meant to be shared.
  if (::fchmod(fd, 0644) != 0) {
    const int err = errno;
    ::close(fd);
    return fail("chmod", err);
  }
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return fail("write", err);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) return fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename", errno);
  return Status();
}

}  // namespace mlflow::plot::internal

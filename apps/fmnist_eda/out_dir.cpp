// SPDX-License-Identifier: Apache-2.0
// The --out directory: created and probed for writing up front, filled by copying at the end.
#include "out_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace mlflow::apps {

namespace fs = std::filesystem;

Status prepare_out_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    return Status(
        StatusCode::kFailedPrecondition,
        "cannot create the directory " + dir + ": " + (ec ? ec.message() : "a file is in the way"));
  }
  // Permissions alone do not tell (root, read-only mounts): try to create a file.
  std::string probe = (fs::path(dir) / ".fmnist_eda-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0)
    return Status(StatusCode::kFailedPrecondition,
                  "cannot write into " + dir + ": " + std::strerror(errno));
  close(fd);
  fs::remove(probe, ec);
  return ok_status();
}

Status copy_files(const std::vector<std::string>& files, const std::string& from,
                  const std::string& to) {
  for (const auto& f : files) {
    std::error_code ec;
    fs::copy_file(fs::path(from) / f, fs::path(to) / f, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return Status(StatusCode::kFailedPrecondition,
                    "cannot write " + (fs::path(to) / f).string() + ": " + ec.message());
    }
  }
  return ok_status();
}

}  // namespace mlflow::apps

// SPDX-License-Identifier: Apache-2.0
#include "mlflow/training/staging_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

namespace mlflow::training {

StatusOr<StagingDir> StagingDir::make(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot create a temporary directory " + pattern + ": " + std::strerror(errno));
  }
  return StagingDir(pattern);
}

StagingDir::StagingDir(StagingDir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

StagingDir::~StagingDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_,
                              ec);  // best effort: a leftover temp dir is not worth failing over
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) f << text;
  if (f) f.close();
  if (!f) return Status(StatusCode::kFailedPrecondition, "cannot write " + path);
  return ok_status();
}

}  // namespace mlflow::training

// SPDX-License-Identifier: Apache-2.0
// A temporary directory that removes itself, and a small file helper; for staging artifacts and
// downloads.
#pragma once

#include <string>

#include "mlflow/status.h"

namespace mlflow::training {

/// A fresh directory from mkdtemp under $TMPDIR (else /tmp), removed with its contents on
/// destruction.
class StagingDir {
 public:
  /// `prefix` names the directory, e.g. "mlflow-training" -> /tmp/mlflow-training-AbC123.
  static StatusOr<StagingDir> make(const std::string& prefix = "mlflow-cpp");
  /// Takes over the directory; the moved-from object removes nothing.
  StagingDir(StagingDir&& other) noexcept;
  StagingDir& operator=(StagingDir&&) = delete;
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  ~StagingDir();

  /// The directory's path.
  const std::string& path() const { return path_; }
  /// The path of `name` inside the directory (not created).
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit StagingDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

/// Writes `text` to `path` (binary, truncating); kFailedPrecondition naming the path on failure.
Status write_text(const std::string& path, const std::string& text);

}  // namespace mlflow::training

// SPDX-License-Identifier: Apache-2.0
// Writing a finished file atomically: temporary file in the same directory, then rename.
#pragma once

#include <string>

#include "mlflow/status.h"

namespace mlflow::plot::internal {

/// Writes `bytes` to `path` through a temporary file next to it and rename(2), so `path` is either
/// untouched or complete. kInvalidArgument for an empty path; kFailedPrecondition (naming the path)
/// when the directory is missing or not writable or the write fails; no temporary file is left.
Status write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace mlflow::plot::internal

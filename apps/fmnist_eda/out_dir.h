// SPDX-License-Identifier: Apache-2.0
// The --out directory: checked writable before any work, filled with the EDA's files at the end.
#pragma once

#include <string>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::apps {

/// Creates `dir` (and its parents) when missing and checks a file can be created in it.
/// kFailedPrecondition naming the directory and the reason.
Status prepare_out_dir(const std::string& dir);

/// Copies `files` (names) from `from` into `to`, replacing files of the same name.
/// kFailedPrecondition naming the file that could not be copied.
Status copy_files(const std::vector<std::string>& files, const std::string& from,
                  const std::string& to);

}  // namespace mlflow::apps

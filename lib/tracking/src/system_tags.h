// SPDX-License-Identifier: Apache-2.0
// The system tags a run starts with, as the Python client sets them (private).
#pragma once

#include <string>

#include "mlflow/types.h"

namespace mlflow::detail {

/// The user running this process ($USER, else the passwd entry).
std::string current_user();
/// Absolute path of the running executable.
std::string executable_path();
/// HEAD commit of the git checkout containing `dir` (walking up), read from .git without running git;
/// empty when not in a checkout.
std::string git_commit(const std::string& dir);

/// mlflow.user, mlflow.source.name, mlflow.source.type=LOCAL, mlflow.source.git.commit (when known).
Tags system_tags(const std::string& source_name);

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// The system tags a run starts with, as MLflow's Python client sets them, and the experiment tag
// that makes the MLflow UI treat an experiment as model training.
#pragma once

#include <string>

#include "mlflow/options.h"
#include "mlflow/types.h"

namespace mlflow {

/// The experiment tag the MLflow UI reads to tell model-training experiments from GenAI ones.
inline constexpr const char* kTagExperimentKind = "mlflow.experimentKind";
/// Its value for model training ("Machine learning" in the UI).
inline constexpr const char* kExperimentKindTraining = "custom_model_development";

/// The user name for mlflow.user, found as Python's getpass.getuser() finds it: the first non-empty
/// of LOGNAME, USER, LNAME and USERNAME (read through `env`; empty: the process's environment),
/// else the password-database name of the real uid, else "unknown". Thread-safe when `env` is.
std::string current_user(const ClientOptions::EnvLookup& env = {});
/// This machine's host name (gethostname), "unknown-host" when it cannot be read.
std::string host_name();
/// Absolute path of the running executable (empty when /proc/self/exe cannot be read).
std::string executable_path();
/// HEAD commit of the git checkout containing `dir` (the working directory when empty), walking up;
/// read from .git (worktrees, packed refs and detached HEADs included) without running git. Empty
/// when not in a checkout.
std::string git_commit(const std::string& dir);

/// mlflow.user, mlflow.source.name (`source_name`, the executable's path when empty),
/// mlflow.source.type=LOCAL and, when known, mlflow.source.git.commit: the commit of the checkout
/// holding the source, else of the working directory's; then `extra`, each replacing a tag of the
/// same key (MLflow refuses to create a run with a key twice). Every run this toolkit creates
/// starts with these (ActiveRun, AsyncRun, sweep_runner, mlflowctl).
Tags system_tags(const std::string& source_name = {}, const Tags& extra = {});

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
// Client tokens that make creating runs and model versions safe to retry (private).
#pragma once

#include <string>

#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow::detail {

/// The run tag holding a run's client token: a run created for token K carries
/// mlflow-cpp.run_key=K, so a retry (or a spool replay after a crash) finds it instead of creating
/// a second one. AsyncLogger's run keys are such tokens; spool files name runs by them.
inline constexpr const char* kRunKeyTag = "mlflow-cpp.run_key";

/// The model version tag holding a version's client token (as kRunKeyTag for runs).
inline constexpr const char* kModelVersionKeyTag = "mlflow-cpp.model_version_key";

/// A token no other entity anywhere will have: `prefix` and 128 random bits in hex.
std::string new_create_token(char prefix);

/// The token of an entity about to be created with `tags`: the value of tag `tag` when the caller
/// set it, else a new_create_token(prefix) appended to `tags` under `tag`. kInvalidArgument naming
/// the tag when the caller's value cannot be looked up with a search filter (it takes 1 to 64
/// letters, digits, '.', '_', ':' or '-': MLflow's filter strings have no escape for quotes).
StatusOr<std::string> create_token(Tags& tags, const char* tag, char prefix);

/// The search filter matching the entity whose tag `tag` is `token`.
std::string token_filter(const char* tag, const std::string& token);

}  // namespace mlflow::detail

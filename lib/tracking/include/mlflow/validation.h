// SPDX-License-Identifier: Apache-2.0
// MLflow's client-side rules for keys, values and artifact paths, checked before anything is sent.
#pragma once

#include <string>

#include "mlflow/status.h"

namespace mlflow {

inline constexpr std::size_t kMaxKeyLength = 250;
inline constexpr std::size_t kMaxParamValueLength = 6000;
inline constexpr std::size_t kMaxTagValueLength = 8000;
inline constexpr std::size_t kMaxExperimentNameLength = 500;

/// A metric, param or tag key: non-empty, at most 250 characters, only letters, digits, '_', '-',
/// '.', ' ', '/', ':', in normalised path form (no '//', no '/./', no leading '/' or '..', not '.').
/// `kind` ("metric", "param", "tag") names the key in the error. kInvalidArgument on failure.
Status validate_key(const char* kind, const std::string& key);
/// Key plus value length (6000).
Status validate_param(const std::string& key, const std::string& value);
/// Key plus value length (8000).
Status validate_tag(const std::string& key, const std::string& value);
/// Key plus a non-negative timestamp.
Status validate_metric(const std::string& key, long long timestamp_ms);
/// Non-empty, at most 500 characters.
Status validate_experiment_name(const std::string& name);
/// A relative artifact path: not absolute, no '..' component, no NUL, no backslash. Empty is allowed
/// (the artifact root).
Status validate_artifact_path(const std::string& path);

}  // namespace mlflow

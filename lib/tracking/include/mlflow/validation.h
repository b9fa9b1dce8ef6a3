// SPDX-License-Identifier: Apache-2.0
// MLflow's client-side rules for keys, values and artifact paths, checked before anything is sent.
#pragma once

#include <string>

#include "mlflow/status.h"

namespace mlflow {

// Lengths count characters (Unicode code points), as Python's len() does, not bytes.
inline constexpr std::size_t kMaxKeyLength = 250;                   ///< metric, param and tag keys
inline constexpr std::size_t kMaxParamValueLength = 6000;           ///< param values
inline constexpr std::size_t kMaxTagValueLength = 8000;             ///< run tag values
inline constexpr std::size_t kMaxExperimentTagValueLength = 20000;  ///< experiment tag values
inline constexpr std::size_t kMaxExperimentNameLength = 500;        ///< experiment names

/// A metric, param or tag key as MLflow 3.17's server checks it: valid UTF-8; only Unicode letters
/// and numbers (Python's str.isalnum(): general categories L*, plus every character with a numeric
/// value, such as '٣', '²' and 'Ⅻ'), '_', '-', '.', ' ', '/' and ':' (one final '\n' passes too,
/// as Python's `$` lets it); a normalised relative path (no leading '/' or '..', no empty, '.' or
/// '..' component); at most 250 characters. `kind` ("metric", "param", "tag") names the key in the
/// error, which shows a refused character as it is with its code point and name. Characters newer
/// than the server's Python knows may still be refused by the server. kInvalidArgument on failure.
Status validate_key(const char* kind, const std::string& key);
/// Key plus value length (6000 characters).
Status validate_param(const std::string& key, const std::string& value);
/// Key plus value length (8000 characters).
Status validate_tag(const std::string& key, const std::string& value);
/// An experiment tag: key as validate_key, value at most 20000 characters.
Status validate_experiment_tag(const std::string& key, const std::string& value);
/// Key plus a non-negative timestamp.
Status validate_metric(const std::string& key, long long timestamp_ms);
/// Non-empty, at most 500 characters.
Status validate_experiment_name(const std::string& name);
/// A registered model alias as MLflow refuses it (_validate_model_alias_name and ..._reserved):
/// empty, ASCII characters other than letters, digits, '_' and '-', more than 255 characters,
/// 'latest' in any case (models:/NAME/latest) or v<number> (it names a version).
/// kInvalidArgument naming the alias and the rule.
Status validate_alias(const std::string& alias);
/// A relative artifact path: not absolute, no '..' component, no NUL, no backslash. Empty is
/// allowed (the artifact root).
Status validate_artifact_path(const std::string& path);

}  // namespace mlflow

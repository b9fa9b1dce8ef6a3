// SPDX-License-Identifier: Apache-2.0
// ASCII case mapping for protocol words, independent of the C locale.
#pragma once

#include <string>
#include <string_view>

namespace mlflow {

/// `s` with A-Z as a-z; every other byte (UTF-8 sequences included) unchanged, whatever the locale.
/// For words compared without case: URI schemes, host names, HTTP header names, file extensions,
/// the reserved words of YAML and MLflow ("latest", "true").
std::string ascii_lower(std::string_view s);
/// `s` with a-z as A-Z (e.g. "asc" -> "ASC"), as ascii_lower.
std::string ascii_upper(std::string_view s);

}  // namespace mlflow

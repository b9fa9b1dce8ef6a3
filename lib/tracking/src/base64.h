// SPDX-License-Identifier: Apache-2.0
// Base64 (RFC 4648, standard alphabet, padded): the Authorization: Basic header (private).
#pragma once

#include <string>

namespace mlflow::detail {

/// `bytes` encoded as base64 with '=' padding. Thread-safe (pure).
std::string base64_encode(const std::string& bytes);

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// Base64 (RFC 4648, standard alphabet, padded): the Authorization: Basic header, and the HTML
// report's embedded pictures (the Fashion-MNIST app library, in-tree, sees this private header).
#pragma once

#include <string>
#include <string_view>

namespace mlflow::detail {

/// `bytes` encoded as base64 with '=' padding. Thread-safe (pure).
std::string base64_encode(std::string_view bytes);

}  // namespace mlflow::detail

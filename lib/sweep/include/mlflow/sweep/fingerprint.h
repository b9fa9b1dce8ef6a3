// SPDX-License-Identifier: Apache-2.0
// Short stable fingerprints of sweep specs and trial configurations (not cryptographic: they only
// tell runs apart, across machines and compilers).
#pragma once

#include <string>

namespace mlflow::sweep {

/// 16 lower-case hex digits of the 64-bit FNV-1a hash of `text`.
std::string fingerprint(const std::string& text);

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/fingerprint.h"

#include <cstdint>

#include <fmt/format.h>

namespace mlflow::sweep {

std::string fingerprint(const std::string& text) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a offset basis and prime (64-bit)
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
// Text forms for the compat programs: exact doubles and hex bytes for JSON manifests.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace mlflow::compat {

/// A double as text that Python's float() reads back bit-exactly: "NaN", "Infinity", "-Infinity"
/// or %.17g. Metric values travel as such strings because JSON numbers cannot hold NaN or Inf.
inline std::string format_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Lower-case hex of every byte, so binary artifacts survive JSON unchanged.
inline std::string to_hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace mlflow::compat

// SPDX-License-Identifier: Apache-2.0
// ASCII case mapping (std::tolower would follow the C locale, and is undefined for bytes >= 0x80
// passed as negative chars).
#include "mlflow/ascii.h"

namespace mlflow {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
// Base64 encoding, three bytes to four characters.
#include "base64.h"

namespace mlflow::detail {

std::string base64_encode(const std::string& bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += {tbl[n >> 18], tbl[(n >> 12) & 63], tbl[(n >> 6) & 63], tbl[n & 63]};
  }
  if (i + 1 == bytes.size()) {
    const unsigned n = byte(i) << 16;
    out += {tbl[n >> 18], tbl[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned n = (byte(i) << 16) | (byte(i + 1) << 8);
    out += {tbl[n >> 18], tbl[(n >> 12) & 63], tbl[(n >> 6) & 63], '='};
  }
  return out;
}

}  // namespace mlflow::detail

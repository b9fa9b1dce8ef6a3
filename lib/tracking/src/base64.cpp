// SPDX-License-Identifier: Apache-2.0
// Base64 by OpenSSL's EVP_EncodeBlock (standard alphabet, '=' padding, no line breaks).
#include "base64.h"

#include <openssl/evp.h>

namespace mlflow::detail {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // room for the NUL it writes last
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace mlflow::detail

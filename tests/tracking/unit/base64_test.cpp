// SPDX-License-Identifier: Apache-2.0
// The one base64 encoder (Authorization: Basic, and the tests' credential-leak checks).
#include <doctest/doctest.h>

#include "base64.h"

using mlflow::detail::base64_encode;

TEST_CASE("base64: the RFC 4648 test vectors, binary bytes and a Basic-auth pair") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\0\xff\xfe", 3)) == "AP/+");
  CHECK(base64_encode("alice:hunter2-secret") == "YWxpY2U6aHVudGVyMi1zZWNyZXQ=");
}

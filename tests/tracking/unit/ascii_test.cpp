// SPDX-License-Identifier: Apache-2.0
// ASCII case mapping: letters A-Z only, UTF-8 bytes untouched whatever the locale.
#include "mlflow/ascii.h"

#include <doctest/doctest.h>

#include <string>

TEST_CASE("ascii: lower and upper map A-Z and a-z only") {
  CHECK(mlflow::ascii_lower("HTTP://Example.COM:80") == "http://example.com:80");
  CHECK(mlflow::ascii_upper("desc") == "DESC");
  CHECK(mlflow::ascii_lower("Latest_V3-@[`{") == "latest_v3-@[`{");
  CHECK(mlflow::ascii_upper("a@[`{z") == "A@[`{Z");
  CHECK(mlflow::ascii_lower("").empty());
}

TEST_CASE("ascii: UTF-8 sequences pass unchanged (no locale folds Ä or İ)") {
  const std::string text = "\xC3\x84pfel \xC4\xB0stanbul \xCE\xA3";  // Äpfel İstanbul Σ
  CHECK(mlflow::ascii_lower(text) == "\xC3\x84pfel \xC4\xB0stanbul \xCE\xA3");
  CHECK(mlflow::ascii_upper(text) == "\xC3\x84PFEL \xC4\xB0STANBUL \xCE\xA3");
}

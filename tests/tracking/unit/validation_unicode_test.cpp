// SPDX-License-Identifier: Apache-2.0
// Keys beyond ASCII: MLflow's `\w` is Python's (any Unicode letter or number), lengths count
// characters, and a refused character is shown as it is.
#include <doctest/doctest.h>

#include <string>

#include "mlflow/validation.h"

using mlflow::StatusCode;
using mlflow::validate_key;

namespace {
const std::string kAllowed =
    "; MLflow allows only letters, numbers, '_', '-', '.', ' ', '/' and ':' in keys";

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}
}  // namespace

// Each verdict is what MLflow 3.17's _validate_param_name (Python 3.11) says of the same key.
TEST_CASE("validation: Unicode keys follow Python's str.isalnum, not ICU's u_isalnum") {
  for (const char* k :
       {"é", "ß", "中", "٣", "²", "Ⅻ", "ǅ", "ʰ", "〇", "𝟘", "½", "loss/é_²", "epoch:٣"}) {
    CHECK_MESSAGE(validate_key("param", k).ok(), k);
  }
  for (const char* k :
       {"\xCC\x81", "e\xCC\x81", "€", "🙂", "a\u00A0b", "x\xE3\x80\x80y", "\t", "a\nb"}) {
    CHECK_MESSAGE(validate_key("param", k).code() == StatusCode::kInvalidArgument, k);
  }
}

TEST_CASE("validation: one final newline passes, as Python's `$` lets it") {
  for (const char* k : {"a\n", "\n", "a/\n"}) CHECK_MESSAGE(validate_key("tag", k).ok(), k);
  for (const char* k : {"a\n\n", "..\n"}) CHECK_MESSAGE(!validate_key("tag", k).ok(), k);
}

TEST_CASE("validation: the refused character is shown as it is, with its code point and name") {
  CHECK(validate_key("param", "cost€").message() ==
        "param key 'cost€' contains '€' (U+20AC EURO SIGN)" + kAllowed);
  CHECK(validate_key("metric", "🙂").message() ==
        "metric key '🙂' contains '🙂' (U+1F642 SLIGHTLY SMILING FACE)" + kAllowed);
  CHECK(validate_key("tag", "e\xCC\x81").message() ==
        "tag key 'e\xCC\x81' contains '\xCC\x81' (U+0301 COMBINING ACUTE ACCENT)" + kAllowed);
  // Invisible characters by code point and name only.
  CHECK(validate_key("tag", "a\u00A0b").message() ==
        "tag key 'a\u00A0b' contains U+00A0 NO-BREAK SPACE" + kAllowed);
}

TEST_CASE("validation: a key that is not UTF-8 is refused, naming the byte") {
  auto st = validate_key("param", "ab\xFF");
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message() == "param key 'ab\xEF\xBF\xBD' is not valid UTF-8 (byte 0xff at offset 2)");
  // Overlong '/' and an encoded surrogate are not UTF-8 either.
  CHECK(validate_key("param", "\xC0\xAF")
            .message()
            .find("is not valid UTF-8 (byte 0xc0 at offset 0)") != std::string::npos);
  CHECK(validate_key("param", "a\xED\xA0\x80")
            .message()
            .find("is not valid UTF-8 (byte 0xed at offset 1)") != std::string::npos);
}

TEST_CASE("validation: lengths count characters, not bytes") {
  CHECK(validate_key("metric", repeat("é", 250)).ok());  // 500 bytes
  CHECK(validate_key("metric", repeat("é", 251)).message() ==
        "metric key '" + repeat("é", 60) +
            "...' is 251 characters long; MLflow allows at most 250");
  CHECK(mlflow::validate_param("k", repeat("€", 6000)).ok());
  CHECK(mlflow::validate_param("k", repeat("€", 6001)).message() ==
        "param 'k' value is 6001 characters long; MLflow allows at most 6000");
  CHECK(mlflow::validate_tag("k", repeat("中", 8000)).ok());
  CHECK_FALSE(mlflow::validate_tag("k", repeat("中", 8001)).ok());
  CHECK(mlflow::validate_experiment_name(repeat("ß", 500)).ok());
  CHECK_FALSE(mlflow::validate_experiment_name(repeat("ß", 501)).ok());
}

TEST_CASE("validation: experiment tags allow 20000-character values") {
  CHECK(mlflow::validate_experiment_tag("note", std::string(20000, 'v')).ok());
  CHECK(mlflow::validate_experiment_tag("note", std::string(20001, 'v')).message() ==
        "experiment tag 'note' value is 20001 characters long; MLflow allows at most 20000");
  CHECK(mlflow::validate_experiment_tag("a//b", "v").code() == StatusCode::kInvalidArgument);
}

// posixpath.normpath(name) must give name back, not '.', and start with neither '..' nor '/'.
TEST_CASE("validation: path-like keys as MLflow's path_not_unique judges them") {
  for (const char* k : {"a", ".a", "a.", "a..b", "a/.b", "a/b.", "a/b"})
    CHECK_MESSAGE(validate_key("tag", k).ok(), k);
  for (const char* k : {".", "..", "...", "..a", "./a", "a/.", "a/..", "a/./b", "a/../b", "a//b",
                        "/a", "//a", "a/"}) {
    auto st = validate_key("tag", k);
    CHECK_MESSAGE(st.code() == StatusCode::kInvalidArgument, k);
    CHECK_MESSAGE(st.message().find("is not a normalised relative path") != std::string::npos, k);
  }
}

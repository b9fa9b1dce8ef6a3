// SPDX-License-Identifier: Apache-2.0
// MLflow's key and value rules (mlflow/utils/validation.py, 3.17), applied before sending.
#include "mlflow/validation.h"

#include <fmt/format.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "mlflow/ascii.h"

namespace mlflow {

namespace {
Status invalid(std::string msg) { return Status(StatusCode::kInvalidArgument, std::move(msg)); }

// A code point and where its UTF-8 encoding starts.
struct CodePoint {
  UChar32 c;
  std::size_t offset;
};

// The code points of `s`; U+FFFD stands for each ill-formed sequence (surrogates and overlongs
// included) when `strict` is false, which is what the JSON encoder sends in its place.
StatusOr<std::vector<CodePoint>> decode(const std::string& s, bool strict) {
  std::vector<CodePoint> out;
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const auto length = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < length;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) {
      if (strict)
        return invalid(
            fmt::format("is not valid UTF-8 (byte {:#04x} at offset {})", bytes[start], start));
      c = 0xFFFD;
    }
    out.push_back({c, static_cast<std::size_t>(start)});
  }
  return out;
}

// Python's `\w` on str: str.isalnum() or '_'. isalnum is isalpha (general category L*) or a numeric
// value (Numeric_Type Decimal, Digit or Numeric, Unihan's included), hence No and Nl count too:
// ICU's u_isalnum (L* and Nd only) would refuse '²' and 'Ⅻ', which MLflow accepts.
bool is_python_word(UChar32 c) {
  return c == '_' || u_isalpha(c) || u_getIntPropertyValue(c, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
}

// MLflow's name regex `^[/\w.\- :]*$` (colon refused only on Windows servers).
bool key_char_ok(UChar32 c) {
  return is_python_word(c) || c == '/' || c == '.' || c == '-' || c == ' ' || c == ':';
}

// "'€' (U+20AC EURO SIGN)": the character as it is when it prints, with its code point and name.
std::string describe(const std::string& key, const CodePoint& cp, std::size_t next_offset) {
  char name[128] = {};
  UErrorCode err = U_ZERO_ERROR;
  u_charName(cp.c, U_EXTENDED_CHAR_NAME, name, sizeof name, &err);
  std::string what = fmt::format("U+{:04X}", static_cast<uint32_t>(cp.c));
  if (U_SUCCESS(err) && name[0] != '\0') what += std::string(" ") + name;
  if (!u_isgraph(cp.c)) return what;  // controls, format characters and separators print as nothing
  return "'" + key.substr(cp.offset, next_offset - cp.offset) + "' (" + what + ")";
}

// At most 60 characters of `s` in quotes, ill-formed UTF-8 shown as U+FFFD.
std::string shown(const std::string& s) {
  auto cps = decode(s, false);
  std::string out = "'";
  for (std::size_t i = 0; i < cps->size() && i < 60; ++i) {
    uint8_t buf[U8_MAX_LENGTH];
    int32_t n = 0;
    U8_APPEND_UNSAFE(buf, n, (*cps)[i].c);  // decode() yields only scalar values, at most 4 bytes
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
  }
  return out + (cps->size() > 60 ? "...'" : "'");
}

// MLflow's path_not_unique: posixpath.normpath(name) must be name itself, not '.', and start with
// neither '..' nor '/'. That holds exactly when no '/'-separated component is empty, '.' or '..'
// and the name does not start with '..' ('..x' too) or '/'.
bool path_unique(const std::string& key) {
  if (key.rfind("..", 0) == 0 || key.rfind('/', 0) == 0) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = key.find('/', start);
    const std::string part =
        key.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

// Python's len(): code points.
std::size_t length(const std::string& s) { return decode(s, false)->size(); }

Status check_value_length(const std::string& what, const std::string& key, const std::string& value,
                          std::size_t limit) {
  if (const std::size_t n = length(value); n > limit) {
    return invalid(fmt::format("{} {} value is {} characters long; MLflow allows at most {}", what,
                               shown(key), n, limit));
  }
  return Status();
}
}  // namespace

Status validate_key(const char* kind, const std::string& key) {
  auto decoded = decode(key, true);
  if (!decoded.ok()) {
    return invalid(fmt::format("{} key {} {}", kind, shown(key), decoded.status().message()));
  }
  const std::vector<CodePoint>& cps = *decoded;
  if (cps.empty()) return invalid(std::string(kind) + " key must not be empty");
  // Python's `$` also matches before one final '\n', so MLflow's regex lets a trailing newline
  // through.
  const std::size_t checked = cps.back().c == '\n' ? cps.size() - 1 : cps.size();
  for (std::size_t i = 0; i < checked; ++i) {
    if (!key_char_ok(cps[i].c)) {
      const std::size_t next = i + 1 < cps.size() ? cps[i + 1].offset : key.size();
      return invalid(
          fmt::format("{} key {} contains {}; MLflow allows only letters, numbers, '_', '-', '.', "
                      "' ', '/' and ':' in keys",
                      kind, shown(key), describe(key, cps[i], next)));
    }
  }
  if (!path_unique(key)) {
    return invalid(
        fmt::format("{} key {} is not a normalised relative path (no leading '/' or '..', no '//', "
                    "'.' or '..' component, no trailing '/')",
                    kind, shown(key)));
  }
  if (cps.size() > kMaxKeyLength) {
    return invalid(fmt::format("{} key {} is {} characters long; MLflow allows at most {}", kind,
                               shown(key), cps.size(), kMaxKeyLength));
  }
  return Status();
}

Status validate_param(const std::string& key, const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("param", key));
  return check_value_length("param", key, value, kMaxParamValueLength);
}

Status validate_tag(const std::string& key, const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("tag", key));
  return check_value_length("tag", key, value, kMaxTagValueLength);
}

Status validate_experiment_tag(const std::string& key, const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("experiment tag", key));
  return check_value_length("experiment tag", key, value, kMaxExperimentTagValueLength);
}

Status validate_metric(const std::string& key, long long timestamp_ms) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("metric", key));
  if (timestamp_ms < 0) return invalid("metric " + shown(key) + " has a negative timestamp");
  return Status();
}

Status validate_experiment_name(const std::string& name) {
  if (name.empty()) return invalid("experiment name must not be empty");
  if (const std::size_t n = length(name); n > kMaxExperimentNameLength) {
    return invalid(fmt::format("experiment name is {} characters long; MLflow allows at most {}", n,
                               kMaxExperimentNameLength));
  }
  return Status();
}

Status validate_artifact_path(const std::string& path) {
  if (path.empty()) return Status();
  if (path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos || (path.size() > 1 && path[1] == ':')) {
    return invalid("artifact path '" + path +
                   "' must be relative (no leading '/', no drive, no '\\')");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    std::string part =
        path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part == "..") return invalid("artifact path '" + path + "' must not contain '..'");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return Status();
}

Status validate_alias(const std::string& alias) {
  constexpr std::size_t kMaxAliasLength = 255;
  if (alias.empty()) return invalid("alias must not be empty");
  std::size_t chars = 0;
  for (unsigned char c : alias) {
    if ((c & 0xC0) != 0x80) ++chars;  // count UTF-8 code points, as Python's len()
    if (c < 0x80 && !std::isalnum(c) && c != '_' && c != '-') {
      return invalid("alias '" + alias + "' may only contain letters, digits, '_' and '-'");
    }
  }
  if (chars > kMaxAliasLength) {
    return invalid(fmt::format("alias is {} characters long; MLflow allows at most {}", chars,
                               kMaxAliasLength));
  }
  const std::string lower = ascii_lower(alias);
  if (lower == "latest") {
    return invalid("alias '" + alias +
                   "' is reserved by MLflow (models:/NAME/latest); choose another, e.g. champion");
  }
  if (lower.size() > 1 && lower[0] == 'v' &&
      std::all_of(lower.begin() + 1, lower.end(),
                  [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return invalid(
        "alias '" + alias +
        "' is reserved by MLflow: v<number> names a version; choose another, e.g. champion");
  }
  return Status();
}

}  // namespace mlflow

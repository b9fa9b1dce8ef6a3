// SPDX-License-Identifier: Apache-2.0
// URL parsing, encoding and redaction (private).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::detail {

struct ParsedUrl {
  std::string scheme;             ///< lower case, e.g. "http"
  std::string userinfo;           ///< "user:pass" if present (never printed)
  std::string host;               ///< without brackets for IPv6
  int port = 0;                   ///< 0 when absent
  std::string path;               ///< starts with '/' or is empty
  std::string query;              ///< without '?'
  std::string authority() const;  ///< host[:port], IPv6 in brackets, no userinfo
};

/// Parses "scheme://[userinfo@]host[:port][/path][?query]" or "scheme:/path" (no authority).
StatusOr<ParsedUrl> parse_url(const std::string& url);

/// Percent-encodes everything except RFC 3986 unreserved characters (and '/' when keep_slash).
std::string url_encode(const std::string& s, bool keep_slash = false);

/// "a=1&b=x%20y" from ordered pairs (repeat a key for repeated fields).
std::string build_query(const std::vector<std::pair<std::string, std::string>>& params);

/// The URL with any userinfo and query removed: safe for logs and error messages.
std::string redact_url(const std::string& url);

/// True when `a` and `b` name the same server address: scheme, host (any case), port (80/443 when
/// absent) and path (trailing '/' ignored); userinfo and query do not count. Only the address:
/// two names of one machine, or a proxy in front of it, compare different.
bool same_server(const std::string& a, const std::string& b);

/// Joins path pieces with single '/', dropping empty pieces and collapsing duplicate slashes.
std::string join_path(const std::vector<std::string>& parts);

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// URL parsing, encoding and redaction.
#include "url.h"

#include <cctype>
#include <cstdlib>

#include "mlflow/ascii.h"

namespace mlflow::detail {

std::string ParsedUrl::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port ? h + ":" + std::to_string(port) : h;
}

StatusOr<ParsedUrl> parse_url(const std::string& url) {
  ParsedUrl out;
  auto colon = url.find(':');
  if (colon == std::string::npos || colon == 0) {
    return Status(StatusCode::kInvalidArgument, "not a URI (no scheme): '" + redact_url(url) + "'");
  }
  for (size_t i = 0; i < colon; ++i) {
    char c = url[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return Status(StatusCode::kInvalidArgument,
                    "not a URI (bad scheme): '" + redact_url(url) + "'");
    }
  }
  out.scheme = ascii_lower(url.substr(0, colon));
  std::string rest = url.substr(colon + 1);
  if (rest.rfind("//", 0) == 0) {
    rest = rest.substr(2);
    auto end = rest.find_first_of("/?");
    std::string auth = rest.substr(0, end);
    rest = end == std::string::npos ? "" : rest.substr(end);
    auto at = auth.rfind('@');
    if (at != std::string::npos) {
      out.userinfo = auth.substr(0, at);
      auth = auth.substr(at + 1);
    }
    std::string port_str;
    if (!auth.empty() && auth[0] == '[') {
      auto close = auth.find(']');
      if (close == std::string::npos) {
        return Status(StatusCode::kInvalidArgument,
                      "bad IPv6 host in URI '" + redact_url(url) + "'");
      }
      out.host = auth.substr(1, close - 1);
      if (close + 1 < auth.size() && auth[close + 1] == ':') port_str = auth.substr(close + 2);
    } else {
      auto pc = auth.rfind(':');
      out.host = auth.substr(0, pc);
      if (pc != std::string::npos) port_str = auth.substr(pc + 1);
    }
    if (!port_str.empty()) {
      char* e = nullptr;
      long p = std::strtol(port_str.c_str(), &e, 10);
      if (*e != '\0' || p <= 0 || p > 65535) {
        return Status(StatusCode::kInvalidArgument,
                      "bad port '" + port_str + "' in URI '" + redact_url(url) + "'");
      }
      out.port = static_cast<int>(p);
    }
  }
  auto q = rest.find('?');
  out.path = rest.substr(0, q);
  if (q != std::string::npos) out.query = rest.substr(q + 1);
  return out;
}

std::string url_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string build_query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += url_encode(k) + "=" + url_encode(v);
  }
  return out;
}

std::string redact_url(const std::string& url) {
  std::string out = url.substr(0, url.find('?'));
  auto scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    auto auth_start = scheme_end + 3;
    auto path_start = out.find('/', auth_start);
    auto at = out.rfind('@', path_start == std::string::npos ? std::string::npos : path_start);
    if (at != std::string::npos && at >= auth_start) out.erase(auth_start, at + 1 - auth_start);
  }
  return out;
}

bool same_server(const std::string& a, const std::string& b) {
  auto pa = parse_url(a), pb = parse_url(b);
  if (!pa.ok() || !pb.ok()) return redact_url(a) == redact_url(b);
  auto key = [](const ParsedUrl& u) {
    std::string host = ascii_lower(u.host);
    int port = u.port;
    if (port == 0) port = u.scheme == "https" ? 443 : u.scheme == "http" ? 80 : 0;
    std::string path = u.path;
    while (!path.empty() && path.back() == '/') path.pop_back();
    return u.scheme + "://" + host + ":" + std::to_string(port) + path;
  };
  return key(*pa) == key(*pb);
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty() && out.back() != '/') out += '/';
    out += p;
  }
  std::string collapsed;
  for (char c : out) {
    if (c == '/' && !collapsed.empty() && collapsed.back() == '/') continue;
    collapsed += c;
  }
  return collapsed;
}

}  // namespace mlflow::detail

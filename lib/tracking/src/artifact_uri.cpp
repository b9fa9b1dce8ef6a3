// SPDX-License-Identifier: Apache-2.0
// Artifact root URIs to artifact-proxy URLs, path normalisation and MIME guessing.
#include "artifact_uri.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "mlflow/ascii.h"
#include "mlflow/validation.h"
#include "url.h"

namespace mlflow::detail {

namespace {

constexpr const char* kProxyPath = "/api/2.0/mlflow-artifacts/artifacts";
constexpr const char* kProxyMarker = "/mlflow-artifacts/artifacts";

std::string collapse_slashes(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  return out;
}

std::string trim_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  size_t start = s.find_first_not_of('/');
  return start == std::string::npos ? std::string() : s.substr(start);
}

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

std::string url_decode(const std::string& s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

StatusOr<ArtifactRoot> resolve_artifact_root(const std::string& artifact_uri,
                                             const std::string& tracking_base_url) {
  if (artifact_uri.empty()) {
    return Status(StatusCode::kInvalidArgument, "artifact URI must not be empty");
  }
  if (artifact_uri.front() == '/') {
    return Status(
        StatusCode::kUnimplemented,
        fmt::format("artifact URI '{}' is a local path on the server's file system; the MLflow "
                    "server does not proxy that store (start it with --serve-artifacts and no "
                    "--default-artifact-root, or write to the store directly)",
                    artifact_uri));
  }
  auto uri = parse_url(artifact_uri);
  if (!uri.ok()) return uri.status();
  const std::string& scheme = uri->scheme;

  if (scheme == "http" || scheme == "https") {
    if (uri->host.empty()) {
      return Status(StatusCode::kInvalidArgument,
                    "artifact URI '" + redact_url(artifact_uri) + "' has no host");
    }
    ArtifactRoot root;
    std::string no_query = artifact_uri.substr(0, artifact_uri.find('?'));
    while (!no_query.empty() && no_query.back() == '/') no_query.pop_back();
    root.files_url = no_query;
    auto marker = uri->path.find(kProxyMarker);
    if (marker != std::string::npos) {
      std::string prefix = uri->path.substr(0, marker + std::string(kProxyMarker).size());
      root.list_url = scheme + "://" + uri->authority() + prefix;
      root.list_path = trim_slashes(collapse_slashes(url_decode(uri->path.substr(prefix.size()))));
    }
    return root;
  }

  if (scheme == "mlflow-artifacts") {
    if (all_digits(uri->host) && uri->port == 0) {
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("artifact URI '{}' gives a port number ({}) but no host",
                                artifact_uri, uri->host));
    }
    auto tracking = parse_url(tracking_base_url);
    if (!tracking.ok()) return tracking.status();
    if (tracking->scheme != "http" && tracking->scheme != "https") {
      return Status(StatusCode::kInvalidArgument,
                    "mlflow-artifacts URIs need an http(s) tracking URI, not '" +
                        redact_url(tracking_base_url) + "'");
    }
    std::string authority = uri->host.empty() ? tracking->authority() : uri->authority();
    std::string endpoint = collapse_slashes(tracking->path + kProxyPath);
    ArtifactRoot root;
    root.list_url = tracking->scheme + "://" + authority + endpoint;
    root.list_path = trim_slashes(collapse_slashes(url_decode(uri->path)));
    root.files_url = root.list_path.empty()
                         ? root.list_url
                         : root.list_url + "/" + url_encode(root.list_path, true);
    return root;
  }

  if (scheme == "runs" || scheme == "models") {
    return Status(
        StatusCode::kInvalidArgument,
        fmt::format("artifact URI '{}' names artifacts indirectly; resolve it to the {}'s "
                    "artifact location first (the *_to/*_at/*_from calls do this)",
                    artifact_uri, scheme == "runs" ? "run" : "model"));
  }
  return Status(
      StatusCode::kUnimplemented,
      fmt::format("artifact URI '{}' uses the '{}' store, which the MLflow server does not "
                  "proxy; mlflow-cpp reaches artifacts only through the server's artifact "
                  "proxy (mlflow-artifacts:/ or http(s):// roots)",
                  redact_url(artifact_uri), scheme));
}

StatusOr<std::string> normalize_artifact_path(const std::string& path, const char* what) {
  Status st = validate_artifact_path(path);
  if (st.ok() && path.find('#') != std::string::npos) {
    // The server's validate_path_is_safe refuses '#'; failing here keeps a tree upload
    // all-or-nothing.
    st = Status(StatusCode::kInvalidArgument,
                "artifact path '" + path + "' contains '#', which the MLflow server refuses");
  }
  if (!st.ok()) return what ? st.with_context(what) : st;
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

StatusOr<std::string> checked_listed_path(const std::string& dir, const std::string& listed,
                                          bool relative_to_dir) {
  auto unsafe = [&](const std::string& why) {
    return Status(
        StatusCode::kInternal,
        fmt::format("server listed an unsafe artifact path '{}' under '{}': {}", listed, dir, why));
  };
  auto norm = normalize_artifact_path(listed);
  if (!norm.ok()) return unsafe(norm.status().message());
  if (norm->empty()) return unsafe("empty path");
  if (relative_to_dir) return join_artifact_path(dir, *norm);
  if (!dir.empty() && (norm->size() <= dir.size() + 1 || norm->compare(0, dir.size(), dir) != 0 ||
                       (*norm)[dir.size()] != '/')) {
    return unsafe("outside the listed directory");
  }
  return *norm;
}

std::string join_artifact_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (name.empty()) return dir;
  return dir + "/" + name;
}

std::string artifact_file_url(const ArtifactRoot& root, const std::string& relative_path) {
  if (relative_path.empty()) return root.files_url;
  return root.files_url + "/" + url_encode(relative_path, /*keep_slash=*/true);
}

std::string guess_content_type(const std::string& file_name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {"txt", "text/plain"},
      {"log", "text/plain"},
      {"md", "text/markdown"},
      {"csv", "text/csv"},
      {"tsv", "text/tab-separated-values"},
      {"html", "text/html"},
      {"htm", "text/html"},
      {"xml", "application/xml"},
      {"json", "application/json"},
      {"yaml", "application/yaml"},
      {"yml", "application/yaml"},
      {"py", "text/x-python"},
      {"js", "text/javascript"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"bmp", "image/bmp"},
      {"svg", "image/svg+xml"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"mp3", "audio/mpeg"},
      {"wav", "audio/x-wav"},
      {"mp4", "video/mp4"},
  };
  auto slash = file_name.rfind('/');
  std::string base = slash == std::string::npos ? file_name : file_name.substr(slash + 1);
  auto dot = base.rfind('.');
  if (dot == std::string::npos || dot == 0) return "application/octet-stream";
  const std::string ext = ascii_lower(base.substr(dot + 1));
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

}  // namespace mlflow::detail

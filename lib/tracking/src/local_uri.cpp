// SPDX-License-Identifier: Apache-2.0
// Which tracking URIs mean a remote server and which mean local mode over a SQLite file.
#include "local_uri.h"

#include <cctype>
#include <filesystem>

#include "mlflow/ascii.h"
#include "url.h"

namespace mlflow::detail {

namespace {

constexpr const char* kSupported =
    "supported are http:// or https:// (a tracking server), sqlite:///relative.db or "
    "sqlite:////absolute/path.db (local mode), or an empty URI (local mode over ./mlflow.db)";

// The scheme in lower case, or empty when `uri` does not start with one (a plain path).
std::string scheme_of(const std::string& uri) {
  auto colon = uri.find(':');
  if (colon == std::string::npos || colon == 0) return {};
  for (size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(uri[i]);
    bool ok = std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) return {};
  }
  return ascii_lower(uri.substr(0, colon));
}

Status invalid(const std::string& what) { return Status(StatusCode::kInvalidArgument, what); }

}  // namespace

StatusOr<TrackingTarget> resolve_tracking_uri(const std::string& uri,
                                              const std::string& working_dir) {
  namespace fs = std::filesystem;
  TrackingTarget target;
  if (uri.empty()) {
    target.local = true;
    target.db_path = (fs::path(working_dir) / "mlflow.db").lexically_normal().string();
    return target;
  }
  const std::string scheme = scheme_of(uri);
  if (scheme == "http" || scheme == "https") return target;
  const std::string shown = redact_url(uri);
  if (scheme == "sqlite") {
    const std::string prefix = "sqlite:///";
    if (uri.compare(scheme.size(), 4, ":///") != 0) {
      return invalid("tracking URI '" + shown +
                     "' names no SQLite file (an in-memory or host-qualified SQLite URI cannot be "
                     "shared with a server); " +
                     kSupported);
    }
    std::string path = uri.substr(prefix.size());
    if (path.find('?') != std::string::npos) {
      return invalid("tracking URI '" + shown +
                     "': query parameters are not supported in local mode");
    }
    if (path.empty() || path == ":memory:" || path.back() == '/') {
      return invalid("tracking URI '" + shown + "' names no SQLite file; " + kSupported);
    }
    fs::path p(path);
    if (p.is_relative()) p = fs::path(working_dir) / p;
    target.local = true;
    target.db_path = p.lexically_normal().string();
    return target;
  }
  if (scheme.empty() || scheme == "file") {
    return invalid(
        "tracking URI '" + shown + "' " + (scheme.empty() ? "is a local path, i.e. " : "uses ") +
        "MLflow's deprecated file store (scheme 'file'), which mlflow-cpp does not "
        "write; " +
        kSupported + " (old ./mlruns data can be moved with `mlflow migrate-filestore`)");
  }
  return invalid("unsupported tracking URI scheme '" + scheme + "' in '" + shown + "'; " +
                 kSupported);
}

}  // namespace mlflow::detail

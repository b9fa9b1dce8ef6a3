// SPDX-License-Identifier: Apache-2.0
// Which tracking URIs mean a remote server and which mean local mode over a SQLite file (private).
#pragma once

#include <string>

#include "mlflow/status.h"

namespace mlflow::detail {

/// Where a tracking URI points.
struct TrackingTarget {
  bool local = false;   ///< true: local mode over db_path; false: an http(s) server at the URI
  std::string db_path;  ///< absolute path of the SQLite file (local mode only)
};

/// Classifies `uri` as MLflow's client does, restricted to what mlflow-cpp supports:
///  - http://, https:// → remote;
///  - empty → local, <working_dir>/mlflow.db (MLflow's default store since 3.7);
///  - sqlite:///rel.db → local, relative to working_dir; sqlite:////abs.db → local, absolute
///    (SQLAlchemy's convention: the path is whatever follows the third slash);
///  - anything else (file:, a bare ./mlruns path, s3:, postgresql:, in-memory SQLite, ...) →
///    kInvalidArgument naming the scheme and listing the supported ones.
/// `working_dir` must be absolute.
StatusOr<TrackingTarget> resolve_tracking_uri(const std::string& uri,
                                              const std::string& working_dir);

}  // namespace mlflow::detail

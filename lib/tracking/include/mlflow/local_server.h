// SPDX-License-Identifier: Apache-2.0
// Local mode: the embedded default. Resolves a tracking URI to a client, starting (or reusing) the
// real MLflow server over a SQLite database when the URI is unset or sqlite:///.
#pragma once

#include <chrono>
#include <string>

#include "mlflow/client.h"
#include "mlflow/options.h"
#include "mlflow/status.h"

namespace mlflow {

/// How local mode finds and runs the MLflow server.
struct LocalServerOptions {
  /// Directory holding the state file (.mlflow-cpp/) and mlartifacts/; default: current directory.
  std::string working_dir;
  /// Path of the `mlflow` executable; default: $MLFLOW_CPP_SERVER_EXE, then PATH, then the project's
  /// venv (mlflow/.venv/bin/mlflow next to the source tree this library was built from).
  std::string server_exe;
  std::chrono::milliseconds startup_timeout{180'000};
};

/// A client for `options.tracking_uri`:
///  - http:// or https:// → that server;
///  - empty or sqlite:///path.db → a local MLflow server over that database (default ./mlflow.db,
///    artifacts in ./mlartifacts), started on a free loopback port or reused if one is already
///    serving the same database; MLFLOW_TRACKING_URI is set to its address for child processes; the
///    server is stopped at exit by the last process of this library using it;
///  - anything else → kInvalidArgument naming the scheme.
/// kFailedPrecondition when no mlflow executable is found (the message says how to install one).
StatusOr<MlflowClient> connect(const ClientOptions& options, ClientDeps deps = {},
                               const LocalServerOptions& local = {});

/// connect() with ClientOptions::from_env().
StatusOr<MlflowClient> connect_from_env();

}  // namespace mlflow

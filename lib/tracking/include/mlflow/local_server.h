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
  /// Directory that relative sqlite:/// paths resolve against and that holds mlartifacts/ and the
  /// local-mode state (.mlflow-cpp/); default: the current directory.
  std::string working_dir;
  /// Path (or name on $PATH) of the `mlflow` executable (from_env(): $MLFLOW_CPP_SERVER_EXE);
  /// default: `mlflow` on $PATH, then mlflow/.venv/bin/mlflow in the nearest ancestor directory of
  /// the running program (the venv cmake/install-deps.sh makes, for programs built inside the
  /// checkout).
  std::string server_exe;
  /// How long a newly started server may take to answer GET /health (the first start over a new
  /// database runs MLflow's schema migrations and takes several seconds).
  std::chrono::milliseconds startup_timeout{180'000};

  /// Options from MLFLOW_CPP_SERVER_EXE (server_exe), defaults otherwise; read through `env`
  /// (empty: the process's environment). kFailedPrecondition naming the variable when it names no
  /// executable file. The library reads no variable itself: this is for programs' edges.
  static StatusOr<LocalServerOptions> from_env(const ClientOptions::EnvLookup& env = {});
};

/// A client for `options.tracking_uri`:
///  - http:// or https:// → that server (MlflowClient::make);
///  - empty, sqlite:///relative.db or sqlite:////absolute/path.db (SQLAlchemy's convention, as
///    MLflow uses it) → local mode: the real MLflow server over that database (default:
///    ./mlflow.db), with artifacts proxied to `<working_dir>/mlartifacts`, on a free 127.0.0.1
///    port. `mlflow ui` run in the working directory afterwards shows the same runs and artifacts
///    (with no flags for ./mlflow.db; with `--backend-store-uri <the same URI>` for another
///    database);
///  - anything else (file:, a ./mlruns path, s3:, postgresql:, ...) → kInvalidArgument naming the
///    scheme and listing the supported ones.
///
/// Local mode shares one server per database among processes: a server already started by this
/// library for the same database (recorded in
/// `<working_dir>/.mlflow-cpp/<db file name>-<hash>/server.json`, its output in server.log there)
/// is reused when its process is alive and /health answers; otherwise one is started under an
/// flock, so concurrent processes never start two. Each process registers itself there; at normal
/// exit (std::exit / return from main) it deregisters, and the last live process stops the server
/// (SIGTERM to its process group, SIGKILL after 10 s). A process killed by a signal leaves the
/// server running; the next local-mode process reuses it and stops it in turn. Servers started any
/// other way are never stopped.
///
/// On success MLFLOW_TRACKING_URI is set (setenv) to the server's `http://127.0.0.1:<port>` so that
/// child processes log to the same server; they connect over http and never stop it, so the parent
/// should outlive them. Because of setenv, call this before starting threads that read the
/// environment.
///
/// Errors: kInvalidArgument (unsupported URI); kFailedPrecondition when no mlflow executable is
/// found (the message says how to install one) or the state directory cannot be written;
/// kUnavailable when the server exits during startup (the message holds the end of its log) or a
/// running one does not answer /health; kDeadlineExceeded when it does not answer within
/// startup_timeout.
///
/// Thread-safety: may be called from several threads and processes at once (local-mode calls within
/// a process run one at a time).
StatusOr<MlflowClient> connect(const ClientOptions& options, ClientDeps deps = {},
                               const LocalServerOptions& local = {});

/// connect() with ClientOptions::from_env() and LocalServerOptions::from_env(): local mode over
/// the database mlflow.db in the working directory when MLFLOW_TRACKING_URI is unset.
/// kInvalidArgument when an MLFLOW_* variable does not parse; kFailedPrecondition when
/// MLFLOW_CPP_SERVER_EXE is not an executable; other errors as connect() returns them.
StatusOr<MlflowClient> connect_from_env();

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
// ActiveRun: the run API for trainers. Starts (or resumes) a run, logs to it, ends it exactly once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "mlflow/client.h"
#include "mlflow/options.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow {

/// What run to start. Explicit fields win over the environment (MLFLOW_EXPERIMENT_ID,
/// MLFLOW_EXPERIMENT_NAME, MLFLOW_RUN_ID), which wins over the defaults.
struct RunOptions {
  std::string experiment_name;  ///< created when missing; used when experiment_id is empty
  std::string experiment_id;    ///< the experiment's id; wins over experiment_name
  std::string run_name;         ///< display name (empty: MLflow generates one)
  Tags tags;                    ///< extra tags, set at creation
  std::string parent_run_id;    ///< sets mlflow.parentRunId (a nested run)
  std::string run_id;           ///< resume this run instead of creating one
  std::string source_name;      ///< mlflow.source.name; default: the executable's path

  /// Fills empty fields from MLFLOW_EXPERIMENT_ID / MLFLOW_EXPERIMENT_NAME / MLFLOW_RUN_ID.
  RunOptions with_env_defaults(const ClientOptions::EnvLookup& env = {}) const;
};

/// A run being logged to. Move-only; ends itself when destroyed: FINISHED normally, FAILED when
/// destroyed while an exception propagates. Every logging call validates keys client-side first and
/// returns kInvalidArgument without sending anything when they break MLflow's rules.
///
/// Thread-safety: logging calls may be made from several threads; end() should be called once.
class ActiveRun {
 public:
  /// Creates a run (or resumes options.run_id) with the system tags mlflow.user,
  /// mlflow.source.name, mlflow.source.type=LOCAL, mlflow.source.git.commit (inside a git checkout)
  /// and mlflow.runName.
  static StatusOr<ActiveRun> start(MlflowClient client, RunOptions options = {});
  /// Attaches to an existing run (must not be deleted); the run is set RUNNING again if it had
  /// ended.
  static StatusOr<ActiveRun> resume(MlflowClient client, const std::string& run_id);

  /// Takes over `other`'s run; `other` is then ended and does nothing.
  ActiveRun(ActiveRun&& other) noexcept;
  /// Ends this run (FINISHED) if it has not ended, then takes over `other`'s run.
  ActiveRun& operator=(ActiveRun&& other) noexcept;
  ActiveRun(const ActiveRun&) = delete;
  ActiveRun& operator=(const ActiveRun&) = delete;
  ~ActiveRun();

  /// The run's id.
  const std::string& id() const { return info_.run_id; }
  /// The id of the run's experiment.
  const std::string& experiment_id() const { return info_.experiment_id; }
  /// The run's metadata as of start (or resume).
  const RunInfo& info() const { return info_; }
  /// The client this run logs through.
  MlflowClient& client() { return client_; }

  /// A nested run of this one (mlflow.parentRunId = id()), in the same experiment unless set.
  StatusOr<ActiveRun> start_child(RunOptions options = {});

  /// Logs one parameter.
  Status log_param(const std::string& key, const std::string& value);
  /// Logs parameters in one log-batch request.
  Status log_params(const std::map<std::string, std::string>& params);
  /// Timestamp taken now, at the call.
  Status log_metric(const std::string& key, double value, std::int64_t step = 0);
  /// Logs metrics at one step and one timestamp (now) in one log-batch request.
  Status log_metrics(const std::map<std::string, double>& metrics, std::int64_t step = 0);
  /// Sets (or overwrites) one tag.
  Status set_tag(const std::string& key, const std::string& value);
  /// Sets tags in one log-batch request.
  Status set_tags(const std::map<std::string, std::string>& tags);

  /// Uploads a file into `artifact_path` (a relative directory, empty = root).
  Status log_artifact(const std::string& local_file, const std::string& artifact_path = {});
  /// Uploads a directory tree into `artifact_path`.
  Status log_artifacts(const std::string& local_dir, const std::string& artifact_path = {});
  /// Writes `text` as the artifact file `artifact_file` (e.g. "notes/summary.txt").
  Status log_text(const std::string& text, const std::string& artifact_file);
  /// Writes JSON text (checked to parse) as `artifact_file`, pretty-printed.
  Status log_json(const std::string& json_text, const std::string& artifact_file);

  /// Ends the run with `status` and the current time. Idempotent: later calls return ok and do
  /// nothing.
  Status end(RunStatus status = RunStatus::kFinished);
  /// True once end() was called (or the run was moved from).
  bool ended() const { return ended_; }

 private:
  ActiveRun(MlflowClient client, RunInfo info);
  MlflowClient client_;
  RunInfo info_;
  bool ended_ = false;
  int uncaught_at_start_ = 0;
};

}  // namespace mlflow

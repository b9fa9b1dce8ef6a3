// SPDX-License-Identifier: Apache-2.0
// MLflow entities as plain C++ values (experiments, runs, metrics, artifacts, registry, logged
// models).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlflow {

/// Milliseconds since the Unix epoch, as MLflow stores timestamps.
using TimestampMs = std::int64_t;

/// Wall-clock now in ms since the epoch.
TimestampMs now_ms();

/// A run's lifecycle status, as MLflow's RunStatus enum.
enum class RunStatus { kRunning, kScheduled, kFinished, kFailed, kKilled };
/// MLflow's name of a status: "RUNNING", "SCHEDULED", "FINISHED", "FAILED" or "KILLED".
const char* to_string(RunStatus status) noexcept;
/// Parses "RUNNING", "FINISHED", ... (case-sensitive, MLflow's enum names).
std::optional<RunStatus> parse_run_status(const std::string& name);

/// Which experiments or runs a search returns, by lifecycle stage.
enum class ViewType { kActiveOnly, kDeletedOnly, kAll };
/// MLflow's name of a view type: "ACTIVE_ONLY", "DELETED_ONLY" or "ALL".
const char* to_string(ViewType view) noexcept;

/// A key/value pair as MLflow sends tags and params.
struct KeyValue {
  std::string key;    ///< tag or param key
  std::string value;  ///< its value
  /// Equal when key and value are.
  bool operator==(const KeyValue& o) const { return key == o.key && value == o.value; }
};
/// Tags as MLflow sends them: in order, keys may repeat (find_value() takes the last).
using Tags = std::vector<KeyValue>;

/// Value of `key` in `kvs`, if present (the last one wins).
std::optional<std::string> find_value(const std::vector<KeyValue>& kvs, const std::string& key);

/// One value of a metric at a step.
struct Metric {
  std::string key;     ///< metric name
  double value = 0.0;  ///< NaN and +-Inf allowed (the SQL store reads +-Inf back as +-DBL_MAX)
  TimestampMs timestamp = 0;   ///< when the value was measured (ms since the epoch)
  std::int64_t step = 0;       ///< training step (MLflow's default is 0)
  std::string model_id;        ///< optional: links the value to a logged model
  std::string dataset_name;    ///< optional
  std::string dataset_digest;  ///< optional
  std::string run_id;          ///< filled in by bulk history responses only
};

/// A run parameter (params are written once and never change).
struct Param {
  std::string key;    ///< parameter name
  std::string value;  ///< its value, as text
};

/// An MLflow experiment.
struct Experiment {
  std::string experiment_id;         ///< server-assigned id
  std::string name;                  ///< unique name
  std::string artifact_location;     ///< root under which its runs' artifacts are stored
  std::string lifecycle_stage;       ///< "active" or "deleted"
  TimestampMs creation_time = 0;     ///< ms since the epoch
  TimestampMs last_update_time = 0;  ///< ms since the epoch
  Tags tags;                         ///< experiment tags
};

/// A run's metadata (RunData holds what was logged).
struct RunInfo {
  std::string run_id;         ///< server-assigned id
  std::string run_name;       ///< display name (MLflow generates one when none is given)
  std::string experiment_id;  ///< the experiment the run belongs to
  std::string user_id;        ///< the user who created the run
  RunStatus status = RunStatus::kRunning;  ///< lifecycle status
  TimestampMs start_time = 0;              ///< ms since the epoch
  std::optional<TimestampMs> end_time;  ///< ms since the epoch; unset while the run has not ended
  std::string artifact_uri;             ///< root URI of the run's artifacts
  std::string lifecycle_stage;          ///< "active" or "deleted"
};

/// What was logged to a run.
struct RunData {
  std::vector<Metric> metrics;  ///< latest value of each metric
  std::vector<Param> params;    ///< parameters
  Tags tags;                    ///< tags (system tags such as mlflow.user included)
};

/// A data set as MLflow's dataset inputs describe it.
struct Dataset {
  std::string name;         ///< display name
  std::string digest;       ///< content digest that tells versions apart
  std::string source_type;  ///< e.g. "local", "http", "code"
  std::string source;       ///< JSON text describing the source, e.g. {"uri": "/data/x"}
  std::string schema;       ///< optional JSON text
  std::string profile;      ///< optional JSON text
};

/// A data set used by a run, with its context tags.
struct DatasetInput {
  Dataset dataset;  ///< the data set
  Tags tags;        ///< e.g. {"mlflow.data.context", "training"}
};

/// A logged model produced by a run (MLflow 3 run output).
struct ModelOutput {
  std::string model_id;   ///< the logged model's id
  std::int64_t step = 0;  ///< training step at which the model was produced
};

/// A run as get_run and search_runs return it.
struct Run {
  RunInfo info;                              ///< metadata
  RunData data;                              ///< metrics, params and tags
  std::vector<DatasetInput> dataset_inputs;  ///< data sets the run used
  std::vector<std::string> model_inputs;     ///< model ids
  std::vector<ModelOutput> model_outputs;    ///< logged models the run produced
};

/// One entry of an artifact listing.
struct FileInfo {
  std::string path;            ///< relative to the listed root
  bool is_dir = false;         ///< true for a directory
  std::int64_t file_size = 0;  ///< 0 for directories
};

/// One page of a paged search and the token for the next one (empty when there is none).
template <typename T>
struct Page {
  std::vector<T> items;         ///< this page's entities
  std::string next_page_token;  ///< pass as SearchOptions::page_token for the next page
};

/// Common search arguments.
struct SearchOptions {
  std::string filter;  ///< MLflow search filter, e.g. "metrics.accuracy > 0.9" (empty: all)
  std::vector<std::string> order_by;  ///< e.g. "metrics.accuracy DESC"
  int max_results = 1000;             ///< page size
  std::string page_token;  ///< the next_page_token of the previous page (empty: first page)
};

// ---- model registry -------------------------------------------------------------------------

/// A registered model's alias and the version it points at.
struct ModelAlias {
  std::string alias;    ///< alias name, e.g. "champion"
  std::string version;  ///< version number, as text
};

/// A version of a registered model.
struct ModelVersion {
  std::string name;                        ///< registered model name
  std::string version;                     ///< version number, as text ("1", "2", ...)
  TimestampMs creation_timestamp = 0;      ///< ms since the epoch
  TimestampMs last_updated_timestamp = 0;  ///< ms since the epoch
  std::string user_id;                     ///< the user who created the version
  std::string current_stage;         ///< legacy stage ("None", "Staging", "Production", "Archived")
  std::string description;           ///< free text
  std::string source;                ///< where the version's files were registered from
  std::string run_id;                ///< the run that produced it, if any
  std::string status;                ///< PENDING_REGISTRATION, FAILED_REGISTRATION or READY
  std::string status_message;        ///< why registration failed, if it did
  Tags tags;                         ///< version tags
  std::string run_link;              ///< the run's URL as given at registration (usually empty)
  std::vector<std::string> aliases;  ///< aliases pointing at this version
  std::string model_id;              ///< MLflow 3 logged model id, if the version comes from one
};

/// A registered model in the model registry.
struct RegisteredModel {
  std::string name;                           ///< unique name
  TimestampMs creation_timestamp = 0;         ///< ms since the epoch
  TimestampMs last_updated_timestamp = 0;     ///< ms since the epoch
  std::string user_id;                        ///< the user who created it
  std::string description;                    ///< free text
  std::vector<ModelVersion> latest_versions;  ///< latest version per stage
  Tags tags;                                  ///< registered model tags
  std::vector<ModelAlias> aliases;            ///< aliases and their versions
};

/// Arguments for creating a model version (from a run's artifacts or from a logged model).
struct ModelVersionCreate {
  std::string name;         ///< registered model name (created beforehand)
  std::string source;       ///< e.g. "runs:/<run>/model", "models:/<model_id>" or an artifact URI
  std::string run_id;       ///< the run that produced the model (optional)
  std::string model_id;     ///< MLflow 3 logged model id, if the version comes from one
  std::string description;  ///< free text
  Tags tags;                ///< version tags
};

// ---- MLflow 3 logged models -----------------------------------------------------------------

/// Status of an MLflow 3 logged model: pending while its artifacts upload, then ready or failed.
enum class LoggedModelStatus { kUnspecified, kPending, kReady, kUploadFailed };
/// MLflow's name of a status, e.g. "LOGGED_MODEL_READY".
const char* to_string(LoggedModelStatus status) noexcept;

/// An MLflow 3 logged model: a model with its own id, artifacts, params, metrics and tags.
struct LoggedModel {
  std::string model_id;                       ///< server-assigned id ("m-...")
  std::string experiment_id;                  ///< the experiment it belongs to
  std::string name;                           ///< display name
  TimestampMs creation_timestamp_ms = 0;      ///< ms since the epoch
  TimestampMs last_updated_timestamp_ms = 0;  ///< ms since the epoch
  std::string artifact_uri;                   ///< root URI of the model's artifacts
  LoggedModelStatus status = LoggedModelStatus::kUnspecified;  ///< pending, ready or upload failed
  std::string model_type;                                      ///< free text, e.g. "libtorch"
  std::string source_run_id;                                   ///< the run that produced it, if any
  std::string status_message;                                  ///< why the upload failed, if it did
  Tags tags;                                                   ///< model tags
  std::vector<Param> params;                                   ///< model params
  std::vector<Metric> metrics;                                 ///< metrics linked to the model
};

/// Arguments for creating an MLflow 3 logged model.
struct LoggedModelCreate {
  std::string experiment_id;  ///< the experiment to create it in
  std::string name;           ///< optional; the server generates one when empty
  std::string model_type;     ///< free text, e.g. "libtorch"
  std::string source_run_id;  ///< the run that produces it (optional)
  std::vector<Param> params;  ///< model params
  Tags tags;                  ///< model tags
};

}  // namespace mlflow

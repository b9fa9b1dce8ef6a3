// SPDX-License-Identifier: Apache-2.0
// MLflow entities as plain C++ values (experiments, runs, metrics, artifacts, registry, logged models).
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

enum class RunStatus { kRunning, kScheduled, kFinished, kFailed, kKilled };
const char* to_string(RunStatus status) noexcept;
/// Parses "RUNNING", "FINISHED", ... (case-sensitive, MLflow's enum names).
std::optional<RunStatus> parse_run_status(const std::string& name);

enum class ViewType { kActiveOnly, kDeletedOnly, kAll };
const char* to_string(ViewType view) noexcept;

/// A key/value pair as MLflow sends tags and params.
struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue& o) const { return key == o.key && value == o.value; }
};
using Tags = std::vector<KeyValue>;

/// Value of `key` in `kvs`, if present (the last one wins).
std::optional<std::string> find_value(const std::vector<KeyValue>& kvs, const std::string& key);

struct Metric {
  std::string key;
  double value = 0.0;   ///< NaN and +-Inf allowed (the SQL store reads +-Inf back as +-DBL_MAX)
  TimestampMs timestamp = 0;
  std::int64_t step = 0;
  std::string model_id;        ///< optional: links the value to a logged model
  std::string dataset_name;    ///< optional
  std::string dataset_digest;  ///< optional
  std::string run_id;          ///< filled in by bulk history responses only
};

struct Param {
  std::string key;
  std::string value;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage;  ///< "active" or "deleted"
  TimestampMs creation_time = 0;
  TimestampMs last_update_time = 0;
  Tags tags;
};

struct RunInfo {
  std::string run_id;
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  TimestampMs start_time = 0;
  std::optional<TimestampMs> end_time;
  std::string artifact_uri;
  std::string lifecycle_stage;
};

struct RunData {
  std::vector<Metric> metrics;  ///< latest value of each metric
  std::vector<Param> params;
  Tags tags;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;  ///< e.g. "local", "http", "code"
  std::string source;       ///< JSON text describing the source, e.g. {"uri": "/data/x"}
  std::string schema;       ///< optional JSON text
  std::string profile;      ///< optional JSON text
};

struct DatasetInput {
  Dataset dataset;
  Tags tags;  ///< e.g. {"mlflow.data.context", "training"}
};

struct ModelOutput {
  std::string model_id;
  std::int64_t step = 0;
};

struct Run {
  RunInfo info;
  RunData data;
  std::vector<DatasetInput> dataset_inputs;
  std::vector<std::string> model_inputs;  ///< model ids
  std::vector<ModelOutput> model_outputs;
};

struct FileInfo {
  std::string path;  ///< relative to the listed root
  bool is_dir = false;
  std::int64_t file_size = 0;  ///< 0 for directories
};

/// One page of a paged search and the token for the next one (empty when there is none).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

/// Common search arguments.
struct SearchOptions {
  std::string filter;
  std::vector<std::string> order_by;
  int max_results = 1000;
  std::string page_token;
};

// ---- model registry -------------------------------------------------------------------------

struct ModelAlias {
  std::string alias;
  std::string version;
};

struct ModelVersion {
  std::string name;
  std::string version;
  TimestampMs creation_timestamp = 0;
  TimestampMs last_updated_timestamp = 0;
  std::string user_id;
  std::string current_stage;
  std::string description;
  std::string source;
  std::string run_id;
  std::string status;  ///< PENDING_REGISTRATION, FAILED_REGISTRATION or READY
  std::string status_message;
  Tags tags;
  std::string run_link;
  std::vector<std::string> aliases;
  std::string model_id;
};

struct RegisteredModel {
  std::string name;
  TimestampMs creation_timestamp = 0;
  TimestampMs last_updated_timestamp = 0;
  std::string user_id;
  std::string description;
  std::vector<ModelVersion> latest_versions;
  Tags tags;
  std::vector<ModelAlias> aliases;
};

/// Arguments for creating a model version (from a run's artifacts or from a logged model).
struct ModelVersionCreate {
  std::string name;
  std::string source;  ///< e.g. "runs:/<run>/model", "models:/<model_id>" or an artifact URI
  std::string run_id;
  std::string model_id;  ///< MLflow 3 logged model id, if the version comes from one
  std::string description;
  Tags tags;
};

// ---- MLflow 3 logged models -----------------------------------------------------------------

enum class LoggedModelStatus { kUnspecified, kPending, kReady, kUploadFailed };
const char* to_string(LoggedModelStatus status) noexcept;

struct LoggedModel {
  std::string model_id;
  std::string experiment_id;
  std::string name;
  TimestampMs creation_timestamp_ms = 0;
  TimestampMs last_updated_timestamp_ms = 0;
  std::string artifact_uri;
  LoggedModelStatus status = LoggedModelStatus::kUnspecified;
  std::string model_type;
  std::string source_run_id;
  std::string status_message;
  Tags tags;
  std::vector<Param> params;
  std::vector<Metric> metrics;
};

struct LoggedModelCreate {
  std::string experiment_id;
  std::string name;  ///< optional; the server generates one when empty
  std::string model_type;
  std::string source_run_id;
  std::vector<Param> params;
  Tags tags;
};

}  // namespace mlflow

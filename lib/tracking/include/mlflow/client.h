// SPDX-License-Identifier: Apache-2.0
// MlflowClient: typed calls for every MLflow REST endpoint the product uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlflow/http.h"
#include "mlflow/options.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow {

namespace detail {
struct ClientAccess;  // what the library itself may do to a client (src/client_impl.h)
}  // namespace detail

/// Random source for backoff jitter: uniform in [0, 1). Injectable for deterministic tests.
using UniformRandom = std::function<double()>;

/// Seams a client can be built with; unset ones get the real implementation.
struct ClientDeps {
  /// HTTP transport (default: make_curl_transport() with the options' TLS settings)
  std::shared_ptr<HttpTransport> transport;
  std::shared_ptr<Clock> clock;  ///< clock for retry waits and deadlines (default: system_clock())
  UniformRandom random;          ///< jitter source (default: a seeded random engine)
};

/// A client for one MLflow server (http/https tracking URI).
///
/// Every call is synchronous, retried as the official client does (see RetryOptions; creating a
/// run or a model version is retried without ever creating it twice, see create_run) and returns a
/// Status or StatusOr: kInvalidArgument for bad input caught before sending (nothing is sent),
/// otherwise the server's error mapped to a StatusCode with MLflow's error_code and the HTTP status
/// attached, kUnavailable / kDeadlineExceeded when the server could not be reached within the retry
/// budget.
///
/// Thread-safety: copies share one connection pool; all methods may be called concurrently.
class MlflowClient {
 public:
  /// A client for `options.tracking_uri`, which must be http:// or https:// here; local mode
  /// (sqlite:/// or empty) is resolved by connect() in local_server.h.
  static StatusOr<MlflowClient> make(const ClientOptions& options, ClientDeps deps = {});

  /// The server's base URL with credentials removed (safe to print).
  const std::string& tracking_uri() const;
  /// Where this client's runs live, as an identity that outlasts the server's address (safe to
  /// print): for a local-mode client (connect() over SQLite, or an http URL of a local-mode
  /// server this process started or joined) its database, sqlite:////absolute/path.db, whichever
  /// port its server got; otherwise tracking_uri(). The async logger's spool sessions record it,
  /// so the next start finds them.
  const std::string& store_uri() const;
  /// The options the client was made with.
  const ClientOptions& options() const;
  /// A client for the same server and credentials with another retry policy; `wrap_transport`, when
  /// set, receives this client's transport and returns the one the new client uses (a decorator).
  MlflowClient derive(
      const RetryOptions& retry,
      const std::function<std::shared_ptr<HttpTransport>(std::shared_ptr<HttpTransport>)>&
          wrap_transport = {}) const;
  /// The MLflow UI page of a run on this server (safe to print), in the UI's model-training view:
  /// `<base>/#/experiments/<experiment_id>/runs/<run_id>?workflowType=machine_learning`.
  std::string run_ui_url(const std::string& experiment_id, const std::string& run_id) const;

  // ---- experiments ------------------------------------------------------------------------
  /// Creates an experiment and returns its id; kAlreadyExists (RESOURCE_ALREADY_EXISTS) when the
  /// name is taken.
  StatusOr<std::string> create_experiment(const std::string& name, const Tags& tags = {},
                                          const std::string& artifact_location = {});
  /// The experiment with that id; kNotFound when there is none.
  StatusOr<Experiment> get_experiment(const std::string& experiment_id);
  /// kNotFound when no experiment has that name.
  StatusOr<Experiment> get_experiment_by_name(const std::string& name);
  /// The experiment's id, creating it when missing (tolerates a concurrent creator). An experiment
  /// it creates is tagged mlflow.experimentKind=custom_model_development (kTagExperimentKind),
  /// which makes the MLflow UI open it on its runs rather than its GenAI overview; an existing one
  /// is left as it is.
  StatusOr<std::string> get_or_create_experiment(const std::string& name);
  /// One page of experiments matching `search`.
  StatusOr<Page<Experiment>> search_experiments(const SearchOptions& search = {},
                                                ViewType view = ViewType::kActiveOnly);
  /// Sets (or overwrites) an experiment tag.
  Status set_experiment_tag(const std::string& experiment_id, const std::string& key,
                            const std::string& value);
  /// Renames an experiment.
  Status rename_experiment(const std::string& experiment_id, const std::string& new_name);
  /// Marks an experiment and its runs deleted (MLflow keeps them until garbage collection).
  Status delete_experiment(const std::string& experiment_id);
  /// Restores a deleted experiment.
  Status restore_experiment(const std::string& experiment_id);

  // ---- runs -------------------------------------------------------------------------------
  /// Arguments of create_run().
  struct RunCreate {
    std::string experiment_id;              ///< the experiment to create the run in
    std::string run_name;                   ///< display name (empty: MLflow generates one)
    std::optional<TimestampMs> start_time;  ///< now when unset
    Tags tags;  ///< run tags; may set mlflow-cpp.run_key (see create_run())
  };
  /// Creates a run, safe to retry: the run carries a client token, the tag mlflow-cpp.run_key (a
  /// fresh "r" + 32 hex digits, or the value of that tag in `create.tags`: 1-64 letters, digits,
  /// '.', '_', ':', '-', else kInvalidArgument). The request is sent once; only when an attempt
  /// fails without a definite answer (no response: refused, reset, timed out; or HTTP 408, 429,
  /// 5xx), and after the wait RetryOptions prescribes, is the run looked up by its token
  /// (search_runs in the experiment, deleted runs included): the run found is returned, and the
  /// request is sent again only when there is none. A definite error (4xx) is returned at once,
  /// with no lookup. Lookups count as attempts against RetryOptions.
  StatusOr<Run> create_run(const RunCreate& create);
  /// The run with that id; kNotFound when there is none.
  StatusOr<Run> get_run(const std::string& run_id);
  /// Sets status, end time and/or name; unset fields are left alone.
  StatusOr<RunInfo> update_run(const std::string& run_id, std::optional<RunStatus> status,
                               std::optional<TimestampMs> end_time = std::nullopt,
                               const std::string& run_name = {});
  /// One page of the runs of `experiment_ids` matching `search`.
  StatusOr<Page<Run>> search_runs(const std::vector<std::string>& experiment_ids,
                                  const SearchOptions& search = {},
                                  ViewType view = ViewType::kActiveOnly);
  /// Marks a run deleted.
  Status delete_run(const std::string& run_id);
  /// Restores a deleted run.
  Status restore_run(const std::string& run_id);

  /// Logs one metric value.
  Status log_metric(const std::string& run_id, const Metric& metric);
  /// Logs a parameter; MLflow refuses a different value for a key already logged
  /// (kInvalidArgument).
  Status log_param(const std::string& run_id, const std::string& key, const std::string& value);
  /// Sets (or overwrites) a run tag.
  Status set_tag(const std::string& run_id, const std::string& key, const std::string& value);
  /// Deletes a run tag.
  Status delete_tag(const std::string& run_id, const std::string& key);
  /// Logs everything, split into as many log-batch requests as the server's limits require
  /// (1000 metrics, 100 params, 100 tags, 1000 items, under 1 MB each), sent in order.
  Status log_batch(const std::string& run_id, const std::vector<Metric>& metrics,
                   const std::vector<Param>& params = {}, const Tags& tags = {});
  /// One page of a metric's history; max_results 0 = the server's whole history in one response.
  StatusOr<Page<Metric>> get_metric_history_page(const std::string& run_id, const std::string& key,
                                                 int max_results = 0,
                                                 const std::string& page_token = {});
  /// Every value of a metric, following pages.
  StatusOr<std::vector<Metric>> get_metric_history(const std::string& run_id,
                                                   const std::string& key);
  /// Records the data sets a run used (each needs name, digest, source_type and source) and the
  /// logged models it read.
  Status log_inputs(const std::string& run_id, const std::vector<DatasetInput>& datasets,
                    const std::vector<std::string>& model_ids = {});
  /// Records the logged models a run produced.
  Status log_outputs(const std::string& run_id, const std::vector<ModelOutput>& models);

  // ---- artifacts (through the server's artifact proxy) --------------------------------------
  /// HTTP URL of an artifact URI (mlflow-artifacts:/..., http(s)://...), as
  /// MlflowArtifactsRepository resolves it. kUnimplemented for stores the server does not proxy
  /// (s3://, file://, ...).
  StatusOr<std::string> artifact_url(const std::string& artifact_uri) const;
  /// Uploads one local file to `artifact_path` (a relative directory; empty = root) under the run.
  Status log_artifact(const std::string& run_id, const std::string& local_file,
                      const std::string& artifact_path = {});
  /// Uploads a directory tree under `artifact_path`.
  Status log_artifacts(const std::string& run_id, const std::string& local_dir,
                       const std::string& artifact_path = {});
  /// Uploads bytes as the file `artifact_file` (relative path incl. name).
  Status log_artifact_bytes(const std::string& run_id, const std::string& bytes,
                            const std::string& artifact_file);
  /// Lists the entries directly under `path` (empty = root).
  StatusOr<std::vector<FileInfo>> list_artifacts(const std::string& run_id,
                                                 const std::string& path = {});
  /// Downloads one file's bytes.
  StatusOr<std::string> read_artifact(const std::string& run_id, const std::string& path);
  /// Downloads a file or directory tree into `local_dir`; returns the local path of `path`.
  StatusOr<std::string> download_artifacts(const std::string& run_id, const std::string& path,
                                           const std::string& local_dir);

  /// The same four for any artifact root URI (a logged model's artifact_uri, a version's source,
  /// or a runs:/ or models:/ URI, resolved by resolve_artifact_location in mlflow/model_uri.h).
  Status upload_artifacts_to(const std::string& root_uri, const std::string& local_path,
                             const std::string& artifact_path = {});
  /// As log_artifact_bytes(), under an artifact root URI.
  Status upload_bytes_to(const std::string& root_uri, const std::string& bytes,
                         const std::string& artifact_file);
  /// As list_artifacts(), under an artifact root URI.
  StatusOr<std::vector<FileInfo>> list_artifacts_at(const std::string& root_uri,
                                                    const std::string& path = {});
  /// As download_artifacts(), under an artifact root URI.
  StatusOr<std::string> download_artifacts_from(const std::string& root_uri,
                                                const std::string& path,
                                                const std::string& local_dir);

  // ---- model registry -----------------------------------------------------------------------
  /// Creates a registered model; kAlreadyExists when the name is taken.
  StatusOr<RegisteredModel> create_registered_model(const std::string& name, const Tags& tags = {},
                                                    const std::string& description = {});
  /// The registered model with that name; kNotFound when there is none.
  StatusOr<RegisteredModel> get_registered_model(const std::string& name);
  /// One page of registered models matching `search`.
  StatusOr<Page<RegisteredModel>> search_registered_models(const SearchOptions& search = {});
  /// Sets a registered model's description.
  StatusOr<RegisteredModel> update_registered_model(const std::string& name,
                                                    const std::string& description);
  /// Deletes a registered model and all its versions (permanently).
  Status delete_registered_model(const std::string& name);
  /// Sets (or overwrites) a registered model tag.
  Status set_registered_model_tag(const std::string& name, const std::string& key,
                                  const std::string& value);
  /// Deletes a registered model tag.
  Status delete_registered_model_tag(const std::string& name, const std::string& key);

  /// Creates a model version, safe to retry as create_run is: its token is the version tag
  /// mlflow-cpp.model_version_key ("v" + 32 hex digits unless `create.tags` sets it), looked up
  /// with search_model_versions (that tag equal to the token, among the versions of `create.name`)
  /// only after an attempt without a definite answer.
  StatusOr<ModelVersion> create_model_version(const ModelVersionCreate& create);
  /// One version of a registered model; kNotFound when there is none.
  StatusOr<ModelVersion> get_model_version(const std::string& name, const std::string& version);
  /// One page of model versions matching `search`.
  StatusOr<Page<ModelVersion>> search_model_versions(const SearchOptions& search = {});
  /// Sets a model version's description.
  StatusOr<ModelVersion> update_model_version(const std::string& name, const std::string& version,
                                              const std::string& description);
  /// Deletes a model version (permanently).
  Status delete_model_version(const std::string& name, const std::string& version);
  /// Sets (or overwrites) a model version tag.
  Status set_model_version_tag(const std::string& name, const std::string& version,
                               const std::string& key, const std::string& value);
  /// Deletes a model version tag.
  Status delete_model_version_tag(const std::string& name, const std::string& version,
                                  const std::string& key);
  /// Where a version's files are (an artifact URI).
  StatusOr<std::string> get_model_version_download_uri(const std::string& name,
                                                       const std::string& version);

  /// Points `alias` at `version` of registered model `name` (moving it if it pointed elsewhere).
  Status set_registered_model_alias(const std::string& name, const std::string& alias,
                                    const std::string& version);
  /// Removes an alias.
  Status delete_registered_model_alias(const std::string& name, const std::string& alias);
  /// The version `alias` points at; an error when the model or the alias does not exist (see
  /// find_version_by_alias() in registry.h for a nullopt instead).
  StatusOr<ModelVersion> get_model_version_by_alias(const std::string& name,
                                                    const std::string& alias);

  // ---- MLflow 3 logged models ---------------------------------------------------------------
  /// Creates an MLflow 3 logged model (status pending) in an experiment.
  StatusOr<LoggedModel> create_logged_model(const LoggedModelCreate& create);
  /// The logged model with that id; kNotFound when there is none.
  StatusOr<LoggedModel> get_logged_model(const std::string& model_id);
  /// status kReady or kUploadFailed.
  StatusOr<LoggedModel> finalize_logged_model(const std::string& model_id,
                                              LoggedModelStatus status);
  /// Logs params of a logged model (in batches of the size the Python client uses).
  Status log_logged_model_params(const std::string& model_id, const std::vector<Param>& params);
  /// Sets (or overwrites) logged model tags.
  Status set_logged_model_tags(const std::string& model_id, const Tags& tags);
  /// Deletes a logged model tag.
  Status delete_logged_model_tag(const std::string& model_id, const std::string& key);
  /// Marks a logged model deleted.
  Status delete_logged_model(const std::string& model_id);
  /// One page of the logged models of `experiment_ids` (at least one) matching `search`.
  StatusOr<Page<LoggedModel>> search_logged_models(const std::vector<std::string>& experiment_ids,
                                                   const SearchOptions& search = {});
  /// Lists the entries directly under `path` (empty = root) of a logged model's artifacts.
  StatusOr<std::vector<FileInfo>> list_logged_model_artifacts(const std::string& model_id,
                                                              const std::string& path = {});

  struct Impl;  // defined in src/client_impl.h

 private:
  friend struct detail::ClientAccess;
  explicit MlflowClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace mlflow

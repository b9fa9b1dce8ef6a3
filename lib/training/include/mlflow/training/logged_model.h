// SPDX-License-Identifier: Apache-2.0
// Logging any model's files as an MLflow 3 logged model, and registering it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "mlflow/status.h"

namespace mlflow::training {

/// A logged model as log_model() left it.
struct LoggedModelRef {
  std::string model_id;      ///< server-assigned id
  std::string name;          ///< the name it was logged under
  std::string artifact_uri;  ///< root URI of its artifacts
  std::string model_uri;     ///< `models:/<model_id>`
};

/// Where and under which name log_model() logs.
struct LogModelOptions {
  std::string experiment_id;  ///< the experiment to create the model in
  std::string run_id;         ///< the source run; the model is linked to it as an output at `step`
  std::string name;           ///< the logged model's name, e.g. "model"
  std::map<std::string, std::string> params;  ///< model params (split beyond MLflow's batch limit)
  std::int64_t step = 0;                      ///< training step the model is linked to the run at
};

/// One file of a model: its path inside the model directory and its bytes.
struct ModelFile {
  std::string artifact_file;  ///< path inside the model directory, e.g. "data/model.pt"
  std::string bytes;          ///< file contents
};

/// Logs a model the way MLflow 3's log_model does: creates the logged model, links it to the run as
/// an output (so the run page lists it), uploads `files` in order and then the MLmodel file that
/// `mlmodel(model_id, artifact_uri)` returns (last, so an MLmodel always describes files that are
/// there), and finalizes it READY. When a step after the creation fails the model is finalized
/// FAILED (UPLOAD_FAILED), as MLflow leaves it, and that step's error is returned with the model's
/// name and id. kInvalidArgument for an empty name or a file path that is not a safe relative
/// path, before anything is created. Thread-safety: as the client's calls.
StatusOr<LoggedModelRef> log_model(
    MlflowClient& client, const LogModelOptions& options, const std::vector<ModelFile>& files,
    const std::function<StatusOr<std::string>(const std::string& model_id,
                                              const std::string& artifact_uri)>& mlmodel);

/// A registered model version.
struct ModelVersionRef {
  std::string name;     ///< registered model name
  std::string version;  ///< version number, as text
};

/// Registers a logged model as a new version of `model_name` (creating the registered model if
/// missing; a concurrent creator is fine), with source `models:/<model_id>`, `version_tags` and
/// `description` (when not empty), and points `alias` at it (when not empty). The client's errors,
/// with the model name in front. Thread-safety: as the client's calls.
StatusOr<ModelVersionRef> register_logged_model(
    MlflowClient& client, const LoggedModelRef& model, const std::string& model_name,
    const std::string& alias = {}, const std::map<std::string, std::string>& version_tags = {},
    const std::string& description = {});

}  // namespace mlflow::training

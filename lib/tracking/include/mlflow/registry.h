// SPDX-License-Identifier: Apache-2.0
// Registering logged models: the one place that turns an MLflow 3 logged model into a registered
// model version (used by the trainer and by sweeps).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "mlflow/client.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow {

/// How register_model_version() registers a logged model.
struct RegisterModelOptions {
  std::string alias;                        ///< pointed at the new version when not empty
  std::map<std::string, std::string> tags;  ///< version tags
  std::string description;                  ///< version description when not empty
};

/// Registers logged model `model_id` as a new version of `model_name` (creating the registered
/// model if missing; a concurrent creator is fine), with source `models:/<model_id>`, and points
/// `options.alias` at it. The source run is filled in by the client from the logged model. Errors:
/// kInvalidArgument for an empty model_id or name; the client's errors with "registering ... as
/// 'NAME'" in front (an alias failure says the version was created). Thread-safety: as the
/// client's.
StatusOr<ModelVersion> register_model_version(MlflowClient& client, const std::string& model_id,
                                              const std::string& model_name,
                                              const RegisterModelOptions& options = {});

/// The version `name@alias` points to; nullopt when the model or the alias does not exist (MLflow
/// answers either RESOURCE_DOES_NOT_EXIST or INVALID_PARAMETER_VALUE, depending on which). Other
/// errors as the client's, with the alias in front. Thread-safety: as the client's.
StatusOr<std::optional<ModelVersion>> find_version_by_alias(MlflowClient& client,
                                                            const std::string& name,
                                                            const std::string& alias);

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
#include "mlflow/registry.h"

namespace mlflow {

StatusOr<ModelVersion> register_model_version(MlflowClient& client, const std::string& model_id,
                                              const std::string& model_name,
                                              const RegisterModelOptions& options) {
  const std::string context = "registering models:/" + model_id + " as '" + model_name + "'";
  if (model_id.empty() || model_name.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  context + ": the model id and the name must not be empty");
  }
  auto existing = client.get_registered_model(model_name);
  if (!existing.ok()) {
    if (existing.status().code() != StatusCode::kNotFound)
      return existing.status().with_context(context);
    auto created = client.create_registered_model(model_name);
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
      return created.status().with_context(context);
    }
  }
  ModelVersionCreate create;
  create.name = model_name;
  create.source = "models:/" + model_id;
  create.model_id = model_id;
  create.description = options.description;
  for (const auto& [k, v] : options.tags) create.tags.push_back({k, v});
  auto version = client.create_model_version(create);
  if (!version.ok()) return version.status().with_context(context);
  if (version->name.empty()) version->name = model_name;
  if (!options.alias.empty()) {
    Status st = client.set_registered_model_alias(model_name, options.alias, version->version);
    if (!st.ok()) {
      return st.with_context(context + ": version " + version->version + " created, alias '" +
                             options.alias + "' not set");
    }
  }
  return version;
}

StatusOr<std::optional<ModelVersion>> find_version_by_alias(MlflowClient& client,
                                                            const std::string& name,
                                                            const std::string& alias) {
  auto version = client.get_model_version_by_alias(name, alias);
  if (version.ok()) return std::optional<ModelVersion>(std::move(*version));
  const StatusCode code = version.status().code();
  if (code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument)
    return std::optional<ModelVersion>();
  return version.status().with_context("looking up " + name + "@" + alias);
}

}  // namespace mlflow

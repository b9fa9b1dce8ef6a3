// SPDX-License-Identifier: Apache-2.0
// MLflow 3 logged models for any flavor: create, link to the run, upload, finalize; registration.
#include "mlflow/training/logged_model.h"

#include "mlflow/registry.h"
#include "mlflow/training/mlmodel.h"
#include "mlflow/validation.h"

namespace mlflow::training {
namespace {

/// One create-logged-model request carries up to a log-batch's worth of params.
constexpr std::size_t kMaxParamsAtCreate = 100;

}  // namespace

StatusOr<LoggedModelRef> log_model(
    MlflowClient& client, const LogModelOptions& options, const std::vector<ModelFile>& files,
    const std::function<StatusOr<std::string>(const std::string& model_id,
                                              const std::string& artifact_uri)>& mlmodel) {
  const std::string context = "logging model '" + options.name + "'";
  if (options.name.empty()) {
    return Status(StatusCode::kInvalidArgument, "logged model name must not be empty");
  }
  for (const auto& f : files) {
    Status path = validate_artifact_path(f.artifact_file);
    if (f.artifact_file.empty() || !path.ok() || f.artifact_file == kMlmodelFileName) {
      return Status(StatusCode::kInvalidArgument,
                    "model file '" + f.artifact_file +
                        "' must be a relative path other than MLmodel" +
                        (path.ok() ? "" : ": " + path.message()))
          .with_context(context);
    }
  }

  LoggedModelCreate create;
  create.experiment_id = options.experiment_id;
  create.name = options.name;
  create.source_run_id = options.run_id;
  std::vector<Param> params;
  for (const auto& [k, v] : options.params) params.push_back({k, v});
  const bool params_at_create = params.size() <= kMaxParamsAtCreate;
  if (params_at_create) create.params = params;
  auto model = client.create_logged_model(create);
  if (!model.ok()) return model.status().with_context(context);
  const std::string& id = model->model_id;

  auto fail = [&](const Status& st) {
    // The model stays visible as failed, as MLflow's log_model leaves it; its own error wins.
    (void)client.finalize_logged_model(id, LoggedModelStatus::kUploadFailed);
    return st.with_context(context + " (" + id + ")");
  };
  if (!params_at_create) {
    if (Status logged = client.log_logged_model_params(id, params); !logged.ok())
      return fail(logged);
  }
  if (!options.run_id.empty()) {
    Status linked = client.log_outputs(options.run_id, {ModelOutput{id, options.step}});
    if (!linked.ok()) return fail(linked);
  }
  for (const auto& f : files) {
    if (Status up = client.upload_bytes_to(model->artifact_uri, f.bytes, f.artifact_file);
        !up.ok()) {
      return fail(up);
    }
  }
  auto text = mlmodel(id, model->artifact_uri);
  if (!text.ok()) return fail(text.status());
  if (Status up = client.upload_bytes_to(model->artifact_uri, *text, kMlmodelFileName); !up.ok()) {
    return fail(up);
  }
  auto ready = client.finalize_logged_model(id, LoggedModelStatus::kReady);
  if (!ready.ok()) return ready.status().with_context(context + " (" + id + ")");
  return LoggedModelRef{id, model->name, model->artifact_uri, "models:/" + id};
}

StatusOr<ModelVersionRef> register_logged_model(
    MlflowClient& client, const LoggedModelRef& model, const std::string& model_name,
    const std::string& alias, const std::map<std::string, std::string>& version_tags,
    const std::string& description) {
  auto version = register_model_version(client, model.model_id, model_name,
                                        {alias, version_tags, description});
  if (!version.ok()) return version.status();
  return ModelVersionRef{version->name, version->version};
}

}  // namespace mlflow::training

// SPDX-License-Identifier: Apache-2.0
// Experiment endpoints.
#include "client_impl.h"
#include "mlflow/system_tags.h"
#include "mlflow/validation.h"

namespace mlflow {

using detail::json;

StatusOr<std::string> MlflowClient::create_experiment(const std::string& name, const Tags& tags,
                                                      const std::string& artifact_location) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_experiment_name(name));
  for (const auto& t : tags) MLFLOW_CPP_RETURN_IF_ERROR(validate_experiment_tag(t.key, t.value));
  json body = {{"name", name}, {"tags", detail::encode_tags(tags)}};
  if (!artifact_location.empty()) body["artifact_location"] = artifact_location;
  auto r = impl_->post(std::string(kApi) + "/experiments/create", body);
  if (!r.ok()) return r.status();
  return detail::str(*r, "experiment_id");
}

StatusOr<Experiment> MlflowClient::get_experiment(const std::string& experiment_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("experiment id", experiment_id));
  auto r = impl_->get(std::string(kApi) + "/experiments/get", {{"experiment_id", experiment_id}});
  if (!r.ok()) return r.status();
  return detail::decode_experiment((*r)["experiment"]);
}

StatusOr<Experiment> MlflowClient::get_experiment_by_name(const std::string& name) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_experiment_name(name));
  auto r = impl_->get(std::string(kApi) + "/experiments/get-by-name", {{"experiment_name", name}});
  if (!r.ok()) return r.status();
  return detail::decode_experiment((*r)["experiment"]);
}

StatusOr<std::string> MlflowClient::get_or_create_experiment(const std::string& name) {
  auto found = get_experiment_by_name(name);
  if (found.ok()) {
    if (found->lifecycle_stage == "deleted") {
      return Status(StatusCode::kFailedPrecondition,
                    "experiment '" + name + "' (id " + found->experiment_id +
                        ") is deleted; restore it or choose another name");
    }
    return found->experiment_id;
  }
  if (found.status().code() != StatusCode::kNotFound) return found.status();
  // The MLflow UI opens an experiment without this tag on its GenAI overview, not on the runs.
  auto created = create_experiment(name, {{kTagExperimentKind, kExperimentKindTraining}});
  if (created.ok() || created.status().code() != StatusCode::kAlreadyExists) return created;
  // Another process created it between our two calls.
  auto again = get_experiment_by_name(name);
  if (!again.ok()) return again.status();
  return again->experiment_id;
}

StatusOr<Page<Experiment>> MlflowClient::search_experiments(const SearchOptions& s, ViewType view) {
  json body = {{"max_results", s.max_results}, {"view_type", to_string(view)}};
  if (!s.filter.empty()) body["filter"] = s.filter;
  if (!s.order_by.empty()) body["order_by"] = s.order_by;
  if (!s.page_token.empty()) body["page_token"] = s.page_token;
  auto r = impl_->post(std::string(kApi) + "/experiments/search", body);
  if (!r.ok()) return r.status();
  return Page<Experiment>{detail::decode_list(*r, "experiments", detail::decode_experiment),
                          detail::str(*r, "next_page_token")};
}

Status MlflowClient::set_experiment_tag(const std::string& experiment_id, const std::string& key,
                                        const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("experiment id", experiment_id));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_experiment_tag(key, value));
  return impl_
      ->post(std::string(kApi) + "/experiments/set-experiment-tag",
             {{"experiment_id", experiment_id}, {"key", key}, {"value", value}})
      .status();
}

Status MlflowClient::rename_experiment(const std::string& experiment_id,
                                       const std::string& new_name) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_experiment_name(new_name));
  return impl_
      ->post(std::string(kApi) + "/experiments/update",
             {{"experiment_id", experiment_id}, {"new_name", new_name}})
      .status();
}

Status MlflowClient::delete_experiment(const std::string& experiment_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("experiment id", experiment_id));
  return impl_->post(std::string(kApi) + "/experiments/delete", {{"experiment_id", experiment_id}})
      .status();
}

Status MlflowClient::restore_experiment(const std::string& experiment_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("experiment id", experiment_id));
  return impl_->post(std::string(kApi) + "/experiments/restore", {{"experiment_id", experiment_id}})
      .status();
}

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
// Model registry endpoints: registered models, model versions, tags and aliases.
//
// The server reads the fields of PATCH and DELETE requests from a JSON body, as for POST; the same
// fields in a query string are ignored ("Missing value for required parameter 'name'").
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "client_impl.h"
#include "idempotent_create.h"
#include "mlflow/validation.h"

namespace mlflow {

using detail::json;

namespace {

/// Registered-model and model-version tag values (mlflow/utils/validation.py).
constexpr std::size_t kMaxRegistryTagValueLength = 5000;

Status invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

Status check_name(const std::string& name) {
  return require_nonempty("registered model name", name);
}

Status check_version(const std::string& version) {
  if (version.empty()) return invalid("model version must not be empty");
  if (!std::all_of(version.begin(), version.end(),
                   [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return invalid("model version '" + version + "' must be a positive integer");
  }
  return Status();
}

Status check_registry_tag(const std::string& key, const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("tag", key));
  if (value.size() > kMaxRegistryTagValueLength) {
    return invalid(
        fmt::format("tag '{}' value is {} characters long; the model registry allows at most {}",
                    key, value.size(), kMaxRegistryTagValueLength));
  }
  return Status();
}

/// MLflow's alias rules: ^[\w\-]*$ (Python's \w also takes non-ASCII letters, left to the server),
/// at most 255 characters, and neither "latest" nor v<digits> in any case, which URIs reserve.

/// Query string of the registry's GET searches (repeated order_by keys).
QueryParams search_query(const SearchOptions& s) {
  QueryParams q = {{"max_results", std::to_string(s.max_results)}};
  if (!s.filter.empty()) q.emplace_back("filter", s.filter);
  for (const auto& o : s.order_by) q.emplace_back("order_by", o);
  if (!s.page_token.empty()) q.emplace_back("page_token", s.page_token);
  return q;
}

std::string endpoint(const char* path) { return std::string(kApi) + path; }

}  // namespace

// ---- registered models --------------------------------------------------------------------------

StatusOr<RegisteredModel> MlflowClient::create_registered_model(const std::string& name,
                                                                const Tags& tags,
                                                                const std::string& description) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  for (const auto& t : tags) MLFLOW_CPP_RETURN_IF_ERROR(check_registry_tag(t.key, t.value));
  json body = {{"name", name}, {"tags", detail::encode_tags(tags)}};
  if (!description.empty()) body["description"] = description;
  auto r = impl_->post(endpoint("/registered-models/create"), body);
  if (!r.ok()) return r.status();
  return detail::decode_registered_model((*r)["registered_model"]);
}

StatusOr<RegisteredModel> MlflowClient::get_registered_model(const std::string& name) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  auto r = impl_->get(endpoint("/registered-models/get"), {{"name", name}});
  if (!r.ok()) return r.status();
  return detail::decode_registered_model((*r)["registered_model"]);
}

StatusOr<Page<RegisteredModel>> MlflowClient::search_registered_models(
    const SearchOptions& search) {
  auto r = impl_->get(endpoint("/registered-models/search"), search_query(search));
  if (!r.ok()) return r.status();
  return Page<RegisteredModel>{
      detail::decode_list(*r, "registered_models", detail::decode_registered_model),
      detail::str(*r, "next_page_token")};
}

StatusOr<RegisteredModel> MlflowClient::update_registered_model(const std::string& name,
                                                                const std::string& description) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  auto r = impl_->call("PATCH", endpoint("/registered-models/update"),
                       {{"name", name}, {"description", description}});
  if (!r.ok()) return r.status();
  return detail::decode_registered_model((*r)["registered_model"]);
}

Status MlflowClient::delete_registered_model(const std::string& name) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  return impl_->call("DELETE", endpoint("/registered-models/delete"), {{"name", name}}).status();
}

Status MlflowClient::set_registered_model_tag(const std::string& name, const std::string& key,
                                              const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(check_registry_tag(key, value));
  return impl_
      ->post(endpoint("/registered-models/set-tag"),
             {{"name", name}, {"key", key}, {"value", value}})
      .status();
}

Status MlflowClient::delete_registered_model_tag(const std::string& name, const std::string& key) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("tag", key));
  return impl_
      ->call("DELETE", endpoint("/registered-models/delete-tag"), {{"name", name}, {"key", key}})
      .status();
}

// ---- model versions -----------------------------------------------------------------------------

StatusOr<ModelVersion> MlflowClient::create_model_version(const ModelVersionCreate& c) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(c.name));
  // A logged model is its own source: "models:/<model_id>", as the Python client registers it.
  std::string source = c.source.empty() && !c.model_id.empty() ? "models:/" + c.model_id : c.source;
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("model version source", source));
  for (const auto& t : c.tags) MLFLOW_CPP_RETURN_IF_ERROR(check_registry_tag(t.key, t.value));
  Tags tags = c.tags;
  auto token = detail::create_token(tags, detail::kModelVersionKeyTag, 'v');
  if (!token.ok()) return token.status();
  json body = {{"name", c.name}, {"source", source}, {"tags", detail::encode_tags(tags)}};
  // The server refuses a runs:/<id>/... source without run_id; fill it in as register_model does.
  std::string run_id = c.run_id;
  if (run_id.empty() && source.rfind("runs:/", 0) == 0)
    run_id = source.substr(6, source.find('/', 6) - 6);
  if (!run_id.empty()) body["run_id"] = run_id;
  if (!c.model_id.empty()) body["model_id"] = c.model_id;
  if (!c.description.empty()) body["description"] = c.description;
  // The token alone finds the version (one per token); the name guards against a caller's reuse.
  SearchOptions search;
  search.filter = detail::token_filter(detail::kModelVersionKeyTag, *token);
  search.max_results = 10;
  Impl::Lookup lookup;
  lookup.method = "GET";
  lookup.endpoint = endpoint("/model-versions/search");
  lookup.query = search_query(search);
  lookup.pick = [&c](const json& answer) -> std::optional<json> {
    auto versions = answer.find("model_versions");
    if (versions == answer.end() || !versions->is_array()) return std::nullopt;
    for (const auto& v : *versions) {
      if (v.is_object() && v.value("name", "") == c.name) return json{{"model_version", v}};
    }
    return std::nullopt;
  };
  auto r = impl_->create_idempotently(endpoint("/model-versions/create"), body, lookup,
                                      /*may_exist=*/false);
  if (!r.ok()) return r.status();
  return detail::decode_model_version((*r)["model_version"]);
}

StatusOr<ModelVersion> MlflowClient::get_model_version(const std::string& name,
                                                       const std::string& version) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(check_version(version));
  auto r = impl_->get(endpoint("/model-versions/get"), {{"name", name}, {"version", version}});
  if (!r.ok()) return r.status();
  return detail::decode_model_version((*r)["model_version"]);
}

StatusOr<Page<ModelVersion>> MlflowClient::search_model_versions(const SearchOptions& search) {
  auto r = impl_->get(endpoint("/model-versions/search"), search_query(search));
  if (!r.ok()) return r.status();
  return Page<ModelVersion>{detail::decode_list(*r, "model_versions", detail::decode_model_version),
                            detail::str(*r, "next_page_token")};
}

StatusOr<ModelVersion> MlflowClient::update_model_version(const std::string& name,
                                                          const std::string& version,
                                                          const std::string& description) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(check_version(version));
  auto r = impl_->call("PATCH", endpoint("/model-versions/update"),
                       {{"name", name}, {"version", version}, {"description", description}});
  if (!r.ok()) return r.status();
  return detail::decode_model_version((*r)["model_version"]);
}

Status MlflowClient::delete_model_version(const std::string& name, const std::string& version) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(check_version(version));
  return impl_
      ->call("DELETE", endpoint("/model-versions/delete"), {{"name", name}, {"version", version}})
      .status();
}

Status MlflowClient::set_model_version_tag(const std::string& name, const std::string& version,
                                           const std::string& key, const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(check_version(version));
  MLFLOW_CPP_RETURN_IF_ERROR(check_registry_tag(key, value));
  return impl_
      ->post(endpoint("/model-versions/set-tag"),
             {{"name", name}, {"version", version}, {"key", key}, {"value", value}})
      .status();
}

Status MlflowClient::delete_model_version_tag(const std::string& name, const std::string& version,
                                              const std::string& key) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(check_version(version));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("tag", key));
  return impl_
      ->call("DELETE", endpoint("/model-versions/delete-tag"),
             {{"name", name}, {"version", version}, {"key", key}})
      .status();
}

StatusOr<std::string> MlflowClient::get_model_version_download_uri(const std::string& name,
                                                                   const std::string& version) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(check_version(version));
  auto r = impl_->get(endpoint("/model-versions/get-download-uri"),
                      {{"name", name}, {"version", version}});
  if (!r.ok()) return r.status();
  std::string uri = detail::str(*r, "artifact_uri");
  if (uri.empty()) {
    return Status(StatusCode::kInternal,
                  "server returned no artifact_uri for model '" + name + "' version " + version);
  }
  return uri;
}

// ---- aliases ------------------------------------------------------------------------------------

Status MlflowClient::set_registered_model_alias(const std::string& name, const std::string& alias,
                                                const std::string& version) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_alias(alias));
  MLFLOW_CPP_RETURN_IF_ERROR(check_version(version));
  return impl_
      ->post(endpoint("/registered-models/alias"),
             {{"name", name}, {"alias", alias}, {"version", version}})
      .status();
}

Status MlflowClient::delete_registered_model_alias(const std::string& name,
                                                   const std::string& alias) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_alias(alias));
  return impl_
      ->call("DELETE", endpoint("/registered-models/alias"), {{"name", name}, {"alias", alias}})
      .status();
}

StatusOr<ModelVersion> MlflowClient::get_model_version_by_alias(const std::string& name,
                                                                const std::string& alias) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_name(name));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_alias(alias));
  auto r = impl_->get(endpoint("/registered-models/alias"), {{"name", name}, {"alias", alias}});
  if (!r.ok()) return r.status();
  return detail::decode_model_version((*r)["model_version"]);
}

}  // namespace mlflow

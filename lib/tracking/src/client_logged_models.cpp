// SPDX-License-Identifier: Apache-2.0
// MLflow 3 logged-model endpoints: create, finalize, params, tags, search and artifact listing.
#include <fmt/format.h>

#include <algorithm>

#include "artifact_uri.h"
#include "client_impl.h"
#include "mlflow/ascii.h"
#include "mlflow/validation.h"
#include "url.h"

namespace mlflow {

using detail::json;

namespace {

/// The Python client's _MLFLOW_LOG_LOGGED_MODEL_PARAMS_BATCH_SIZE.
constexpr std::size_t kParamsPerRequest = 100;

std::string model_path(const std::string& model_id, const std::string& suffix = {}) {
  return std::string(kApi) + "/logged-models/" + detail::url_encode(model_id) + suffix;
}

/// "field [ASC|DESC]" (case-insensitive direction) as the search's order_by object.
StatusOr<json> encode_order_by(const std::string& clause) {
  std::string field = clause, dir;
  auto space = clause.find_last_of(' ');
  if (space != std::string::npos) {
    dir = ascii_upper(clause.substr(space + 1));
    if (dir == "ASC" || dir == "DESC") {
      field = clause.substr(0, space);
    } else {
      dir.clear();
    }
  }
  while (!field.empty() && field.back() == ' ') field.pop_back();
  if (field.empty() || field.find(' ') != std::string::npos) {
    return Status(StatusCode::kInvalidArgument,
                  "order_by clause '" + clause + "' must be '<field> [ASC|DESC]'");
  }
  return json{{"field_name", field}, {"ascending", dir != "DESC"}};
}

}  // namespace

StatusOr<LoggedModel> MlflowClient::create_logged_model(const LoggedModelCreate& c) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("experiment id", c.experiment_id));
  for (const auto& p : c.params) MLFLOW_CPP_RETURN_IF_ERROR(validate_param(p.key, p.value));
  for (const auto& t : c.tags) MLFLOW_CPP_RETURN_IF_ERROR(validate_tag(t.key, t.value));
  json body = {{"experiment_id", c.experiment_id},
               {"params", detail::encode_params(c.params)},
               {"tags", detail::encode_tags(c.tags)}};
  if (!c.name.empty()) body["name"] = c.name;
  if (!c.model_type.empty()) body["model_type"] = c.model_type;
  if (!c.source_run_id.empty()) body["source_run_id"] = c.source_run_id;
  auto r = impl_->post(std::string(kApi) + "/logged-models", body);
  if (!r.ok()) return r.status();
  return detail::decode_logged_model((*r)["model"]);
}

StatusOr<LoggedModel> MlflowClient::get_logged_model(const std::string& model_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("model id", model_id));
  auto r = impl_->get(model_path(model_id), {});
  if (!r.ok()) return r.status();
  return detail::decode_logged_model((*r)["model"]);
}

StatusOr<LoggedModel> MlflowClient::finalize_logged_model(const std::string& model_id,
                                                          LoggedModelStatus status) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("model id", model_id));
  if (status != LoggedModelStatus::kReady && status != LoggedModelStatus::kUploadFailed) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("a logged model is finalized as {} or {}, not {}",
                              to_string(LoggedModelStatus::kReady),
                              to_string(LoggedModelStatus::kUploadFailed), to_string(status)));
  }
  // The server reads model_id from the body, not from the path.
  auto r = impl_->call("PATCH", model_path(model_id),
                       {{"model_id", model_id}, {"status", to_string(status)}});
  if (!r.ok()) return r.status();
  return detail::decode_logged_model((*r)["model"]);
}

Status MlflowClient::log_logged_model_params(const std::string& model_id,
                                             const std::vector<Param>& params) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("model id", model_id));
  for (const auto& p : params) MLFLOW_CPP_RETURN_IF_ERROR(validate_param(p.key, p.value));
  for (std::size_t i = 0; i < params.size(); i += kParamsPerRequest) {
    std::vector<Param> chunk(params.begin() + static_cast<std::ptrdiff_t>(i),
                             params.begin() + static_cast<std::ptrdiff_t>(
                                                  std::min(params.size(), i + kParamsPerRequest)));
    MLFLOW_CPP_RETURN_IF_ERROR(
        impl_
            ->post(model_path(model_id, "/params"),
                   {{"model_id", model_id}, {"params", detail::encode_params(chunk)}})
            .status());
  }
  return Status();
}

Status MlflowClient::set_logged_model_tags(const std::string& model_id, const Tags& tags) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("model id", model_id));
  for (const auto& t : tags) MLFLOW_CPP_RETURN_IF_ERROR(validate_tag(t.key, t.value));
  return impl_
      ->call("PATCH", model_path(model_id, "/tags"),
             {{"model_id", model_id}, {"tags", detail::encode_tags(tags)}})
      .status();
}

Status MlflowClient::delete_logged_model_tag(const std::string& model_id, const std::string& key) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("model id", model_id));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("tag", key));
  if (key.find('/') != std::string::npos) {
    // The key is a path segment of the route; the server's router cannot match one containing '/',
    // encoded or not (it answers 404 ENDPOINT_NOT_FOUND).
    return Status(StatusCode::kInvalidArgument,
                  "logged-model tag key '" + key +
                      "' contains '/', which the server's delete-tag route cannot address");
  }
  return impl_
      ->call("DELETE", model_path(model_id, "/tags/" + detail::url_encode(key)), json::object())
      .status();
}

Status MlflowClient::delete_logged_model(const std::string& model_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("model id", model_id));
  return impl_->call("DELETE", model_path(model_id), {{"model_id", model_id}}).status();
}

StatusOr<Page<LoggedModel>> MlflowClient::search_logged_models(
    const std::vector<std::string>& experiment_ids, const SearchOptions& s) {
  if (experiment_ids.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "search_logged_models needs at least one experiment id");
  }
  json order = json::array();
  for (const auto& o : s.order_by) {
    auto clause = encode_order_by(o);
    if (!clause.ok()) return clause.status();
    order.push_back(std::move(*clause));
  }
  json body = {{"experiment_ids", experiment_ids}, {"max_results", s.max_results}};
  if (!s.filter.empty()) body["filter"] = s.filter;
  if (!order.empty()) body["order_by"] = std::move(order);
  if (!s.page_token.empty()) body["page_token"] = s.page_token;
  auto r = impl_->post(std::string(kApi) + "/logged-models/search", body);
  if (!r.ok()) return r.status();
  return Page<LoggedModel>{detail::decode_list(*r, "models", detail::decode_logged_model),
                           detail::str(*r, "next_page_token")};
}

StatusOr<std::vector<FileInfo>> MlflowClient::list_logged_model_artifacts(
    const std::string& model_id, const std::string& path) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("model id", model_id));
  auto dir = detail::normalize_artifact_path(path);
  if (!dir.ok()) return dir.status();
  return impl_->list_artifact_pages(model_path(model_id, "/artifacts/directories"), {},
                                    "artifact_directory_path", *dir);
}

}  // namespace mlflow

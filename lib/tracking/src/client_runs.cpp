// SPDX-License-Identifier: Apache-2.0
// Run endpoints: lifecycle, search, params/metrics/tags, batches, history, inputs and outputs.
#include "batch_split.h"
#include "client_impl.h"
#include "idempotent_create.h"
#include "mlflow/validation.h"

namespace mlflow {

using detail::json;

StatusOr<Run> MlflowClient::create_run(const RunCreate& c) {
  return detail::ClientAccess::create_run(*this, c, /*may_exist=*/false);
}

StatusOr<Run> detail::ClientAccess::create_run(const MlflowClient& client,
                                               const MlflowClient::RunCreate& c, bool may_exist) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("experiment id", c.experiment_id));
  for (const auto& t : c.tags) MLFLOW_CPP_RETURN_IF_ERROR(validate_tag(t.key, t.value));
  Tags tags = c.tags;
  auto token = create_token(tags, kRunKeyTag, 'r');
  if (!token.ok()) return token.status();
  json body = {{"experiment_id", c.experiment_id},
               {"start_time", c.start_time.value_or(now_ms())},
               {"tags", encode_tags(tags)}};
  if (!c.run_name.empty()) body["run_name"] = c.run_name;
  if (auto user = find_value(tags, "mlflow.user")) body["user_id"] = *user;

  MlflowClient::Impl::Lookup lookup;
  lookup.method = "POST";
  lookup.endpoint = std::string(kApi) + "/runs/search";
  lookup.body = {{"experiment_ids", {c.experiment_id}},
                 {"filter", token_filter(kRunKeyTag, *token)},
                 {"max_results", 1},
                 {"run_view_type", to_string(ViewType::kAll)}};
  lookup.pick = [](const json& answer) -> std::optional<json> {
    auto runs = answer.find("runs");
    if (runs == answer.end() || !runs->is_array() || runs->empty()) return std::nullopt;
    return json{{"run", runs->front()}};
  };
  auto r = client.impl_->create_idempotently(std::string(kApi) + "/runs/create", body, lookup,
                                             may_exist);
  if (!r.ok()) return r.status();
  return decode_run((*r)["run"]);
}

StatusOr<Run> MlflowClient::get_run(const std::string& run_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  auto r = impl_->get(std::string(kApi) + "/runs/get", {{"run_id", run_id}});
  if (!r.ok()) return r.status();
  return detail::decode_run((*r)["run"]);
}

StatusOr<RunInfo> MlflowClient::update_run(const std::string& run_id,
                                           std::optional<RunStatus> status,
                                           std::optional<TimestampMs> end_time,
                                           const std::string& run_name) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  json body = {{"run_id", run_id}};
  if (status) body["status"] = to_string(*status);
  if (end_time) body["end_time"] = *end_time;
  if (!run_name.empty()) body["run_name"] = run_name;
  auto r = impl_->post(std::string(kApi) + "/runs/update", body);
  if (!r.ok()) return r.status();
  return detail::decode_run_info((*r)["run_info"]);
}

StatusOr<Page<Run>> MlflowClient::search_runs(const std::vector<std::string>& experiment_ids,
                                              const SearchOptions& s, ViewType view) {
  if (experiment_ids.empty()) {
    return Status(StatusCode::kInvalidArgument, "search_runs needs at least one experiment id");
  }
  json body = {{"experiment_ids", experiment_ids},
               {"max_results", s.max_results},
               {"run_view_type", to_string(view)}};
  if (!s.filter.empty()) body["filter"] = s.filter;
  if (!s.order_by.empty()) body["order_by"] = s.order_by;
  if (!s.page_token.empty()) body["page_token"] = s.page_token;
  auto r = impl_->post(std::string(kApi) + "/runs/search", body);
  if (!r.ok()) return r.status();
  return Page<Run>{detail::decode_list(*r, "runs", detail::decode_run),
                   detail::str(*r, "next_page_token")};
}

Status MlflowClient::delete_run(const std::string& run_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  return impl_->post(std::string(kApi) + "/runs/delete", {{"run_id", run_id}}).status();
}

Status MlflowClient::restore_run(const std::string& run_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  return impl_->post(std::string(kApi) + "/runs/restore", {{"run_id", run_id}}).status();
}

Status MlflowClient::log_metric(const std::string& run_id, const Metric& m) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_metric(m.key, m.timestamp));
  json body = detail::encode_metric(m);
  body["run_id"] = run_id;
  return impl_->post(std::string(kApi) + "/runs/log-metric", body).status();
}

Status MlflowClient::log_param(const std::string& run_id, const std::string& key,
                               const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_param(key, value));
  return impl_
      ->post(std::string(kApi) + "/runs/log-parameter",
             {{"run_id", run_id}, {"key", key}, {"value", value}})
      .status();
}

Status MlflowClient::set_tag(const std::string& run_id, const std::string& key,
                             const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_tag(key, value));
  return impl_
      ->post(std::string(kApi) + "/runs/set-tag",
             {{"run_id", run_id}, {"key", key}, {"value", value}})
      .status();
}

Status MlflowClient::delete_tag(const std::string& run_id, const std::string& key) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("tag", key));
  return impl_->post(std::string(kApi) + "/runs/delete-tag", {{"run_id", run_id}, {"key", key}})
      .status();
}

Status MlflowClient::log_batch(const std::string& run_id, const std::vector<Metric>& metrics,
                               const std::vector<Param>& params, const Tags& tags) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  // Validate everything first: a bad key must not leave half the batch written.
  for (const auto& m : metrics) MLFLOW_CPP_RETURN_IF_ERROR(validate_metric(m.key, m.timestamp));
  for (const auto& p : params) MLFLOW_CPP_RETURN_IF_ERROR(validate_param(p.key, p.value));
  for (const auto& t : tags) MLFLOW_CPP_RETURN_IF_ERROR(validate_tag(t.key, t.value));
  for (const auto& req : detail::split_log_batch(metrics, params, tags)) {
    json ms = json::array();
    for (const auto& m : req.metrics) ms.push_back(detail::encode_metric(m));
    json body = {{"run_id", run_id},
                 {"metrics", std::move(ms)},
                 {"params", detail::encode_params(req.params)},
                 {"tags", detail::encode_tags(req.tags)}};
    MLFLOW_CPP_RETURN_IF_ERROR(impl_->post(std::string(kApi) + "/runs/log-batch", body).status());
  }
  return Status();
}

StatusOr<Page<Metric>> MlflowClient::get_metric_history_page(const std::string& run_id,
                                                             const std::string& key,
                                                             int max_results,
                                                             const std::string& page_token) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("metric", key));
  QueryParams q = {{"run_id", run_id}, {"metric_key", key}};
  if (max_results > 0) q.emplace_back("max_results", std::to_string(max_results));
  if (!page_token.empty()) q.emplace_back("page_token", page_token);
  auto r = impl_->get(std::string(kApi) + "/metrics/get-history", q);
  if (!r.ok()) return r.status();
  return Page<Metric>{detail::decode_list(*r, "metrics", detail::decode_metric),
                      detail::str(*r, "next_page_token")};
}

StatusOr<std::vector<Metric>> MlflowClient::get_metric_history(const std::string& run_id,
                                                               const std::string& key) {
  std::vector<Metric> all;
  std::string token;
  do {
    auto page = get_metric_history_page(run_id, key, 25000, token);
    if (!page.ok()) return page.status();
    for (auto& m : page->items) all.push_back(std::move(m));
    token = page->next_page_token;
  } while (!token.empty());
  return all;
}

namespace {

/// A unique-key violation reported by the server's SQL store (SQLAlchemy names the driver's error:
/// sqlite3.IntegrityError, psycopg2 UniqueViolation, pymysql IntegrityError "Duplicate entry").
bool is_duplicate_dataset_race(const Status& st) {
  if (st.http_status() != 400 || st.error_code() != "BAD_REQUEST") return false;
  const std::string& m = st.message();
  return m.find("IntegrityError") != std::string::npos ||
         m.find("UniqueViolation") != std::string::npos;
}

}  // namespace

Status MlflowClient::log_inputs(const std::string& run_id,
                                const std::vector<DatasetInput>& datasets,
                                const std::vector<std::string>& model_ids) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  json ds = json::array();
  for (const auto& d : datasets) {
    const std::pair<const char*, const std::string*> required[] = {
        {"dataset name", &d.dataset.name},
        {"dataset digest", &d.dataset.digest},
        {"dataset source_type", &d.dataset.source_type},
        {"dataset source", &d.dataset.source}};
    for (const auto& [what, value] : required)
      MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty(what, *value));
    ds.push_back(detail::encode_dataset_input(d));
  }
  json models = json::array();
  for (const auto& id : model_ids) models.push_back({{"model_id", id}});
  const json body = {{"run_id", run_id}, {"datasets", ds}, {"models", models}};
  // The SQL store looks a dataset up by (experiment, name, digest) and inserts it when missing
  // (sqlalchemy_store.py, _log_inputs_impl): two runs logging the same new dataset at once race,
  // and the loser's request fails with BAD_REQUEST naming the IntegrityError, its transaction
  // rolled back. Sent again, it finds the winner's row; with several datasets in one request the
  // second attempt can lose the race for another of them, hence a third.
  Status st;
  for (int attempt = 0; attempt < 3; ++attempt) {
    st = impl_->post(std::string(kApi) + "/runs/log-inputs", body).status();
    if (st.ok() || !is_duplicate_dataset_race(st)) break;
  }
  return st;
}

Status MlflowClient::log_outputs(const std::string& run_id,
                                 const std::vector<ModelOutput>& models) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  json ms = json::array();
  for (const auto& m : models) ms.push_back({{"model_id", m.model_id}, {"step", m.step}});
  return impl_->post(std::string(kApi) + "/runs/outputs", {{"run_id", run_id}, {"models", ms}})
      .status();
}

}  // namespace mlflow

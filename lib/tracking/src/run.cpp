// SPDX-License-Identifier: Apache-2.0
// ActiveRun: starting, resuming, logging to and ending a run.
#include "mlflow/run.h"

#include <exception>
#include <nlohmann/json.hpp>

#include "mlflow/system_tags.h"
#include "mlflow/validation.h"

namespace mlflow {

RunOptions RunOptions::with_env_defaults(const ClientOptions::EnvLookup& env_in) const {
  ClientOptions::EnvLookup env = env_in ? env_in : ClientOptions::EnvLookup(process_env);
  RunOptions o = *this;
  if (o.experiment_id.empty() && o.experiment_name.empty()) {
    if (auto v = env("MLFLOW_EXPERIMENT_ID"); v && !v->empty()) {
      o.experiment_id = *v;
    } else if (auto n = env("MLFLOW_EXPERIMENT_NAME"); n && !n->empty()) {
      o.experiment_name = *n;
    }
  }
  if (o.run_id.empty()) {
    if (auto v = env("MLFLOW_RUN_ID"); v && !v->empty()) o.run_id = *v;
  }
  return o;
}

namespace {

StatusOr<ActiveRun> start_impl(MlflowClient client, const RunOptions& o) {
  if (!o.run_id.empty()) return ActiveRun::resume(std::move(client), o.run_id);
  for (const auto& t : o.tags) MLFLOW_CPP_RETURN_IF_ERROR(validate_tag(t.key, t.value));
  std::string experiment_id = o.experiment_id;
  if (experiment_id.empty() && !o.experiment_name.empty()) {
    auto id = client.get_or_create_experiment(o.experiment_name);
    if (!id.ok()) return id.status();
    experiment_id = *id;
  }
  if (experiment_id.empty()) experiment_id = "0";  // MLflow's "Default" experiment

  Tags own;
  if (!o.run_name.empty()) own.push_back({"mlflow.runName", o.run_name});
  if (!o.parent_run_id.empty()) own.push_back({"mlflow.parentRunId", o.parent_run_id});
  own.insert(own.end(), o.tags.begin(), o.tags.end());  // the caller's tags override system ones
  Tags tags = system_tags(o.source_name, own);

  MlflowClient::RunCreate create;
  create.experiment_id = experiment_id;
  create.run_name = o.run_name;
  create.tags = std::move(tags);
  auto run = client.create_run(create);
  if (!run.ok()) return run.status();
  return ActiveRun::resume(std::move(client), run->info.run_id);
}

}  // namespace

StatusOr<ActiveRun> ActiveRun::start(MlflowClient client, RunOptions options) {
  const RunOptions given = std::move(options);
  return start_impl(std::move(client), given.with_env_defaults());
}

StatusOr<ActiveRun> ActiveRun::resume(MlflowClient client, const std::string& run_id) {
  auto run = client.get_run(run_id);
  if (!run.ok()) return run.status();
  if (run->info.lifecycle_stage == "deleted") {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + run_id + " is deleted; restore it first");
  }
  RunInfo info = run->info;
  if (info.status != RunStatus::kRunning) {
    auto updated = client.update_run(run_id, RunStatus::kRunning);
    if (!updated.ok()) return updated.status();
    info = *updated;
  }
  return ActiveRun(std::move(client), std::move(info));
}

ActiveRun::ActiveRun(MlflowClient client, RunInfo info)
    : client_(std::move(client)),
      info_(std::move(info)),
      uncaught_at_start_(std::uncaught_exceptions()) {}

ActiveRun::ActiveRun(ActiveRun&& other) noexcept
    : client_(std::move(other.client_)),
      info_(std::move(other.info_)),
      ended_(other.ended_),
      uncaught_at_start_(other.uncaught_at_start_) {
  other.ended_ = true;
}

ActiveRun& ActiveRun::operator=(ActiveRun&& other) noexcept {
  if (this != &other) {
    if (!ended_) (void)end(RunStatus::kFinished);
    client_ = other.client_;
    info_ = std::move(other.info_);
    ended_ = other.ended_;
    uncaught_at_start_ = other.uncaught_at_start_;
    other.ended_ = true;
  }
  return *this;
}

ActiveRun::~ActiveRun() {
  if (ended_) return;
  // Destroyed during stack unwinding: the training code failed, so the run did too.
  bool unwinding = std::uncaught_exceptions() > uncaught_at_start_;
  (void)end(unwinding ? RunStatus::kFailed : RunStatus::kFinished);
}

StatusOr<ActiveRun> ActiveRun::start_child(RunOptions options) {
  options.parent_run_id = id();
  options.run_id.clear();
  if (options.experiment_id.empty() && options.experiment_name.empty()) {
    options.experiment_id = experiment_id();
  }
  return start_impl(client_,
                    options);  // no env defaults: MLFLOW_RUN_ID names the parent, not the child
}

Status ActiveRun::log_param(const std::string& key, const std::string& value) {
  return client_.log_param(id(), key, value);
}

Status ActiveRun::log_params(const std::map<std::string, std::string>& params) {
  std::vector<Param> ps;
  ps.reserve(params.size());
  for (const auto& [k, v] : params) ps.push_back({k, v});
  return client_.log_batch(id(), {}, ps);
}

Status ActiveRun::log_metric(const std::string& key, double value, std::int64_t step) {
  Metric m;
  m.key = key;
  m.value = value;
  m.timestamp = now_ms();
  m.step = step;
  return client_.log_metric(id(), m);
}

Status ActiveRun::log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) {
  const TimestampMs ts = now_ms();
  std::vector<Metric> ms;
  for (const auto& [k, v] : metrics) {
    Metric m;
    m.key = k;
    m.value = v;
    m.timestamp = ts;
    m.step = step;
    ms.push_back(std::move(m));
  }
  return client_.log_batch(id(), ms);
}

Status ActiveRun::set_tag(const std::string& key, const std::string& value) {
  return client_.set_tag(id(), key, value);
}

Status ActiveRun::set_tags(const std::map<std::string, std::string>& tags) {
  Tags ts;
  for (const auto& [k, v] : tags) ts.push_back({k, v});
  return client_.log_batch(id(), {}, {}, ts);
}

Status ActiveRun::log_artifact(const std::string& local_file, const std::string& artifact_path) {
  return client_.log_artifact(id(), local_file, artifact_path);
}

Status ActiveRun::log_artifacts(const std::string& local_dir, const std::string& artifact_path) {
  return client_.log_artifacts(id(), local_dir, artifact_path);
}

Status ActiveRun::log_text(const std::string& text, const std::string& artifact_file) {
  return client_.log_artifact_bytes(id(), text, artifact_file);
}

Status ActiveRun::log_json(const std::string& json_text, const std::string& artifact_file) {
  auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status(StatusCode::kInvalidArgument,
                  "log_json('" + artifact_file + "'): the text is not valid JSON");
  }
  return client_.log_artifact_bytes(
      id(), j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", artifact_file);
}

Status ActiveRun::end(RunStatus status) {
  if (ended_) return Status();
  auto r = client_.update_run(id(), status, now_ms());
  if (!r.ok()) return r.status();
  ended_ = true;
  info_ = *r;
  return Status();
}

}  // namespace mlflow

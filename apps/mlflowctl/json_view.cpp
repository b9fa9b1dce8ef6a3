// SPDX-License-Identifier: Apache-2.0
// Entity → JSON for mlflowctl's --json output.
#include "json_view.h"

#include <cmath>

namespace mlflowctl {

using nlohmann::json;

json to_json(const mlflow::Tags& tags) {
  json out = json::object();
  for (const auto& t : tags) out[t.key] = t.value;
  return out;
}

json to_json(const mlflow::Experiment& e) {
  return json{{"experiment_id", e.experiment_id},
              {"name", e.name},
              {"artifact_location", e.artifact_location},
              {"lifecycle_stage", e.lifecycle_stage},
              {"creation_time", e.creation_time},
              {"last_update_time", e.last_update_time},
              {"tags", to_json(e.tags)}};
}

json to_json(const mlflow::RunInfo& i) {
  return json{{"run_id", i.run_id},
              {"run_name", i.run_name},
              {"experiment_id", i.experiment_id},
              {"user_id", i.user_id},
              {"status", mlflow::to_string(i.status)},
              {"start_time", i.start_time},
              {"end_time", i.end_time ? json(*i.end_time) : json(nullptr)},
              {"artifact_uri", i.artifact_uri},
              {"lifecycle_stage", i.lifecycle_stage}};
}

json metric_value_json(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

json to_json(const mlflow::Run& run) {
  json params = json::object();
  for (const auto& p : run.data.params) params[p.key] = p.value;
  json metrics = json::object();
  for (const auto& m : run.data.metrics) {
    metrics[m.key] =
        json{{"value", metric_value_json(m.value)}, {"step", m.step}, {"timestamp", m.timestamp}};
  }
  return json{
      {"info", to_json(run.info)},
      {"data", json{{"params", params}, {"metrics", metrics}, {"tags", to_json(run.data.tags)}}}};
}

json to_json(const mlflow::FileInfo& f) {
  return json{{"path", f.path}, {"is_dir", f.is_dir}, {"file_size", f.file_size}};
}

json to_json(const mlflow::ModelVersion& v) {
  return json{{"name", v.name},
              {"version", v.version},
              {"creation_timestamp", v.creation_timestamp},
              {"last_updated_timestamp", v.last_updated_timestamp},
              {"user_id", v.user_id},
              {"current_stage", v.current_stage},
              {"description", v.description},
              {"source", v.source},
              {"run_id", v.run_id},
              {"model_id", v.model_id},
              {"status", v.status},
              {"status_message", v.status_message},
              {"aliases", v.aliases},
              {"tags", to_json(v.tags)}};
}

}  // namespace mlflowctl

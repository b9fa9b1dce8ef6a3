// SPDX-License-Identifier: Apache-2.0
// Entities to and from MLflow's protobuf-JSON.
#include "json_codec.h"

#include <cmath>
#include <limits>

namespace mlflow::detail {

json encode_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

double decode_double(const json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    try {
      return std::stod(s);
    } catch (...) {
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  return 0.0;
}

std::int64_t decode_int64(const json& j) {
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number()) return static_cast<std::int64_t>(j.get<double>());
  if (j.is_string()) {
    try {
      return std::stoll(j.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::int64_t i64(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it == j.end() ? 0 : decode_int64(*it);
}

json encode_tags(const Tags& tags) {
  json a = json::array();
  for (const auto& t : tags) a.push_back({{"key", t.key}, {"value", t.value}});
  return a;
}

Tags decode_tags(const json& j, const char* key) {
  return decode_list(j, key, [](const json& e) {
    return KeyValue{str(e, "key"), str(e, "value")};
  });
}

json encode_metric(const Metric& m) {
  json j = {{"key", m.key},
            {"value", encode_double(m.value)},
            {"timestamp", m.timestamp},
            {"step", m.step}};
  if (!m.model_id.empty()) j["model_id"] = m.model_id;
  if (!m.dataset_name.empty()) j["dataset_name"] = m.dataset_name;
  if (!m.dataset_digest.empty()) j["dataset_digest"] = m.dataset_digest;
  return j;
}

Metric decode_metric(const json& j) {
  Metric m;
  m.key = str(j, "key");
  m.value = j.contains("value") ? decode_double(j["value"]) : 0.0;
  m.timestamp = i64(j, "timestamp");
  m.step = i64(j, "step");
  m.model_id = str(j, "model_id");
  m.dataset_name = str(j, "dataset_name");
  m.dataset_digest = str(j, "dataset_digest");
  m.run_id = str(j, "run_id");
  return m;
}

json encode_params(const std::vector<Param>& params) {
  json a = json::array();
  for (const auto& p : params) a.push_back({{"key", p.key}, {"value", p.value}});
  return a;
}

Experiment decode_experiment(const json& j) {
  Experiment e;
  e.experiment_id = str(j, "experiment_id");
  e.name = str(j, "name");
  e.artifact_location = str(j, "artifact_location");
  e.lifecycle_stage = str(j, "lifecycle_stage");
  e.creation_time = i64(j, "creation_time");
  e.last_update_time = i64(j, "last_update_time");
  e.tags = decode_tags(j);
  return e;
}

RunInfo decode_run_info(const json& j) {
  RunInfo i;
  i.run_id = str(j, "run_id");
  if (i.run_id.empty()) i.run_id = str(j, "run_uuid");
  i.run_name = str(j, "run_name");
  i.experiment_id = str(j, "experiment_id");
  i.user_id = str(j, "user_id");
  i.status = parse_run_status(str(j, "status")).value_or(RunStatus::kRunning);
  i.start_time = i64(j, "start_time");
  if (j.contains("end_time") && !j["end_time"].is_null()) i.end_time = i64(j, "end_time");
  i.artifact_uri = str(j, "artifact_uri");
  i.lifecycle_stage = str(j, "lifecycle_stage");
  return i;
}

Run decode_run(const json& j) {
  Run r;
  if (j.contains("info")) r.info = decode_run_info(j["info"]);
  if (j.contains("data")) {
    const auto& d = j["data"];
    r.data.metrics = decode_list(d, "metrics", decode_metric);
    r.data.params = decode_list(d, "params", [](const json& e) {
      return Param{str(e, "key"), str(e, "value")};
    });
    r.data.tags = decode_tags(d);
  }
  if (j.contains("inputs")) {
    const auto& in = j["inputs"];
    r.dataset_inputs = decode_list(in, "dataset_inputs", [](const json& e) {
      DatasetInput di;
      di.tags = decode_tags(e);
      if (e.contains("dataset")) {
        const auto& d = e["dataset"];
        di.dataset = {str(d, "name"),   str(d, "digest"), str(d, "source_type"),
                      str(d, "source"), str(d, "schema"), str(d, "profile")};
      }
      return di;
    });
    r.model_inputs =
        decode_list(in, "model_inputs", [](const json& e) { return str(e, "model_id"); });
  }
  if (j.contains("outputs")) {
    r.model_outputs = decode_list(j["outputs"], "model_outputs", [](const json& e) {
      return ModelOutput{str(e, "model_id"), i64(e, "step")};
    });
  }
  return r;
}

FileInfo decode_file_info(const json& j) {
  FileInfo f;
  f.path = str(j, "path");
  f.is_dir = j.value("is_dir", false);
  f.file_size = i64(j, "file_size");
  return f;
}

json encode_dataset_input(const DatasetInput& d) {
  json ds = {{"name", d.dataset.name},
             {"digest", d.dataset.digest},
             {"source_type", d.dataset.source_type},
             {"source", d.dataset.source}};
  if (!d.dataset.schema.empty()) ds["schema"] = d.dataset.schema;
  if (!d.dataset.profile.empty()) ds["profile"] = d.dataset.profile;
  return {{"tags", encode_tags(d.tags)}, {"dataset", ds}};
}

ModelVersion decode_model_version(const json& j) {
  ModelVersion v;
  v.name = str(j, "name");
  v.version = str(j, "version");
  v.creation_timestamp = i64(j, "creation_timestamp");
  v.last_updated_timestamp = i64(j, "last_updated_timestamp");
  v.user_id = str(j, "user_id");
  v.current_stage = str(j, "current_stage");
  v.description = str(j, "description");
  v.source = str(j, "source");
  v.run_id = str(j, "run_id");
  v.status = str(j, "status");
  v.status_message = str(j, "status_message");
  v.tags = decode_tags(j);
  v.run_link = str(j, "run_link");
  v.aliases = decode_list(j, "aliases", [](const json& e) {
    return e.is_string() ? e.get<std::string>() : std::string();
  });
  v.model_id = str(j, "model_id");
  return v;
}

RegisteredModel decode_registered_model(const json& j) {
  RegisteredModel m;
  m.name = str(j, "name");
  m.creation_timestamp = i64(j, "creation_timestamp");
  m.last_updated_timestamp = i64(j, "last_updated_timestamp");
  m.user_id = str(j, "user_id");
  m.description = str(j, "description");
  m.latest_versions = decode_list(j, "latest_versions", decode_model_version);
  m.tags = decode_tags(j);
  m.aliases = decode_list(j, "aliases", [](const json& e) {
    return ModelAlias{str(e, "alias"), str(e, "version")};
  });
  return m;
}

LoggedModel decode_logged_model(const json& j) {
  LoggedModel m;
  const json& info = j.contains("info") ? j["info"] : j;
  m.model_id = str(info, "model_id");
  m.experiment_id = str(info, "experiment_id");
  m.name = str(info, "name");
  m.creation_timestamp_ms = i64(info, "creation_timestamp_ms");
  m.last_updated_timestamp_ms = i64(info, "last_updated_timestamp_ms");
  m.artifact_uri = str(info, "artifact_uri");
  std::string st = str(info, "status");
  for (auto s :
       {LoggedModelStatus::kPending, LoggedModelStatus::kReady, LoggedModelStatus::kUploadFailed}) {
    if (st == to_string(s)) m.status = s;
  }
  m.model_type = str(info, "model_type");
  m.source_run_id = str(info, "source_run_id");
  m.status_message = str(info, "status_message");
  m.tags = decode_tags(info);
  if (j.contains("data")) {
    m.params = decode_list(j["data"], "params", [](const json& e) {
      return Param{str(e, "key"), str(e, "value")};
    });
    m.metrics = decode_list(j["data"], "metrics", decode_metric);
  }
  return m;
}

}  // namespace mlflow::detail

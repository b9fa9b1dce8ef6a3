// SPDX-License-Identifier: Apache-2.0
// Entities to and from MLflow's protobuf-JSON (private). Every field is optional on the way in.
#pragma once

#include <nlohmann/json.hpp>

#include "mlflow/types.h"

namespace mlflow::detail {

using json = nlohmann::json;

/// A double as protobuf JSON writes it: a number, or "NaN" / "Infinity" / "-Infinity".
json encode_double(double v);
/// Accepts a number or one of the protobuf JSON strings.
double decode_double(const json& j);
/// int64 as a number or a decimal string.
std::int64_t decode_int64(const json& j);

std::string str(const json& j, const char* key);
std::int64_t i64(const json& j, const char* key);

json encode_tags(const Tags& tags);
Tags decode_tags(const json& j, const char* key = "tags");

json encode_metric(const Metric& m);
Metric decode_metric(const json& j);
json encode_params(const std::vector<Param>& params);

Experiment decode_experiment(const json& j);
RunInfo decode_run_info(const json& j);
Run decode_run(const json& j);
FileInfo decode_file_info(const json& j);
json encode_dataset_input(const DatasetInput& d);
RegisteredModel decode_registered_model(const json& j);
ModelVersion decode_model_version(const json& j);
LoggedModel decode_logged_model(const json& j);

/// Applies `decode` to each element of j[key] (missing = empty).
template <typename F>
auto decode_list(const json& j, const char* key, F decode) {
  std::vector<decltype(decode(json()))> out;
  if (j.is_object() && j.contains(key) && j[key].is_array()) {
    for (const auto& e : j[key]) out.push_back(decode(e));
  }
  return out;
}

}  // namespace mlflow::detail

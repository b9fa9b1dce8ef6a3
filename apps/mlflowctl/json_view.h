// SPDX-License-Identifier: Apache-2.0
// The JSON that --json prints for each MLflow entity (stable keys for scripts; timestamps in ms).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "mlflow/types.h"

namespace mlflowctl {

/// {"key": "value", ...}; the last value of a repeated key wins.
nlohmann::json to_json(const mlflow::Tags& tags);
nlohmann::json to_json(const mlflow::Experiment& experiment);
nlohmann::json to_json(const mlflow::RunInfo& info);
/// {"info": {...}, "data": {"params": {k: v}, "metrics": {k: {value, step, timestamp}}, "tags": {k:
/// v}}}
nlohmann::json to_json(const mlflow::Run& run);
nlohmann::json to_json(const mlflow::FileInfo& file);
nlohmann::json to_json(const mlflow::ModelVersion& version);

/// A metric value as JSON: a number, or the strings "NaN", "Infinity", "-Infinity" (JSON has none).
nlohmann::json metric_value_json(double value);

/// A JSON array of to_json(item) for each item.
template <typename T>
nlohmann::json to_json_array(const std::vector<T>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(to_json(item));
  return out;
}

}  // namespace mlflowctl

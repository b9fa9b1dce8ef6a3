// SPDX-License-Identifier: Apache-2.0
#include "fmnist/train_config_schema.h"

#include <nlohmann/json.hpp>

#include "fmnist/train_config.h"

namespace mlflow::fmnist {

std::string train_config_schema_json() {
  const TrainConfig defaults;
  nlohmann::json params = nlohmann::json::array();
  for (const ConfigKey& k : train_config_keys()) {
    nlohmann::json p = {{"name", k.name},
                        {"type", k.type},
                        {"help", k.help},
                        {"default", config_value(defaults, k.name)}};
    if (k.min) p["min"] = *k.min;
    if (k.max) p["max"] = *k.max;
    if (k.min_exclusive) p["min_exclusive"] = true;
    if (!k.choices.empty()) p["choices"] = k.choices;
    params.push_back(std::move(p));
  }
  return nlohmann::json{{"parameters", params}}.dump(2);
}

}  // namespace mlflow::fmnist

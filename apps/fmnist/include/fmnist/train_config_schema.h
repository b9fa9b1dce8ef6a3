// SPDX-License-Identifier: Apache-2.0
// The trainer's settings as the parameter description sweep_runner checks sweep specs against
// (`fmnist_train --describe-params`; the format is in sweeps/README.md, "Programs").
#pragma once

#include <string>

namespace mlflow::fmnist {

/// {"parameters": [{"name", "type", "help", "default", "min", "max", "min_exclusive", "choices"},
/// ...]} for every key of train_config_keys(), from the same table set_config_value() parses with.
std::string train_config_schema_json();

}  // namespace mlflow::fmnist

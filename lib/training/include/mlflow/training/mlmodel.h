// SPDX-License-Identifier: Apache-2.0
// The MLmodel file every MLflow model has, for any flavor: written as MLflow 3's Model.to_yaml lays
// it out, so MLflow's UI and Python client read it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mlflow/training/dataset_lineage.h"
#include "mlflow/training/logged_model.h"

namespace mlflow::training {

/// Name of the model description file, as MLflow names it.
inline constexpr const char* kMlmodelFileName = "MLmodel";
/// The MLflow release whose MLmodel layout mlmodel_yaml() writes; goes into `mlflow_version` (which
/// MLflow only displays, so it stays a valid MLflow version).
inline constexpr const char* kMlmodelFormatVersion = "3.17.2";

/// The files of an input example, as MLflow names them.
inline constexpr const char* kInputExampleFileName = "input_example.json";
inline constexpr const char* kServingInputExampleFileName =
    "serving_input_example.json";  ///< see above

/// What goes into an MLmodel file.
struct MlmodelSpec {
  /// The flavors as a JSON object text, `{"<flavor>": {<field>: <value>, ...}, ...}`; values may be
  /// strings, numbers, booleans, lists and maps.
  std::string flavors_json = "{}";
  std::string model_id;       ///< also written as model_uuid; left out when empty
  std::string run_id;         ///< left out when empty
  std::string artifact_path;  ///< left out when empty
  /// The signature's input and output tensors (shape with -1 for the batch); null when unset.
  std::optional<TensorSpec> signature_inputs;
  std::optional<TensorSpec> signature_outputs;  ///< see signature_inputs
  /// The model has an ndarray input example (ndarray_input_example_files()): MLmodel names its
  /// files in saved_input_example_info, as MLflow does.
  bool input_example = false;
};

/// The MLmodel YAML (keys sorted, as PyYAML's safe_dump writes them): artifact_path, flavors,
/// mlflow_version, model_id, model_uuid, run_id, saved_input_example_info (with input_example),
/// signature {inputs, outputs, params} as JSON-string
/// tensor specs, utc_time_created (now). Strings a YAML 1.1 reader could take for something else
/// are quoted and floats always carry a '.', so PyYAML reads back what was meant. kInvalidArgument
/// when flavors_json is not a JSON object. Thread-safety: a pure function (reads the clock).
StatusOr<std::string> mlmodel_yaml(const MlmodelSpec& spec);

/// The files MLflow saves for an ndarray input example: input_example.json (the array) and
/// serving_input_example.json (`{"inputs": array}`, what /invocations takes). kInvalidArgument when
/// `array_json` is not a JSON array. Thread-safety: a pure function.
StatusOr<std::vector<ModelFile>> ndarray_input_example_files(const std::string& array_json);

}  // namespace mlflow::training

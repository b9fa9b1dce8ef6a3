// SPDX-License-Identifier: Apache-2.0
// LibTorch models as MLflow 3 logged models: the MLmodel file, logging, registration and fetching
// by URI. LibTorch-free: the weights archive is opaque bytes here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "mlflow/model_uri.h"
#include "mlflow/status.h"
#include "mlflow/training/logged_model.h"

namespace mlflow::libtorch {

/// The flavor key under `flavors:` in the MLmodel file.
inline constexpr const char* kLibtorchFlavor = "libtorch";

/// What a LibTorch model needs to be rebuilt and fed: flavors.libtorch in the MLmodel file.
struct LibtorchFlavor {
  std::string architecture;  ///< "small_cnn" | "mobilenet_v2" (opaque here)
  /// Architecture config as a JSON object text, e.g. {"width_multiplier":1.0,"num_classes":10};
  /// stored as a YAML map, so a round trip gives equal JSON, not equal text.
  std::string config_json = "{}";
  std::vector<std::int64_t>
      input_shape;  ///< one sample, no batch dimension, e.g. {1, 28, 28}; required
  std::string input_dtype = "float32";  ///< element type of the input, numpy-style
  /// What the signature's input holds, in words, e.g. "pixel / 255: 0 black, 1 white" (optional).
  std::string input_scale;
  /// Per-channel normalisation applied to the signature's input before the module's forward():
  /// (x - input_mean[c]) / input_std[c]. Both empty when forward() takes the input as it is;
  /// otherwise the same length, one value or one per channel (input_shape[0]), std > 0.
  std::vector<double> input_mean;
  std::vector<double> input_std;  ///< see input_mean
  /// output class names, by class index (their number gives the output signature)
  std::vector<std::string> class_names;
  std::string weights_file = "model.pt";  ///< relative to the model directory
  std::string libtorch_version;  ///< LibTorch version that wrote the weights (as the caller says)
  /// mlflow-cpp's version; filled in by mlmodel_yaml(), read back by parse_mlmodel().
  std::string mlflow_cpp_version;
};

/// The same model as ONNX, for MLflow's own tools: the MLmodel's `onnx` flavor and a
/// `python_function` flavor (loader mlflow.onnx), so that mlflow.pyfunc.load_model() and `mlflow
/// models serve` load it as MLflow's onnx flavor writes it.
struct OnnxFlavor {
  std::string data;          ///< the .onnx file, relative to the model directory; empty: none
  std::string onnx_version;  ///< the ONNX library that wrote it, e.g. "1.12.0"
};

/// What a logged model may hold besides the libtorch flavor and its weights.
struct ModelExtras {
  OnnxFlavor onnx;  ///< the ONNX copy (its file among the model's files); data empty: none
  /// An input example in the signature's shape, batch dimension included, as a JSON array (e.g.
  /// one image: [[[[0.0, ...], ...]]]), saved as MLflow saves an ndarray example; empty: none.
  std::string input_example_json;
};

/// kInvalidArgument naming the field when the flavor cannot be written as a loadable model:
/// empty architecture, config_json not a JSON object, empty or non-positive input_shape, empty
/// input_dtype, input_mean/input_std of different or wrong lengths or a std not above 0,
/// weights_file empty / absolute / with '..' / naming the MLmodel file.
Status validate_flavor(const LibtorchFlavor& flavor);

/// The MLmodel YAML as MLflow 3's Model.to_yaml writes it (keys sorted): artifact_path, flavors
/// {libtorch: {...}}, mlflow_version, model_id, model_uuid (= model_id), run_id (left out when
/// empty), signature {inputs, outputs, params} as JSON-string tensor specs (inputs float32
/// [-1, *input_shape]; outputs float32 [-1, number of classes], null when unknown),
/// utc_time_created. With extras.onnx.data set, the flavors `onnx` (data, onnx_version, providers
/// [CPUExecutionProvider]) and `python_function` (loader_module mlflow.onnx, data, and the
/// python_version of the Python this build found) come too; with an input example,
/// saved_input_example_info. A config_json that is not a JSON object
/// is kept as a string (and refused by parse_mlmodel); call validate_flavor() first. Thread-safety:
/// a pure function.
std::string mlmodel_yaml(const LibtorchFlavor& flavor, const std::string& model_id,
                         const std::string& run_id, const std::string& artifact_path,
                         const ModelExtras& extras = {});

/// The MLmodel fields besides the flavor.
struct MlmodelInfo {
  LibtorchFlavor flavor;         ///< the libtorch flavor
  std::string model_id;          ///< empty for models saved outside a logged model
  std::string run_id;            ///< the run that logged the model (empty when none)
  std::string artifact_path;     ///< the MLmodel file's artifact_path (may be empty)
  std::string mlflow_version;    ///< the MLflow version the MLmodel file names
  std::string utc_time_created;  ///< when the MLmodel file was written (UTC)
};

/// Parses an MLmodel text. kInvalidArgument naming `source` (a file or URI) and the field when it
/// is not YAML, has no flavors.libtorch, or a field is missing or malformed (architecture, config,
/// input_shape, input_dtype, class_names, weights_file; the rules of validate_flavor).
/// Thread-safety: a pure function.
StatusOr<MlmodelInfo> parse_mlmodel_info(const std::string& yaml_text, const std::string& source);
/// parse_mlmodel_info(...).flavor.
StatusOr<LibtorchFlavor> parse_mlmodel(const std::string& yaml_text, const std::string& source);

/// Logs a LibTorch model with training::log_model(): the logged model `name` in `experiment_id`
/// with source_run_id = run_id and `params` as model params, linked to the run as an output at
/// `step`, holding the weights (as flavor.weights_file), `extra_files` (files that travel with the
/// model, e.g. drift_reference.json: fetch_model() downloads them into the model directory) and
/// `extras` (the input example's two files; the `onnx` and `python_function` flavors when
/// extras.onnx.data names one of the extra files) and the MLmodel file. kInvalidArgument for a bad
/// flavor, an empty name, an extra file named like the weights or MLmodel file or not a safe
/// relative path, an extras.onnx.data that is none of the extra files, or an input example that is
/// not a JSON array; kNotFound when weights_path is not a readable file (all before anything is
/// created); the client's errors otherwise. Writes no local files. Thread-safety: as the client's
/// calls.
StatusOr<training::LoggedModelRef> log_libtorch_model(
    MlflowClient& client, const std::string& experiment_id, const std::string& run_id,
    const std::string& name, const LibtorchFlavor& flavor, const std::string& weights_path,
    const std::map<std::string, std::string>& params = {}, std::int64_t step = 0,
    const std::vector<training::ModelFile>& extra_files = {}, const ModelExtras& extras = {});

/// A model on the local disk.
struct LocalModel {
  std::string dir;           ///< the directory holding MLmodel
  std::string weights_path;  ///< dir + "/" + flavor.weights_file
  LibtorchFlavor flavor;     ///< how to rebuild and feed the model
  std::string source_uri;    ///< the URI or path fetch_model() was given
  std::string model_id;      ///< the logged model's id when known (resolved, else from MLmodel)
};

/// Makes a model available locally. `uri` is one of
///  * `runs:/<run_id>/<name>[/sub]`: the newest logged model `name` whose source run is `<run_id>`
///    (READY ones first), as MLflow 3 resolves it; falls back to the run's artifacts at `<name>`;
///  * `models:/<model_id>` (a logged model), `models:/<name>/<version>`, `models:/<name>/latest`,
///    `models:/<name>@<alias>`;
///  * a local directory holding an MLmodel (or the MLmodel file itself; file:// allowed): used in
///    place, dest_dir is not touched.
/// Remote models are downloaded into dest_dir (MLmodel directly inside it) through a hidden
/// sibling staging directory and moved in only once MLmodel parsed and the weights file is there,
/// so a failed fetch leaves no partial model. dest_dir must be missing, empty, or hold an earlier
/// model (a directory with an MLmodel file), which is replaced; otherwise kFailedPrecondition.
/// kNotFound naming the URI when nothing is there; kInvalidArgument when it is not a libtorch
/// model or the URI is malformed; kInternal when the server lists unsafe paths (nothing is written
/// outside the staging directory). Thread-safety: concurrent fetches need distinct dest_dirs.
StatusOr<LocalModel> fetch_model(MlflowClient& client, const std::string& uri,
                                 const std::string& dest_dir);

/// A model in a local directory (or its MLmodel file; file:// allowed), used in place: no client
/// needed. kNotFound naming the path when it is not a directory holding an MLmodel; parse errors as
/// fetch_model().
StatusOr<LocalModel> open_local_model(const std::string& path);

}  // namespace mlflow::libtorch

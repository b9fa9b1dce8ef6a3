// SPDX-License-Identifier: Apache-2.0
// Any torch::nn::Module as an MLflow `libtorch` model: its weights saved and loaded with every
// tensor checked, logged as an MLflow 3 logged model, loaded back from runs:/, models:/ or a
// directory.
#pragma once

#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "mlflow/client.h"
#include "mlflow/libtorch/model_store.h"
#include "mlflow/status.h"
#include "mlflow/training/logged_model.h"

namespace mlflow::libtorch {

/// Writes every parameter and buffer of `module` (torch::nn::Module::save's archive) to `path`:
/// atomically (mlflow/atomic_file.h's policy). kInternal naming the path on failure.
Status save_module(const torch::nn::Module& module, const std::string& path);

/// Loads weights written by save_module() into `module`. Every tensor is checked before any is
/// loaded: a parameter, buffer or submodule that one side has and the other lacks, or a tensor of
/// another shape, is kInvalidArgument naming it (its dotted path, e.g. "head.0.weight") and both
/// shapes; `module` is then left as it was. kNotFound when `path` is not a file; kInvalidArgument
/// naming the path when it is not a weights archive. `what` names the file in messages.
Status load_module(torch::nn::Module& module, const std::string& path,
                   const std::string& what = "weights");

/// Logs `module` as a `libtorch` model (log_libtorch_model): its weights as flavor.weights_file,
/// `extra_files`, `extras` (an input example; the onnx and python_function flavors when
/// extras.onnx.data names one of the extra files) and the MLmodel with the signature float32 [-1,
/// *flavor.input_shape] -> [-1, classes] (mlflow::onnx::log_module() exports and logs in one step).
StatusOr<training::LoggedModelRef> log_module(
    MlflowClient& client, const training::LogModelOptions& options, const torch::nn::Module& module,
    const LibtorchFlavor& flavor, const std::vector<training::ModelFile>& extra_files = {},
    const ModelExtras& extras = {});

/// Fetches the model at `uri` (fetch_model(): `runs:/`, `models:/NAME@ALIAS`,
/// `models:/NAME/VERSION`, a local directory) into `dest_dir` and loads its weights into `module`,
/// which the caller built with the architecture the model's flavor describes. Errors as
/// fetch_model() and load_module().
StatusOr<LocalModel> load_module_from(MlflowClient& client, const std::string& uri,
                                      const std::string& dest_dir, torch::nn::Module& module);

}  // namespace mlflow::libtorch

// SPDX-License-Identifier: Apache-2.0
// Logging a module as an MLflow model that both mlflow-cpp and MLflow's own Python tools load: the
// libtorch flavor beside an ONNX copy (the onnx and python_function flavors).
#pragma once

#include <torch/nn/module.h>

#include "mlflow/client.h"
#include "mlflow/libtorch/model_store.h"
#include "mlflow/onnx/exporter.h"
#include "mlflow/status.h"
#include "mlflow/training/logged_model.h"

namespace mlflow::onnx {

/// Exports `module` with `exporter` (input float32 [N, *flavor.input_shape], flavor's
/// input normalisation inside the graph, output "logits") and logs it with
/// libtorch::log_module(): weights, model.onnx, and an MLmodel with the libtorch, onnx and
/// python_function flavors, so that mlflow.pyfunc.load_model() and `mlflow models serve` take it.
/// The export comes first: a module that cannot be exported logs nothing. Errors as
/// Exporter::build() and libtorch::log_module(). Thread-safety: as the client's calls.
StatusOr<training::LoggedModelRef> log_module(MlflowClient& client,
                                              const training::LogModelOptions& options,
                                              torch::nn::Module& module,
                                              const libtorch::LibtorchFlavor& flavor,
                                              Exporter exporter = Exporter());

}  // namespace mlflow::onnx

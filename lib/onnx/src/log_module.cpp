// SPDX-License-Identifier: Apache-2.0
// Export, then log weights and ONNX copy as one logged model.
#include "mlflow/onnx/log_module.h"

#include <utility>

#include "mlflow/libtorch/module_io.h"

namespace mlflow::onnx {

StatusOr<training::LoggedModelRef> log_module(MlflowClient& client,
                                              const training::LogModelOptions& options,
                                              torch::nn::Module& module,
                                              const libtorch::LibtorchFlavor& flavor,
                                              Exporter exporter) {
  ExportOptions export_options;
  export_options.input_shape = flavor.input_shape;
  export_options.input_mean = flavor.input_mean;
  export_options.input_std = flavor.input_std;
  export_options.doc_string = flavor.architecture + " (mlflow-cpp)";
  auto exported = exporter.build(module, export_options);
  if (!exported.ok()) {
    return exported.status().with_context("logging module '" + options.name + "' as ONNX");
  }
  libtorch::ModelExtras extras;
  extras.onnx = {kOnnxModelFile, exported->info.onnx_version};
  return libtorch::log_module(client, options, module, flavor,
                              {{kOnnxModelFile, std::move(exported->bytes)}}, extras);
}

}  // namespace mlflow::onnx

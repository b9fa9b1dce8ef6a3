// SPDX-License-Identifier: Apache-2.0
// Exports a torch::nn::Module to an ONNX file. LibTorch's C++ API cannot trace forward(), so every
// module type has a converter that emits its ONNX nodes; the standard layers come built in and a
// composite block of one's own is registered with add_converter().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include <torch/nn/module.h>

#include "mlflow/onnx/graph.h"
#include "mlflow/status.h"

namespace mlflow::onnx {

class Exporter;

/// The file name of a logged model's ONNX copy (as mlflow.onnx names it).
inline constexpr const char* kOnnxModelFile = "model.onnx";

/// Emits `module` applied to `input` into exporter.graph() and returns its output. `path` is the
/// module's dotted path ("" for the root), for names and messages. A converter of a composite
/// module calls Exporter::convert() on its children.
using Converter = std::function<StatusOr<Value>(torch::nn::Module& module, const Value& input,
                                                const std::string& path, Exporter& exporter)>;

/// What the exported graph takes and gives.
struct ExportOptions {
  /// One sample's shape, without the batch dimension, e.g. {1, 28, 28}; required. The graph's
  /// input is float32 [N, *input_shape] with N dynamic.
  std::vector<std::int64_t> input_shape;
  /// Per-channel normalisation done inside the graph before the module: (x - mean[c]) / std[c].
  /// Both empty (none), or of one value or one per channel (input_shape[0]), std > 0.
  std::vector<double> input_mean;
  std::vector<double> input_std;       ///< see input_mean
  std::string input_name = "input";    ///< the graph input's name
  std::string output_name = "logits";  ///< the graph output's name
  std::string doc_string;              ///< the model's description (optional)
};

/// What an export wrote.
struct ExportInfo {
  std::int64_t opset = kOpset;  ///< the default-domain opset imported
  std::string onnx_version;     ///< the ONNX library that built and checked it, e.g. "1.12.0"
  std::vector<std::int64_t> output_shape;  ///< one sample's output shape, e.g. {10}
  std::vector<std::string> op_types;       ///< the operators used, sorted
  std::size_t bytes = 0;                   ///< the file's size
};

/// An exported model in memory: the serialised ModelProto and what it holds.
struct ExportedModel {
  std::string bytes;  ///< the .onnx file's content
  ExportInfo info;    ///< its opset, output shape, operators
};

/// Converts modules by their dynamic type. Thread-safety: none; one export at a time per object.
class Exporter {
 public:
  /// With the converters for Sequential, Conv2d (any groups), BatchNorm1d/2d, Linear, ReLU,
  /// ReLU6, Dropout (identity, as in eval), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten,
  /// Softmax and Identity.
  Exporter();

  /// Registers (or replaces) the converter of modules whose dynamic type is `ModuleImpl`.
  template <class ModuleImpl>
  void add_converter(Converter converter) {
    converters_[std::type_index(typeid(ModuleImpl))] = std::move(converter);
  }

  /// Converts `module` with the converter of its type: for converters of composite modules.
  /// kUnimplemented naming `path` and the module's type when it has none.
  StatusOr<Value> convert(torch::nn::Module& module, const Value& input, const std::string& path);

  /// The graph being built (valid during export()).
  Graph& graph() { return *graph_; }

  /// Builds the ONNX model of `module` (put in eval mode for the export, its mode restored after),
  /// checked with onnx::checker and ONNX's strict shape inference. kInvalidArgument for a missing
  /// or bad input shape or normalisation, or when the module does not accept that shape;
  /// kUnimplemented naming the module path and type of a layer without converter; kInternal when
  /// the checker refuses the graph.
  StatusOr<ExportedModel> build(torch::nn::Module& module, const ExportOptions& options);

  /// build() written to `path` atomically: a failed export or write (named) leaves nothing there.
  StatusOr<ExportInfo> export_module(torch::nn::Module& module, const ExportOptions& options,
                                     const std::string& path);

 private:
  std::unordered_map<std::type_index, Converter> converters_;
  Graph* graph_ = nullptr;
};

}  // namespace mlflow::onnx

// SPDX-License-Identifier: Apache-2.0
// The ONNX graph an export builds, node by node, beside the LibTorch values it stands for. The
// protobuf classes (Debian's libonnx) stay inside the library.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mlflow::onnx {

/// The ONNX operator set every exported graph imports (the default domain): ONNX 1.12's newest.
inline constexpr std::int64_t kOpset = 17;

/// A tensor of the graph: its ONNX name and what LibTorch computes for it on the export's example
/// batch. Converters read shapes from `example` (adaptive pooling needs them) and compute the next
/// example with the module itself, so the two graphs are built side by side.
struct Value {
  std::string name;    ///< the ONNX value name
  at::Tensor example;  ///< LibTorch's value on the example batch
};

/// A node attribute: an integer, a float or a list of integers (all the converters need).
struct Attribute {
  std::string name;                                                    ///< e.g. "kernel_shape"
  std::variant<std::int64_t, float, std::vector<std::int64_t>> value;  ///< its value
};

/// The graph under construction. Names are unique: node outputs get a counter suffix.
/// Thread-safety: none; one export builds one graph.
class Graph {
 public:
  Graph();
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  /// Appends the node `op_type(inputs)` with `attributes`, named after `path` (the module's dotted
  /// path), and returns the name of its single output. An empty input name is an omitted optional
  /// input.
  std::string add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                       const std::vector<Attribute>& attributes, const std::string& path);
  /// Stores `tensor` (float32 or int64; copied, made contiguous) as an initializer called `name`,
  /// or `name` with a suffix when taken, and returns the name used.
  std::string add_initializer(const std::string& name, const at::Tensor& tensor);

  /// The operator types used so far, sorted, each once (for the export's report).
  std::vector<std::string> op_types() const;

  /// The protobuf GraphProto (libonnx's onnx::GraphProto), for the exporter. Opaque here so that
  /// callers need not see protobuf headers.
  void* proto();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlflow::onnx

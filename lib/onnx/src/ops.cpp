// SPDX-License-Identifier: Apache-2.0
// Composite modules' glue operations, emitted and computed side by side.
#include "mlflow/onnx/ops.h"

#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/zeros.h>

namespace mlflow::onnx {

Value add(Graph& graph, const Value& a, const Value& b, const std::string& path) {
  return {graph.add_node("Add", {a.name, b.name}, {}, path), a.example.add(b.example)};
}

Value concat(Graph& graph, const std::vector<Value>& values, std::int64_t axis,
             const std::string& path) {
  std::vector<std::string> names;
  std::vector<at::Tensor> examples;
  for (const auto& v : values) {
    names.push_back(v.name);
    examples.push_back(v.example);
  }
  return {graph.add_node("Concat", names, {{"axis", axis}}, path), at::cat(examples, axis)};
}

Value flatten(Graph& graph, const Value& x, std::int64_t axis, const std::string& path) {
  return {graph.add_node("Flatten", {x.name}, {{"axis", axis}}, path), x.example.flatten(axis)};
}

namespace {

/// The out x in matrix whose row i averages PyTorch's adaptive window i: [floor(i*in/out),
/// ceil((i+1)*in/out)).
at::Tensor pooling_matrix(std::int64_t in, std::int64_t out) {
  at::Tensor m = at::zeros({out, in}, at::kFloat);
  for (std::int64_t i = 0; i < out; ++i) {
    const std::int64_t start = i * in / out;
    const std::int64_t end = ((i + 1) * in + out - 1) / out;
    m.narrow(0, i, 1).narrow(1, start, end - start).fill_(1.0 / static_cast<double>(end - start));
  }
  return m;
}

}  // namespace

Value adaptive_avg_pool2d(Graph& graph, const Value& x, std::int64_t height, std::int64_t width,
                          const std::string& path) {
  const at::Tensor y = at::adaptive_avg_pool2d(x.example, {height, width});
  const std::int64_t in_h = x.example.size(2), in_w = x.example.size(3);
  if (height == 1 && width == 1)
    return {graph.add_node("GlobalAveragePool", {x.name}, {}, path), y};
  if (in_h % height == 0 && in_w % width == 0) {
    const std::vector<std::int64_t> k = {in_h / height, in_w / width};
    return {graph.add_node("AveragePool", {x.name}, {{"kernel_shape", k}, {"strides", k}}, path),
            y};
  }
  // Uneven windows: x @ W^T pools the columns, H @ (x W^T) the rows; MatMul broadcasts over N, C.
  const std::string w =
      graph.add_initializer(path + ".pool_columns", pooling_matrix(in_w, width).t());
  const std::string h = graph.add_initializer(path + ".pool_rows", pooling_matrix(in_h, height));
  const std::string cols = graph.add_node("MatMul", {x.name, w}, {}, path);
  return {graph.add_node("MatMul", {h, cols}, {}, path), y};
}

}  // namespace mlflow::onnx

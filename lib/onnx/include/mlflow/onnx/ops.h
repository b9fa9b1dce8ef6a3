// SPDX-License-Identifier: Apache-2.0
// Operations that converters of composite modules need between their children (a residual add,
// pooling, concatenation), each emitted as ONNX nodes and computed with LibTorch alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlflow/onnx/graph.h"

namespace mlflow::onnx {

/// a + b (same shapes): ONNX Add.
Value add(Graph& graph, const Value& a, const Value& b, const std::string& path);

/// Concatenation along `axis`: ONNX Concat.
Value concat(Graph& graph, const std::vector<Value>& values, std::int64_t axis,
             const std::string& path);

/// Flattens dimensions from `axis` on into one (torch.flatten(x, axis)): ONNX Flatten.
Value flatten(Graph& graph, const Value& x, std::int64_t axis, const std::string& path);

/// torch's adaptive_avg_pool2d of an N x C x H x W value to `height` x `width`: AveragePool when
/// the sizes divide evenly (GlobalAveragePool for 1 x 1), otherwise two MatMuls with the pooling
/// matrices, which is exact for PyTorch's uneven windows too.
Value adaptive_avg_pool2d(Graph& graph, const Value& x, std::int64_t height, std::int64_t width,
                          const std::string& path);

}  // namespace mlflow::onnx

// SPDX-License-Identifier: Apache-2.0
// MobileNetV2's building blocks (models.cpp builds with them; model_onnx.cpp exports them).
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace mlflow::fmnist {

/// Convolution (no bias, padding kernel / 2), batch norm and, when `activation`, ReLU6.
torch::nn::Sequential conv_bn(std::int64_t in, std::int64_t out, std::int64_t kernel,
                              std::int64_t stride, std::int64_t groups, bool activation);

/// MobileNetV2's block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection; a residual when
/// shapes match.
class InvertedResidualImpl : public torch::nn::Module {
 public:
  InvertedResidualImpl(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t expand);
  at::Tensor forward(const at::Tensor& x) {
    return residual_ ? x + block_->forward(x) : block_->forward(x);
  }
  /// The expansion, depthwise and projection layers.
  torch::nn::Sequential& block() { return block_; }
  /// Whether forward() adds the input to the block's output.
  bool residual() const { return residual_; }

 private:
  bool residual_;
  torch::nn::Sequential block_{nullptr};
};
TORCH_MODULE(InvertedResidual);

}  // namespace mlflow::fmnist

// SPDX-License-Identifier: Apache-2.0
// mlflow::onnx's exporter without a runtime: what it builds, what it refuses and that a failure
// leaves no file. Numerical parity with onnxruntime is check_parity.py's.
#include "mlflow/onnx/exporter.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/adaptive.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "mlflow/onnx/ops.h"
#include "support/test_support.h"

namespace nn = torch::nn;
using mlflow::StatusCode;
using mlflow::onnx::Exporter;
using mlflow::onnx::ExportOptions;

namespace {

ExportOptions image_input() {
  ExportOptions o;
  o.input_shape = {1, 28, 28};
  o.input_mean = {0.5};
  o.input_std = {0.25};
  return o;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A block of one's own: y = x + relu(linear(x)).
class SkipImpl : public nn::Module {
 public:
  SkipImpl() : fc(register_module("fc", nn::Linear(8, 8))) {}
  at::Tensor forward(const at::Tensor& x) { return x.add(fc->forward(x).relu()); }
  nn::Linear fc;
};
TORCH_MODULE(Skip);

}  // namespace

TEST_CASE("every standard layer exports into a checked graph, and the module keeps its mode") {
  mlflow::testing::TempDir tmp;
  nn::Sequential model(
      nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::ReLU6(),
      nn::Conv2d(nn::Conv2dOptions(4, 4, 3).stride(2).padding(1).groups(4).bias(false)), nn::ReLU(),
      nn::MaxPool2d(2), nn::AvgPool2d(nn::AvgPool2dOptions(1)),
      nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(3)),  // 7 -> 3: uneven windows
      nn::Flatten(), nn::Linear(36, 10), nn::BatchNorm1d(10), nn::Tanh(), nn::Dropout(0.5),
      nn::Identity(), nn::Softmax(1));
  model->train();
  const std::string path = tmp.path() + "/model.onnx";
  auto info = Exporter().export_module(*model, image_input(), path);
  REQUIRE_MESSAGE(info.ok(), info.status().to_string());
  CHECK(info->opset == 17);
  CHECK(info->onnx_version == "1.12.0");
  CHECK(info->output_shape == std::vector<std::int64_t>{10});
  for (const char* op :
       {"Sub", "Div", "Conv", "BatchNormalization", "Clip", "Relu", "MaxPool", "AveragePool",
        "MatMul", "Flatten", "Gemm", "Mul", "Add", "Tanh", "Softmax"}) {
    CHECK_MESSAGE(has(info->op_types, op), op);
  }
  CHECK(std::filesystem::file_size(path) == info->bytes);
  CHECK(model->is_training());  // eval for the export only
}

TEST_CASE("a converter of one's own handles a composite block, built from the ops") {
  Exporter ex;
  ex.add_converter<SkipImpl>(
      [](nn::Module& m, const mlflow::onnx::Value& in, const std::string& path, Exporter& e) {
        auto& skip = dynamic_cast<SkipImpl&>(m);
        auto fc = e.convert(*skip.fc, in, path + ".fc");
        if (!fc.ok()) return fc;
        const mlflow::onnx::Value relu{e.graph().add_node("Relu", {fc->name}, {}, path),
                                       fc->example.relu()};
        return mlflow::StatusOr<mlflow::onnx::Value>(mlflow::onnx::add(e.graph(), in, relu, path));
      });
  nn::Sequential model(Skip(), nn::Linear(8, 3));
  ExportOptions o;
  o.input_shape = {8};
  auto built = ex.build(*model, o);
  REQUIRE_MESSAGE(built.ok(), built.status().to_string());
  CHECK(built->info.output_shape == std::vector<std::int64_t>{3});
  CHECK(has(built->info.op_types, "Add"));
  // Without the converter the same model is refused, naming the block.
  auto refused = Exporter().build(*model, o);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kUnimplemented);
  CHECK(refused.status().message().find("module '0'") != std::string::npos);
  CHECK(refused.status().message().find("SkipImpl") != std::string::npos);
}

TEST_CASE("an unsupported layer is refused with its path and type, and nothing is written") {
  mlflow::testing::TempDir tmp;
  nn::Sequential model(nn::Flatten(), nn::Linear(784, 16), nn::GELU());
  const std::string path = tmp.path() + "/model.onnx";
  auto info = Exporter().export_module(*model, image_input(), path);
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().code() == StatusCode::kUnimplemented);
  CHECK(info.status().message().find("module '2'") != std::string::npos);
  CHECK(info.status().message().find("torch::nn::GELUImpl") != std::string::npos);
  CHECK(info.status().message().find(path) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("bad options and shapes are refused before anything is built") {
  nn::Sequential model(nn::Flatten(), nn::Linear(784, 10));
  ExportOptions none;
  auto no_shape = Exporter().build(*model, none);
  REQUIRE_FALSE(no_shape.ok());
  CHECK(no_shape.status().code() == StatusCode::kInvalidArgument);
  CHECK(no_shape.status().message().find("no input shape") != std::string::npos);

  ExportOptions wrong = image_input();
  wrong.input_shape = {1, 10, 10};
  auto mismatch = Exporter().build(*model, wrong);
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.status().code() == StatusCode::kInvalidArgument);
  CHECK(mismatch.status().message().find("[N, 1, 10, 10]") != std::string::npos);

  ExportOptions norm = image_input();
  norm.input_std = {0.25, 0.5};
  CHECK(Exporter().build(*model, norm).status().code() == StatusCode::kInvalidArgument);
  norm.input_std = {0.0};
  CHECK(Exporter().build(*model, norm).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a write failure names the file and leaves nothing behind") {
  mlflow::testing::TempDir tmp;
  nn::Sequential model(nn::Flatten(), nn::Linear(784, 10));
  const std::string path = tmp.path() + "/missing-dir/model.onnx";
  auto info = Exporter().export_module(*model, image_input(), path);
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().message().find(path) != std::string::npos);
  CHECK(std::filesystem::is_empty(tmp.path()));
}

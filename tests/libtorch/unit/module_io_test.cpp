// SPDX-License-Identifier: Apache-2.0
// Tests of saving and loading any module's weights: a round trip, and mismatches named before
// loading.
#include "mlflow/libtorch/module_io.h"

#include <doctest/doctest.h>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "support/test_support.h"

namespace mlflow::libtorch {
namespace {

torch::nn::Sequential mlp(std::int64_t hidden) {
  return torch::nn::Sequential(torch::nn::Linear(6, hidden), torch::nn::BatchNorm1d(hidden),
                               torch::nn::ReLU(), torch::nn::Linear(hidden, 3));
}

TEST_CASE("module io: a saved module loads into a fresh one of the same shape, outputs identical") {
  testing::TempDir dir;
  auto a = mlp(8);
  auto b = mlp(8);
  const std::string path = dir.path() + "/w.pt";
  REQUIRE(save_module(*a, path).ok());
  Status st = load_module(*b, path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  a->eval();
  b->eval();
  const auto x = torch::randn({4, 6});
  CHECK(torch::equal(a->forward(x), b->forward(x)));
}

TEST_CASE("module io: a mismatch names the first tensor and both shapes, and loads nothing") {
  testing::TempDir dir;
  auto saved = mlp(8);
  const std::string path = dir.path() + "/w.pt";
  REQUIRE(save_module(*saved, path).ok());

  auto other = mlp(5);
  const auto before = other->named_parameters()["0.weight"].clone();
  Status st = load_module(*other, path);
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("'0.weight' is [8, 6] in the weights and [5, 6] in the model") !=
        std::string::npos);
  CHECK(torch::equal(other->named_parameters()["0.weight"], before));

  // A module with a layer the weights lack.
  auto longer = mlp(8);
  longer->push_back(torch::nn::Linear(3, 2));
  st = load_module(*longer, path);
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("the model has submodule '4', the weights do not") != std::string::npos);

  // Weights with a layer the module lacks.
  auto shorter =
      torch::nn::Sequential(torch::nn::Linear(6, 8), torch::nn::BatchNorm1d(8), torch::nn::ReLU());
  st = load_module(*shorter, path);
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("the weights have '3', the model does not") != std::string::npos);
}

TEST_CASE(
    "module io: a missing file is kNotFound, a file that is no archive kInvalidArgument naming "
    "it") {
  testing::TempDir dir;
  auto m = mlp(4);
  CHECK(load_module(*m, dir.path() + "/none.pt").code() == StatusCode::kNotFound);
  testing::write_file(dir.path() + "/junk.pt", "not an archive");
  Status st = load_module(*m, dir.path() + "/junk.pt", "model weights");
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("model weights '" + dir.path() + "/junk.pt'") != std::string::npos);
}

}  // namespace
}  // namespace mlflow::libtorch

// SPDX-License-Identifier: Apache-2.0
// LibTorch's side of the ONNX parity test (check_parity.py runs onnxruntime on the other): exports
// each architecture, or a logged model, to ONNX and writes LibTorch's logits for the same images.
// Usage: onnx_parity_dump IMAGES COUNT OUT_DIR [MODEL_DIR]
//   IMAGES: COUNT x 1 x 28 x 28 float32 (pixel / 255, the signature's scale), raw little-endian.
//   Without MODEL_DIR: every architecture, built with seeded random weights and batch-norm
//   statistics far from the identity, exported to OUT_DIR/<name>.onnx. With MODEL_DIR (a model as
//   fmnist_train logs it): its weights, against its own model.onnx.
//   Writes OUT_DIR/<name>.logits (COUNT x classes float32) and OUT_DIR/parity.json naming them.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <ATen/ops/from_blob.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <nlohmann/json.hpp>
#include <torch/nn/modules/batchnorm.h>
#include <torch/utils.h>

#include "fmnist/fmnist_data.h"
#include "fmnist/model_onnx.h"
#include "fmnist/models.h"
#include "mlflow/atomic_file.h"
#include "mlflow/libtorch/model_store.h"

namespace fm = mlflow::fmnist;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::cerr << "onnx_parity_dump: " << what << "\n";
  std::exit(1);
}

// Random affine parameters and running statistics: a fresh batch norm is nearly the identity, which
// would hide a wrong epsilon, variance or order.
template <class BatchNorm>
void scramble(BatchNorm& bn) {
  bn.weight.uniform_(0.5, 1.5);
  bn.bias.normal_(0, 0.2);
  bn.running_mean.normal_(0, 0.2);
  bn.running_var.uniform_(0.5, 2.0);
}

void scramble_batch_norms(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (const auto& m : model.modules()) {
    if (auto* bn2 = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) scramble(*bn2);
    if (auto* bn1 = dynamic_cast<torch::nn::BatchNorm1dImpl*>(m.get())) scramble(*bn1);
  }
}

// LibTorch's logits for images in the signature's scale, normalised as the served model does.
at::Tensor logits(fm::Classifier& model, const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  model->eval();
  return model->forward((images - fm::kFmnistPixelMean) / fm::kFmnistPixelStd).contiguous();
}

void write(const std::string& path, const at::Tensor& t) {
  const auto* p = static_cast<const char*>(t.data_ptr());
  auto s = mlflow::write_file_atomically(
      path, std::string_view(p, static_cast<std::size_t>(t.numel()) * sizeof(float)));
  if (!s.ok()) die(s.to_string());
}

struct Arch {
  std::string name;
  fm::ModelConfig config;
};

std::vector<Arch> architectures() {
  std::vector<Arch> out;
  fm::ModelConfig c;
  c.architecture = fm::kSmallCnn;
  out.push_back({"small_cnn", c});
  c.head = fm::kHeadLinear;
  out.push_back({"small_cnn_linear_head", c});
  c = {};
  c.architecture = fm::kMobileNetV2;  // the champion's shape: stage taps pooled and concatenated
  c.width_multiplier = 0.5;
  c.layout = fm::kLayoutSmall;
  out.push_back({"mobilenet_v2_small_w0.5", c});
  c.layout = fm::kLayoutImagenet;  // global pooling after a 1x1 convolution to 1280
  c.width_multiplier = 1.0;
  out.push_back({"mobilenet_v2_imagenet_w1", c});
  c = {};
  c.architecture = fm::kPixels;
  out.push_back({"pixels", c});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: onnx_parity_dump IMAGES COUNT OUT_DIR [MODEL_DIR]\n";
    return 2;
  }
  const std::string out_dir = argv[3];
  const std::int64_t count = std::stoll(argv[2]);
  std::vector<float> pixels(static_cast<std::size_t>(count) * 28 * 28);
  std::ifstream in(argv[1], std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(pixels.data()),
               static_cast<std::streamsize>(pixels.size() * sizeof(float)))) {
    die(std::string("cannot read ") + std::to_string(count) + " images from " + argv[1]);
  }
  const at::Tensor images = at::from_blob(pixels.data(), {count, 1, 28, 28}, at::kFloat);
  at::set_num_threads(1);

  nlohmann::json manifest = {
      {"images", argv[1]}, {"count", count}, {"models", nlohmann::json::array()}};
  auto add = [&](const std::string& name, const std::string& onnx, fm::Classifier& model) {
    const at::Tensor y = logits(model, images);
    write(out_dir + "/" + name + ".logits", y);
    manifest["models"].push_back({{"name", name},
                                  {"onnx", onnx},
                                  {"logits", out_dir + "/" + name + ".logits"},
                                  {"classes", y.size(1)}});
  };
  if (argc == 5) {
    auto local = mlflow::libtorch::open_local_model(argv[4]);
    if (!local.ok()) die(local.status().to_string());
    auto model = fm::load_classifier(local->flavor.config_json, local->weights_path);
    if (!model.ok()) die(model.status().to_string());
    add("logged_" + (*model)->config().architecture,
        local->dir + "/" + mlflow::onnx::kOnnxModelFile, *model);
  } else {
    std::uint64_t seed = 1;
    for (auto& arch : architectures()) {
      auto model = fm::make_classifier(arch.config, seed++);
      if (!model.ok()) die(model.status().to_string());
      scramble_batch_norms(**model);
      const std::string onnx = out_dir + "/" + arch.name + ".onnx";
      auto exported = fm::make_onnx_exporter().export_module(
          **model, fm::onnx_export_options(arch.config), onnx);
      if (!exported.ok()) die(exported.status().to_string());
      add(arch.name, onnx, *model);
    }
  }
  auto s = mlflow::write_file_atomically(out_dir + "/parity.json", manifest.dump(2));
  if (!s.ok()) die(s.to_string());
  return 0;
}

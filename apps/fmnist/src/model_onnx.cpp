// SPDX-License-Identifier: Apache-2.0
// Converters for the classifier and MobileNetV2's block: what their forward() does, as ONNX.
#include "fmnist/model_onnx.h"

#include <utility>
#include <vector>

#include "fmnist/fmnist_data.h"
#include "inverted_residual.h"
#include "mlflow/onnx/ops.h"

namespace mlflow::fmnist {
namespace {

using onnx::Exporter;
using onnx::Value;

std::string child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

// ClassifierImpl::features() then classify(): the backbone's output, or its tapped stages each
// pooled, flattened and concatenated.
StatusOr<Value> classifier(ClassifierImpl& m, const Value& in, const std::string& path,
                           Exporter& ex) {
  const std::string backbone = child(path, "backbone");
  StatusOr<Value> features = Status();
  if (m.taps().empty()) {
    features = ex.convert(*m.backbone, in, backbone);
  } else {
    const auto& taps = m.taps();
    std::vector<Value> pooled;
    Value x = in;
    std::size_t next = 0;
    std::int64_t index = 0;
    for (const auto& layer : m.backbone->named_children()) {
      const std::string at = child(backbone, layer.key());
      auto y = ex.convert(*layer.value(), x, at);
      if (!y.ok()) return y.status();
      x = std::move(*y);
      if (next < taps.size() && index == taps[next].index) {
        const std::int64_t side = taps[next].side;
        pooled.push_back(onnx::flatten(
            ex.graph(), onnx::adaptive_avg_pool2d(ex.graph(), x, side, side, at + ".tap"), 1,
            at + ".tap"));
        ++next;
      }
      ++index;
    }
    features = onnx::concat(ex.graph(), pooled, 1, backbone + ".features");
  }
  if (!features.ok()) return features.status();
  return ex.convert(*m.head, *features, child(path, "head"));
}

StatusOr<Value> inverted_residual(InvertedResidualImpl& m, const Value& in, const std::string& path,
                                  Exporter& ex) {
  auto y = ex.convert(*m.block(), in, child(path, "block"));
  if (!y.ok() || !m.residual()) return y;
  return onnx::add(ex.graph(), in, *y, path);
}

}  // namespace

onnx::Exporter make_onnx_exporter() {
  Exporter ex;
  ex.add_converter<ClassifierImpl>(
      [](torch::nn::Module& m, const Value& in, const std::string& path, Exporter& e) {
        return classifier(dynamic_cast<ClassifierImpl&>(m), in, path, e);
      });
  ex.add_converter<InvertedResidualImpl>(
      [](torch::nn::Module& m, const Value& in, const std::string& path, Exporter& e) {
        return inverted_residual(dynamic_cast<InvertedResidualImpl&>(m), in, path, e);
      });
  return ex;
}

onnx::ExportOptions onnx_export_options(const ModelConfig& config) {
  onnx::ExportOptions options;
  options.input_shape = {1, kFmnistRows, kFmnistCols};
  options.input_mean = {kFmnistPixelMean};
  options.input_std = {kFmnistPixelStd};
  options.doc_string = config.architecture +
                       " Fashion-MNIST classifier (mlflow-cpp): input pixel / 255, output logits";
  return options;
}

StatusOr<onnx::ExportedModel> export_onnx(Classifier& model) {
  return make_onnx_exporter().build(*model, onnx_export_options(model->config()));
}

StatusOr<onnx::ExportedModel> export_onnx(const std::string& config_json,
                                          const std::string& weights_path) {
  auto model = load_classifier(config_json, weights_path);
  if (!model.ok()) return model.status();
  return export_onnx(*model);
}

}  // namespace mlflow::fmnist

// SPDX-License-Identifier: Apache-2.0
// The classifiers as ONNX: mlflow::onnx's exporter taught this app's own blocks.
#pragma once

#include <string>

#include "fmnist/models.h"
#include "mlflow/onnx/exporter.h"
#include "mlflow/status.h"

namespace mlflow::fmnist {

/// An exporter with converters for ClassifierImpl (its stage taps pooled and concatenated) and
/// MobileNetV2's inverted residual block (with its add), besides the standard layers.
onnx::Exporter make_onnx_exporter();

/// What export_onnx() gives the exporter: input float32 [N, 1, 28, 28] in the training scale (pixel
/// / 255, the logged signature's), normalised inside the graph by kFmnistPixelMean /
/// kFmnistPixelStd; output "logits" float32 [N, num_classes].
onnx::ExportOptions onnx_export_options(const ModelConfig& config);

/// `model` as ONNX (onnx_export_options()). Errors as onnx::Exporter::build().
StatusOr<onnx::ExportedModel> export_onnx(Classifier& model);

/// The model of `config_json` (ModelConfig::to_json()) with the weights at `weights_path`
/// (save_weights()), as export_onnx(model) exports it. Errors name the config or weights file.
StatusOr<onnx::ExportedModel> export_onnx(const std::string& config_json,
                                          const std::string& weights_path);

}  // namespace mlflow::fmnist

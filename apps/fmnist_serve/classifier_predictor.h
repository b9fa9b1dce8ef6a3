// SPDX-License-Identifier: Apache-2.0
// A Fashion-MNIST classifier (apps/fmnist models) behind the server's Predictor interface.
#pragma once

#include <memory>

#include "mlflow/libtorch/model_store.h"
#include "predictor.h"

namespace mlflow::serve {

/// Builds the model `model` describes (its flavor's architecture config), loads its weights, and
/// returns it in eval mode. The input must be 1x28x28 float32 with 10 classes (a rotation
/// pretraining model has 4 and is refused): kInvalidArgument naming model.source_uri and what
/// differs; kInvalidArgument when the weights do not fit the config. `info` is returned by info()
/// as given, with its class names and architecture filled in from the flavor. Inference uses
/// LibTorch's intra-op pool as set by set_inference_threads().
StatusOr<std::unique_ptr<Predictor>> make_classifier_predictor(const libtorch::LocalModel& model,
                                                               ModelInfo info);

/// LibTorch's intra-op threads for inference (0 = all cores). Process-wide.
void set_inference_threads(int threads);

}  // namespace mlflow::serve

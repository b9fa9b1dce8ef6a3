// SPDX-License-Identifier: Apache-2.0
// Request bodies of the protocols the server speaks, turned into images: MLflow's scoring protocol
// (dataframe_split, dataframe_records, instances, inputs) and Open Inference Protocol v2 FP32
// tensors. Every form carries float32 [N, 1, 28, 28] in the training scale (pixel / 255); the
// shapes [N, 28, 28] and [N, 784] are accepted too. Errors are kInvalidArgument with a message
// naming the key, element or shape that is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::serve {

/// Images decoded from a request.
struct ImageBatch {
  std::vector<float> images;  ///< n x kImageSize floats
  std::int64_t n = 0;         ///< number of images
  std::string id;             ///< Open Inference Protocol: the request's "id" (echoed back)
};

/// The most images one request may carry.
inline constexpr std::int64_t kMaxRequestImages = 1024;

/// The body of POST /invocations (JSON): exactly one of dataframe_split, dataframe_records,
/// instances, inputs ("params" is allowed and ignored, as MLflow does for models without params).
StatusOr<ImageBatch> parse_scoring_request(std::string_view body);

/// The body of POST /v2/models/{name}/infer: one FP32 input of shape [N, 1, 28, 28] (flat or
/// nested data).
StatusOr<ImageBatch> parse_inference_request(std::string_view body);

/// {"predictions": [[p0..p9], ...]}: MLflow's scoring answer.
std::string scoring_response(const std::vector<float>& probabilities, std::int64_t n);

/// The Open Inference Protocol answer: one FP32 output "probabilities" of shape [n, classes].
std::string inference_response(const std::vector<float>& probabilities, std::int64_t n,
                               const std::string& model_name, const std::string& model_version,
                               const std::string& id);

}  // namespace mlflow::serve

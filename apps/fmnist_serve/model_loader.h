// SPDX-License-Identifier: Apache-2.0
// Loading the model to serve from a URI: the registry (by alias or version), a run, a logged
// model, or a local directory; shared by fmnist_serve and fmnist_score.
#pragma once

#include <memory>
#include <string>

#include "mlflow/client.h"
#include "predictor.h"

namespace mlflow::serve {

/// Fetches `uri` into `dest_dir` (see libtorch::fetch_model: replaced atomically) and loads it.
/// `models:/NAME@ALIAS` is resolved to its version first and that version is fetched, so the
/// files and ModelInfo::version agree even if the alias moves meanwhile. A local directory (or
/// MLmodel file) is used in place and needs no client. kInvalidArgument when `uri` is a model URI
/// and `client` is null; fetch_model()'s and make_classifier_predictor()'s errors otherwise.
StatusOr<std::unique_ptr<Predictor>> load_predictor(MlflowClient* client, const std::string& uri,
                                                    const std::string& dest_dir);

}  // namespace mlflow::serve

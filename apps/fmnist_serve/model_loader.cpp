// SPDX-License-Identifier: Apache-2.0
#include "model_loader.h"

#include <filesystem>
#include <utility>

#include "classifier_predictor.h"
#include "mlflow/libtorch/model_store.h"
#include "mlflow/model_uri.h"

namespace mlflow::serve {

StatusOr<std::unique_ptr<Predictor>> load_predictor(MlflowClient* client, const std::string& uri,
                                                    const std::string& dest_dir) {
  ModelInfo info;
  info.uri = uri;
  if (!is_model_uri(uri)) {
    auto local = libtorch::open_local_model(uri);
    if (!local.ok()) return local.status();
    info.name = std::filesystem::path(local->dir).filename().string();
    return make_classifier_predictor(*local, std::move(info));
  }
  if (client == nullptr) {
    return Status(StatusCode::kInvalidArgument, uri + ": a model URI needs a tracking server");
  }
  auto parsed = parse_model_uri(uri);
  if (!parsed.ok()) return parsed.status();
  std::string fetch_uri = uri;
  switch (parsed->kind) {
    case ModelUri::Kind::kAlias: {
      auto version = client->get_model_version_by_alias(parsed->name, parsed->alias);
      if (!version.ok()) return version.status().with_context("resolving " + uri);
      info.name = parsed->name;
      info.alias = parsed->alias;
      info.version = version->version;
      info.run_id = version->run_id;
      info.model_id = version->model_id;
      fetch_uri = "models:/" + parsed->name + "/" + version->version;
      break;
    }
    case ModelUri::Kind::kVersion:
    case ModelUri::Kind::kLatest: {
      auto resolved = resolve_model_uri(*client, uri);
      if (!resolved.ok()) return resolved.status();
      info.name = parsed->name;
      info.version = resolved->version;
      info.model_id = resolved->model_id;
      info.run_id = resolved->run_id;
      fetch_uri = "models:/" + parsed->name + "/" + resolved->version;
      break;
    }
    case ModelUri::Kind::kLoggedModel:
      info.name = parsed->model_id;
      info.model_id = parsed->model_id;
      break;
    case ModelUri::Kind::kRun:
      info.name = parsed->path;
      info.run_id = parsed->run_id;
      break;
  }
  auto local = libtorch::fetch_model(*client, fetch_uri, dest_dir);
  if (!local.ok()) return local.status();
  return make_classifier_predictor(*local, std::move(info));
}

}  // namespace mlflow::serve

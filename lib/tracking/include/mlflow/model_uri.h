// SPDX-License-Identifier: Apache-2.0
// runs:/ and models:/ URIs: taken apart and resolved against the server as MLflow 3 resolves them
// (mlflow/store/artifact/utils/models.py, runs_artifact_repo.py, models_artifact_repo.py).
#pragma once

#include <string>

#include "mlflow/client.h"
#include "mlflow/status.h"

namespace mlflow {

/// A runs:/ or models:/ URI taken apart as MLflow's _parse_model_uri / parse_runs_uri do.
struct ModelUri {
  /// Which of MLflow's URI forms it is, and so which fields below are set.
  enum class Kind {
    kRun,          ///< runs:/RUN_ID[/PATH]: run_id, path
    kLoggedModel,  ///< models:/MODEL_ID: model_id
    kVersion,      ///< models:/NAME/VERSION (digits): name, version
    kAlias,        ///< `models:/NAME@ALIAS`: name, alias
    kLatest,       ///< models:/NAME/latest (any case): name; models:/NAME/STAGE: name, stage
  };
  Kind kind = Kind::kRun;  ///< the form; it says which fields below are set
  std::string run_id;      ///< runs:/ URIs: the run
  std::string path;        ///< normalised relative path after the run id ("" for none)
  std::string model_id;    ///< models:/MODEL_ID: the logged model's id
  std::string name;        ///< registry URIs: the registered model's name
  std::string version;     ///< models:/NAME/VERSION: the version, digits
  std::string alias;       ///< `models:/NAME@ALIAS`: the alias
  std::string stage;       ///< empty for "latest" (the highest version of any stage)
};

/// Whether `s` starts with runs:/ or models:/ (so it is to be resolved, not read as a path).
bool is_model_uri(const std::string& s);

/// Parses a runs:/ or models:/ URI. kInvalidArgument naming the URI and the accepted forms when it
/// is malformed (no id or name, an empty version or alias, more than NAME/SUFFIX, an unsafe path).
StatusOr<ModelUri> parse_model_uri(const std::string& uri);

/// Where a model URI's files are: `path` under the artifact root `root_uri`.
struct ResolvedModelUri {
  std::string root_uri;  ///< a logged model's artifact location, a version's, or the run's root
  std::string path;      ///< relative to root_uri; empty for the root itself
  std::string model_id;  ///< the logged model's id, when the URI leads to one
  std::string run_id;    ///< runs:/ URIs: the run
  std::string version;   ///< registry URIs: the version the URI stands for
  /// Said after a "nothing there" error: " (logged model m-1 is PENDING)", or that the run has
  /// no logged model of that name either. Empty when there is nothing to add.
  std::string note;

  /// root_uri, with "/" + path when path is not empty.
  std::string artifact_uri() const;
};

/// Resolves a model URI as MLflow 3 does when it loads a model:
///  - runs:/RUN/NAME[/SUB]: the newest logged model called NAME whose source run is RUN (READY
///    ones first), at SUB; when the run has none, the run's own artifacts at NAME/SUB (as MLflow 2
///    stored models). runs:/RUN: the run's artifact root.
///  - models:/NAME/VERSION: that version's download location; `models:/NAME@ALIAS`: the version the
///    alias points to (kNotFound naming the alias when it is not set); models:/NAME/latest: the
///    highest of the latest versions per stage; models:/NAME/STAGE: the highest in that stage
///    (stage compared without case; kNotFound when none); models:/MODEL_ID: the logged model's
///    artifact location.
/// Errors: parse_model_uri's; the server's (kNotFound for a missing run, model or version).
StatusOr<ResolvedModelUri> resolve_model_uri(MlflowClient& client, const std::string& uri);

/// The artifact location artifact operations on `uri` use, as MLflow's artifact repositories:
/// runs:/RUN[/PATH] is the run's artifact root + PATH (the run's own files, where uploads go, never
/// a logged model's); models:/ URIs as resolve_model_uri(); any other URI is returned unchanged.
StatusOr<std::string> resolve_artifact_location(MlflowClient& client, const std::string& uri);

}  // namespace mlflow

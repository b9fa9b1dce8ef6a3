// SPDX-License-Identifier: Apache-2.0
// What fmnist_eda records in its MLflow run: params, metrics, verdict tags, dataset inputs and the
// files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fmnist/eda.h"
#include "mlflow/run.h"
#include "mlflow/types.h"

namespace mlflow::apps {

/// Everything the run gets, prepared before the run exists.
struct EdaRunContent {
  std::map<std::string, std::string> params;
  std::map<std::string, double> metrics;
  std::map<std::string, std::string> tags;
  std::vector<DatasetInput> inputs;
  std::string files_dir;  ///< its files are uploaded to the artifact root
};

/// Params, metrics and tags of `result` (the dataset inputs and files are added by the caller).
EdaRunContent eda_run_content(const fmnist::EdaResult& result, const std::string& data_dir,
                              const fmnist::SplitOptions& split);

/// Logs `content` to `run` (does not end it); the first error, with what was being logged.
Status log_eda_run(ActiveRun& run, const EdaRunContent& content);

}  // namespace mlflow::apps

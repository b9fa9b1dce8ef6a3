// SPDX-License-Identifier: Apache-2.0
// The sweep's parent run: found (and resumed), created by shard 0, or waited for by the other
// shards.
#include <filesystem>

#include <fmt/format.h>

#include "mlflow/system_tags.h"
#include "sweep_run.h"

namespace mlflow::sweep::detail {

namespace fs = std::filesystem;

// Finds the sweep's parent run, or creates it (shard 0 only: the other shards wait for it).
Status SweepRun::attach_parent() {
  if (options_.dry_run) {
    auto experiment = client_.get_experiment_by_name(spec_.experiment);
    if (!experiment.ok()) {
      if (experiment.status().code() == StatusCode::kNotFound) return ok_status();
      return experiment.status();
    }
    report_.experiment_id = experiment->experiment_id;
  } else {
    auto experiment = client_.get_or_create_experiment(spec_.experiment);
    if (!experiment.ok())
      return experiment.status().with_context("experiment '" + spec_.experiment + "'");
    report_.experiment_id = *experiment;
  }
  const Deadline deadline(options_, options_.wait_timeout);
  bool told = false;
  while (true) {
    auto parent = find_parent_run(client_, report_.experiment_id, spec_);
    if (!parent.ok()) return parent.status();
    if (*parent) {
      report_.parent_run_id = (*parent)->info.run_id;
      const bool ended = (*parent)->info.status != RunStatus::kRunning;
      if (ended && !options_.dry_run) {
        auto resumed = client_.update_run(report_.parent_run_id, RunStatus::kRunning);
        if (!resumed.ok()) return resumed.status().with_context("resuming the parent run");
      }
      break;
    }
    if (options_.dry_run) return ok_status();
    if (!options_.shard.sharded() || options_.shard.index == 0) {
      MLFLOW_CPP_RETURN_IF_ERROR(create_parent());
      break;
    }
    if (deadline.passed()) {
      return Status(
          StatusCode::kDeadlineExceeded,
          fmt::format(
              "shard {}/{}: shard 0 did not create the parent run of sweep '{}' within {} s",
              options_.shard.index, options_.shard.count, spec_.name,
              options_.wait_timeout.count() / 1000));
    }
    if (!told)
      observer_.message(
          fmt::format("waiting for shard 0 to create the parent run of sweep '{}'", spec_.name));
    told = true;
    if (!wait_a_while(options_, options_.parent_poll)) {
      report_.interrupted = true;
      return ok_status();
    }
  }
  report_.ui_link = client_.run_ui_url(report_.experiment_id, report_.parent_run_id);
  return ok_status();
}

Status SweepRun::create_parent() {
  MlflowClient::RunCreate create;
  create.experiment_id = report_.experiment_id;
  create.run_name = spec_.name;
  create.tags = mlflow::system_tags("sweep_runner");
  create.tags.push_back({kTagSweepName, spec_.name});
  create.tags.push_back({kTagSpecHash, spec_.hash});
  create.tags.push_back({kTagSpecFile, fs::path(spec_.file).filename().string()});
  if (!spec_.description.empty()) create.tags.push_back({"mlflow.note.content", spec_.description});
  auto run = client_.create_run(create);
  if (!run.ok())
    return run.status().with_context("creating the parent run of sweep '" + spec_.name + "'");
  report_.parent_run_id = run->info.run_id;
  std::vector<Param> params = {{"method", spec_.method},
                               {"metric", spec_.metric.name},
                               {"goal", spec_.metric.maximize ? "maximize" : "minimize"},
                               {"trials", std::to_string(trials_.size())},
                               {"program", spec_.program.label()}};
  MLFLOW_CPP_RETURN_IF_ERROR(
      client_.log_batch(report_.parent_run_id, {}, params).with_context("logging the sweep"));
  return client_.log_artifact(report_.parent_run_id, spec_.file, "")
      .with_context("logging the spec file");
}

}  // namespace mlflow::sweep::detail

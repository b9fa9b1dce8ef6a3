// SPDX-License-Identifier: Apache-2.0
// The sweep engine's entry points and the order of things: dependencies, the parent run, the
// trials, then finalizing; or finalizing only.
#include "mlflow/sweep/runner.h"

#include <algorithm>

#include <fmt/format.h>

#include "sweep_run.h"

namespace mlflow::sweep {

int SweepReport::failed() const {
  return static_cast<int>(std::count_if(trials.begin(), trials.end(), [](const TrialResult& r) {
    return r.status == RunStatus::kFailed || r.status == RunStatus::kKilled;
  }));
}

StatusOr<SweepReport> run_sweep(MlflowClient& client, const SpecCatalog& catalog,
                                const SweepSpec& spec, const RunnerOptions& options,
                                SweepObserver& observer) {
  return detail::SweepRun(client, catalog, spec, options, observer).run();
}

StatusOr<SweepReport> finalize_sweep(MlflowClient& client, const SpecCatalog& catalog,
                                     const SweepSpec& spec, const RunnerOptions& options,
                                     SweepObserver& observer) {
  return detail::SweepRun(client, catalog, spec, options, observer).finalize_only();
}

namespace detail {

StatusOr<SweepReport> SweepRun::run() {
  ResolvedValues resolved;
  MLFLOW_CPP_RETURN_IF_ERROR(resolve_dependencies(resolved));
  if (report_.interrupted) return report_;
  auto trials = expand_trials(spec_, resolved);
  if (!trials.ok()) return trials.status();
  trials_ = std::move(*trials);
  MLFLOW_CPP_RETURN_IF_ERROR(attach_parent());
  if (report_.interrupted) return report_;
  if (report_.parent_run_id.empty()) {  // dry run of a sweep never started
    for (const Trial& t : trials_)
      report_.trials.push_back(TrialResult{t, {}, {}, {}, 0, false, {}, {}});
    observer_.planned(report_, std::vector<TrialState>(trials_.size(), TrialState::kPending),
                      owned_count());
    return report_;
  }
  MLFLOW_CPP_RETURN_IF_ERROR(after_start(plan()));
  if (options_.dry_run) return report_;
  MLFLOW_CPP_RETURN_IF_ERROR(after_start(execute()));
  if (report_.interrupted) {
    // A sharded worker leaves the shared parent to the others: its own trials say KILLED.
    if (!options_.shard.sharded()) {
      auto ended = client_.update_run(report_.parent_run_id, RunStatus::kKilled, clock().wall_ms());
      if (!ended.ok())
        observer_.message("could not mark the parent run KILLED: " + ended.status().to_string());
    }
    auto results = detail::collect_results(client_, spec_, trials_, report_.experiment_id,
                                           report_.parent_run_id);
    if (results.ok()) merge(std::move(*results));
    observer_.finished(report_);
    return report_;
  }
  MLFLOW_CPP_RETURN_IF_ERROR(after_start(conclude()));
  observer_.finished(report_);
  return report_;
}

// Once the parent run exists, a failure ends it FAILED (with the reason) and is no longer a usage
// error: sweep_runner exits 1, and the next invocation resumes.
Status SweepRun::after_start(Status s) {
  if (s.ok() || options_.dry_run) return s;
  (void)client_.set_tag(report_.parent_run_id, kTagError, s.to_string().substr(0, 5000));
  if (!options_.shard.sharded())
    (void)client_.update_run(report_.parent_run_id, RunStatus::kFailed, clock().wall_ms());
  return Status(StatusCode::kAborted, s.message(), s.http_status(), s.error_code());
}

StatusOr<SweepReport> SweepRun::finalize_only() {
  ResolvedValues resolved;
  for (const Dependency& d : catalog_.dependencies(spec_)) {
    if (d.kind != Dependency::Kind::kBestTrial) continue;
    auto value = dependency_value(client_, d);
    if (!value.ok()) return value.status();
    if (!*value) return missing(d, "");
    resolved[d.parameter->name] = **value;
  }
  auto trials = expand_trials(spec_, resolved);
  if (!trials.ok()) return trials.status();
  trials_ = std::move(*trials);
  auto experiment = client_.get_experiment_by_name(spec_.experiment);
  if (!experiment.ok())
    return experiment.status().with_context("sweep '" + spec_.name + "' has not run");
  report_.experiment_id = experiment->experiment_id;
  auto parent = find_parent_run(client_, report_.experiment_id, spec_);
  if (!parent.ok()) return parent.status();
  if (!*parent) {
    return Status(
        StatusCode::kFailedPrecondition,
        fmt::format("{}: sweep '{}' has no parent run in experiment '{}' yet: run it first",
                    spec_.file, spec_.name, spec_.experiment));
  }
  report_.parent_run_id = (*parent)->info.run_id;
  report_.ui_link = client_.run_ui_url(report_.experiment_id, report_.parent_run_id);
  auto results = detail::collect_results(client_, spec_, trials_, report_.experiment_id,
                                         report_.parent_run_id);
  if (!results.ok()) return results.status();
  report_.trials = std::move(*results);
  std::vector<std::string> open;
  for (const auto& r : report_.trials) {
    if (!r.ended()) {
      open.push_back(std::to_string(r.trial.index));
    }
  }
  if (!open.empty()) {
    return Status(
        StatusCode::kFailedPrecondition,
        fmt::format("sweep '{}': trials {} have not ended yet; finalize when every trial has run",
                    spec_.name, fmt::join(open, ", ")));
  }
  report_.complete = true;
  MLFLOW_CPP_RETURN_IF_ERROR(detail::finalize(client_, spec_, report_, observer_));
  observer_.finished(report_);
  return report_;
}

Status SweepRun::missing(const Dependency& d, const std::string& advice) const {
  return Status(
      StatusCode::kFailedPrecondition,
      fmt::format("{}: parameter '{}' needs {}, which does not exist yet{}",
                  d.parameter->where.to_string(), d.parameter->name, d.describe(), advice));
}

void SweepRun::merge(std::vector<TrialResult> results) {
  for (auto& r : results) {
    for (const TrialResult& old : report_.trials) {
      if (old.trial.index == r.trial.index && old.ran_now) {
        r.ran_now = true;
        r.log_file = old.log_file;
      }
    }
  }
  report_.trials = std::move(results);
}

int SweepRun::owned_count() const {
  return static_cast<int>(std::count_if(trials_.begin(), trials_.end(),
                                        [&](const Trial& t) { return options_.shard.owns(t); }));
}

}  // namespace detail
}  // namespace mlflow::sweep

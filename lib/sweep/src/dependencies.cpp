// SPDX-License-Identifier: Apache-2.0
// What a sweep needs first: the value a dependency stands for, running the specs that produce it,
// and waiting for other shards to produce it.
#include <filesystem>

#include <fmt/format.h>

#include "mlflow/registry.h"
#include "sweep_run.h"

namespace mlflow::sweep::detail {

StatusOr<std::optional<std::string>> dependency_value(MlflowClient& client, const Dependency& dep) {
  if (dep.kind == Dependency::Kind::kModelAlias) {
    auto v = find_version_by_alias(client, dep.model_name, dep.alias);
    if (!v.ok()) return v.status();
    if (!*v) return std::optional<std::string>();
    return std::optional<std::string>((*v)->version);
  }
  const SweepSpec& producer = *dep.producer;
  auto experiment = client.get_experiment_by_name(producer.experiment);
  if (!experiment.ok()) {
    if (experiment.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return experiment.status();
  }
  auto parent = find_parent_run(client, experiment->experiment_id, producer);
  if (!parent.ok()) return parent.status();
  if (!*parent) return std::optional<std::string>();
  const std::string best = tag_value(**parent, kTagBestRunId);
  if (best.empty()) return std::optional<std::string>();
  auto run = client.get_run(best);
  if (!run.ok())
    return run.status().with_context("reading the best trial of sweep '" + producer.name + "'");
  auto value = param_value(*run, dep.parameter->from_parameter);
  if (!value) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("{}: the best trial of sweep '{}' (run {}) has no param '{}'",
                              dep.parameter->where.to_string(), producer.name, best,
                              dep.parameter->from_parameter));
  }
  return std::optional<std::string>(*value);
}

// Runs (or, in a dry run, describes) the specs producing what this one needs; fills from_sweep
// values.
Status SweepRun::resolve_dependencies(ResolvedValues& resolved) {
  for (const Dependency& d : catalog_.dependencies(spec_)) {
    auto value = dependency_value(client_, d);
    if (!value.ok()) return value.status();
    if (!*value) {
      if (d.producer == nullptr) {
        return missing(d, fmt::format(" and no spec in {} registers it",
                                      std::filesystem::path(spec_.file).parent_path().string()));
      }
      if (options_.no_deps) {
        return missing(
            d, fmt::format("; run `sweep_runner {}` first, or drop --no-deps", d.producer->file));
      }
      if (options_.dry_run) {
        observer_.message(fmt::format("sweep '{}' needs {}: it would run {} first", spec_.name,
                                      d.describe(), d.producer->file));
        auto sub = SweepRun(client_, catalog_, *d.producer, options_, observer_).run();
        if (!sub.ok()) return sub.status();
        if (d.kind == Dependency::Kind::kBestTrial)
          resolved[d.parameter->name] = "<best of " + d.producer->name + ">";
        continue;
      }
      observer_.message(fmt::format("sweep '{}' needs {}: running {} first", spec_.name,
                                    d.describe(), d.producer->file));
      auto sub = SweepRun(client_, catalog_, *d.producer, options_, observer_).run();
      if (!sub.ok()) return sub.status();
      if (sub->interrupted) {
        report_.interrupted = true;
        return ok_status();
      }
      MLFLOW_CPP_RETURN_IF_ERROR(wait_for(d, value));
      if (report_.interrupted) return ok_status();
      if (!*value) {
        return Status(StatusCode::kFailedPrecondition,
                      fmt::format("{}: {} ran but did not produce {} (see its failed trials)",
                                  d.parameter->where.to_string(), d.producer->file, d.describe()));
      }
    }
    if (d.kind == Dependency::Kind::kBestTrial) resolved[d.parameter->name] = **value;
  }
  return ok_status();
}

// Another shard may still be producing the dependency: wait for it (unsharded: look once).
Status SweepRun::wait_for(const Dependency& d, StatusOr<std::optional<std::string>>& value) {
  const Deadline deadline(options_, options_.wait_timeout);
  bool told = false;
  while (true) {
    value = dependency_value(client_, d);
    if (!value.ok()) return value.status();
    if (*value || !options_.shard.sharded()) return ok_status();
    if (deadline.passed()) {
      return Status(StatusCode::kDeadlineExceeded,
                    fmt::format("waited {} s for {} from the other shards",
                                options_.wait_timeout.count() / 1000, d.describe()));
    }
    if (!told)
      observer_.message(fmt::format("waiting for the other shards to finish {}", d.describe()));
    told = true;
    if (!wait_a_while(options_, options_.dependency_poll)) {
      report_.interrupted = true;
      return ok_status();
    }
  }
}

}  // namespace mlflow::sweep::detail

// SPDX-License-Identifier: Apache-2.0
// The end of a sweep: results table, best trial, champion/challenger registration.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "mlflow/registry.h"
#include "sweep_internal.h"

namespace mlflow::sweep::detail {

namespace {

std::string results_markdown(const SweepSpec& spec, const SweepReport& report) {
  std::string md = fmt::format("# Sweep {}\n\nmetric: {} ({})\n\n| trial |", spec.name,
                               spec.metric.name, spec.metric.maximize ? "maximize" : "minimize");
  for (const auto& p : spec.parameters) md += " " + p.name + " |";
  md += fmt::format(" {} | status | seconds | run |\n|---|", spec.metric.name);
  for (std::size_t i = 0; i < spec.parameters.size() + 4; ++i) md += "---|";
  md += "\n";
  for (std::size_t i = 0; i < report.trials.size(); ++i) {
    const TrialResult& r = report.trials[i];
    md += fmt::format("| {}{} |", r.trial.index, report.best == i ? " (best)" : "");
    for (const auto& [k, v] : r.trial.params) md += " " + v + " |";
    md +=
        fmt::format(" {} | {} | {:.0f} | {} |\n", r.metric ? fmt::format("{:.6g}", *r.metric) : "",
                    r.status ? to_string(*r.status) : "NOT RUN", r.seconds, r.run_id);
  }
  return md;
}

std::string results_json(const SweepSpec& spec, const SweepReport& report) {
  nlohmann::json trials = nlohmann::json::array();
  for (const auto& r : report.trials) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : r.trial.params) params[k] = v;
    trials.push_back({{"trial", r.trial.index},
                      {"params", params},
                      {"config_hash", r.trial.config_hash},
                      {"run_id", r.run_id},
                      {"status", r.status ? to_string(*r.status) : "NOT_RUN"},
                      {"metric", r.metric ? nlohmann::json(*r.metric) : nlohmann::json()},
                      {"seconds", r.seconds}});
  }
  nlohmann::json j = {{"sweep", spec.name},
                      {"spec_hash", spec.hash},
                      {"metric", spec.metric.name},
                      {"goal", spec.metric.maximize ? "maximize" : "minimize"},
                      {"trials", trials}};
  if (report.best) j["best_trial"] = report.trials[*report.best].trial.index;
  return j.dump();
}

// The alias holder and its score on the sweep's metric.
StatusOr<std::optional<Champion>> current_champion(MlflowClient& client, const SweepSpec& spec) {
  const auto& reg = spec.register_model;
  auto found = find_version_by_alias(client, reg.model_name, reg.alias);
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<Champion>();
  const ModelVersion& holder = **found;
  Champion c;
  c.version = holder.version;
  if (!holder.run_id.empty()) {
    auto run = client.get_run(holder.run_id);
    if (run.ok()) c.metric = metric_value(*run, spec.metric.name);
  }
  return std::optional<Champion>(c);
}

Status register_best(MlflowClient& client, const SweepSpec& spec, SweepReport& report,
                     SweepObserver& observer) {
  const auto& reg = spec.register_model;
  const TrialResult& best = report.trials[*report.best];
  Registration out;
  out.model_name = reg.model_name;
  out.alias = reg.alias;

  // Registered by an earlier finalize of this sweep already? Then only report it.
  SearchOptions search;
  search.filter = fmt::format("name = '{}'", reg.model_name);
  auto versions = client.search_model_versions(search);
  if (versions.ok()) {
    for (const auto& v : versions->items) {
      if (find_value(v.tags, "sweep_parent_run_id").value_or("") == report.parent_run_id &&
          find_value(v.tags, "run_id").value_or("") == best.run_id) {
        out.version = v.version;
        out.existing = true;
      }
    }
  }

  auto champion = current_champion(client, spec);
  if (!champion.ok()) return champion.status();
  if (out.existing && *champion && (*champion)->version == out.version) {
    out.alias_moved = false;
    out.reason = fmt::format("version {} already holds @{}", out.version, reg.alias);
    report.registration = out;
    return ok_status();
  }
  const GateDecision gate = champion_gate(*best.metric, *champion, spec.metric.maximize,
                                          reg.only_if_better, spec.metric.name, reg.alias);

  if (!out.existing) {
    auto run = client.get_run(best.run_id);
    if (!run.ok()) return run.status().with_context("reading the best trial's run");
    if (run->model_outputs.empty()) {
      return Status(
          StatusCode::kFailedPrecondition,
          fmt::format("the best trial (run {}) logged no MLflow model to register as '{}'",
                      best.run_id, reg.model_name));
    }
    RegisterModelOptions options;
    options.tags = {{"sweep", spec.name},
                    {"sweep_parent_run_id", report.parent_run_id},
                    {"run_id", best.run_id},
                    {"metric", spec.metric.name},
                    {"metric_value", fmt::format("{}", *best.metric)}};
    options.description = fmt::format(
        "Best trial of sweep '{}' ({}): trial {} ({}), run {}, {} = {:.6g}, chosen by sweep_runner "
        "as the {} {} among "
        "{} trials of parent run {}. Alias @{}: {}.",
        spec.name, spec.file, best.trial.index, best.trial.label(spec), best.run_id,
        spec.metric.name, *best.metric, spec.metric.maximize ? "highest" : "lowest",
        spec.metric.name, report.trials.size(), report.parent_run_id, reg.alias, gate.reason);
    auto version =
        register_model_version(client, run->model_outputs.back().model_id, reg.model_name, options);
    if (!version.ok()) return version.status();
    out.version = version->version;
  }
  out.reason = gate.reason;
  if (gate.move_alias) {
    MLFLOW_CPP_RETURN_IF_ERROR(
        client.set_registered_model_alias(reg.model_name, reg.alias, out.version)
            .with_context("moving @" + reg.alias + " to version " + out.version));
    out.alias_moved = true;
  }
  observer.message(fmt::format("registered {} version {}{}; {}", reg.model_name, out.version,
                               out.existing ? " (already registered by an earlier finalize)" : "",
                               out.reason));
  report.registration = out;
  return ok_status();
}

}  // namespace

StatusOr<std::vector<TrialResult>> collect_results(MlflowClient& client, const SweepSpec& spec,
                                                   const std::vector<Trial>& trials,
                                                   const std::string& experiment_id,
                                                   const std::string& parent_run_id) {
  auto latest = latest_attempts(client, experiment_id, parent_run_id);
  if (!latest.ok()) return latest.status();
  std::vector<TrialResult> results;
  for (const Trial& t : trials) {
    TrialResult r;
    r.trial = t;
    if (auto it = latest->find(t.config_hash); it != latest->end()) {
      const Run& run = it->second;
      r.run_id = run.info.run_id;
      r.status = run.info.status;
      r.metric = metric_value(run, spec.metric.name);
      const TimestampMs end = run.info.end_time.value_or(now_ms());
      r.seconds = static_cast<double>(end - run.info.start_time) / 1000.0;
      r.note = tag_value(run, kTagError);
    }
    results.push_back(std::move(r));
  }
  return results;
}

Status finalize(MlflowClient& client, const SweepSpec& spec, SweepReport& report,
                SweepObserver& observer) {
  report.best = best_trial(report.trials, spec.metric.maximize);
  const std::string& parent = report.parent_run_id;
  MLFLOW_CPP_RETURN_IF_ERROR(
      client.log_artifact_bytes(parent, results_markdown(spec, report), "sweep_results.md")
          .with_context("logging the table"));
  MLFLOW_CPP_RETURN_IF_ERROR(
      client.log_artifact_bytes(parent, results_json(spec, report), "sweep_results.json")
          .with_context("logging the table"));
  if (report.best) {
    const TrialResult& best = report.trials[*report.best];
    Metric m;
    m.key = "best_" + spec.metric.name;
    m.value = *best.metric;
    m.timestamp = now_ms();
    MLFLOW_CPP_RETURN_IF_ERROR(client
                                   .log_batch(parent, {m}, {},
                                              {{kTagBestRunId, best.run_id},
                                               {kTagBestTrial, std::to_string(best.trial.index)}})
                                   .with_context("logging the best trial on the parent run"));
    if (!spec.register_model.model_name.empty()) {
      MLFLOW_CPP_RETURN_IF_ERROR(
          register_best(client, spec, report, observer).with_context("registering the best trial"));
    }
  } else {
    observer.message(
        fmt::format("no trial of sweep '{}' finished with metric {}: nothing to select or register",
                    spec.name, spec.metric.name));
  }
  report.finalized = true;
  const RunStatus end =
      report.failed() == 0 && report.best ? RunStatus::kFinished : RunStatus::kFailed;
  auto updated = client.update_run(parent, end, now_ms());
  if (!updated.ok()) return updated.status().with_context("ending the parent run");
  return ok_status();
}

}  // namespace mlflow::sweep::detail

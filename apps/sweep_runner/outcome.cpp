// SPDX-License-Identifier: Apache-2.0
#include "outcome.h"

#include <filesystem>

#include <fmt/format.h>

#include "mlflow/registry.h"
#include "mlflow/sweep/trial_process.h"

std::optional<double> run_metric(mlflow::MlflowClient& client, const std::string& run_id,
                                 const std::string& key) {
  if (run_id.empty()) return std::nullopt;
  auto run = client.get_run(run_id);
  if (!run.ok()) return std::nullopt;
  for (const auto& m : run->data.metrics) {
    if (m.key == key) return m.value;
  }
  return std::nullopt;
}

void print_outcome(std::FILE* out, mlflow::MlflowClient& client,
                   const mlflow::sweep::SweepReport& report) {
  const auto& spec = *report.spec;
  if (!spec.register_model.model_name.empty()) {
    const auto& reg = spec.register_model;
    auto holder = mlflow::find_version_by_alias(client, reg.model_name, reg.alias);
    if (holder.ok() && *holder) {
      const auto& v = **holder;
      const auto test = run_metric(client, v.run_id, "test_accuracy");
      fmt::print(
          out, "\nchampion: models:/{}@{} is version {}{} (run {})\n", reg.model_name, reg.alias,
          v.version,
          test ? fmt::format(", test accuracy {:.2f}% on the 10,000 test images", 100 * *test) : "",
          v.run_id);
    }
  }
  const std::string store = client.store_uri();
  if (store.rfind("sqlite:", 0) == 0) {
    // Local mode: `mlflow ui` in the directory of mlflow.db shows the same store with no flags.
    const std::string db = store.substr(std::string("sqlite:///").size());
    const std::string dir = std::filesystem::path(db).parent_path().string();
    fmt::print(out,
               "browse:   (cd {} && mlflow ui --backend-store-uri sqlite:///{})   (mlflow from "
               "mlflow/.venv/bin)\n"
               "          then open "
               "http://127.0.0.1:5000/#/experiments/{}?workflowType=machine_learning\n",
               dir, std::filesystem::path(db).filename().string(), report.experiment_id);
  } else if (!report.ui_link.empty()) {
    fmt::print(out, "browse:   {}\n", report.ui_link);
  }
  std::fflush(out);
}

int print_failures(std::FILE* out, const mlflow::sweep::SweepReport& report,
                   const std::function<bool(const mlflow::sweep::Trial&)>& mine) {
  int failed = 0;
  for (const auto& r : report.trials) {
    if (!mine(r.trial) ||
        (r.status != mlflow::RunStatus::kFailed && r.status != mlflow::RunStatus::kKilled))
      continue;
    if (failed++ == 0) fmt::print(out, "\nfailed trials of sweep {}:\n", report.spec->name);
    fmt::print(out, "  trial {} ({}): {}, {} (run {})\n", r.trial.index,
               r.trial.label(*report.spec), mlflow::to_string(*r.status),
               r.note.empty() ? "no reason recorded" : r.note, r.run_id);
    if (r.log_file.empty()) continue;
    const auto lines = mlflow::sweep::last_lines(r.log_file, 5);
    fmt::print(out, "    output ({}){}\n", r.log_file, lines.empty() ? ": empty" : ", last lines:");
    for (const auto& line : lines) fmt::print(out, "      {}\n", line);
  }
  std::fflush(out);
  return failed;
}

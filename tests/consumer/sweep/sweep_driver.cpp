// SPDX-License-Identifier: Apache-2.0
// Runs a sweep spec in-process with mlflow::sweep, the engine behind sweep_runner: the spec and its
// grid are checked against what the program accepts before anything is created, then the trials
// run as nested runs and the best is selected and registered. Usage: sweep_driver SPEC (tracking
// server from MLFLOW_TRACKING_URI). Prints each trial as it ends, then the best trial's run id.
#include <chrono>
#include <iostream>
#include <string>

#include "mlflow/local_server.h"
#include "mlflow/sweep/program_check.h"
#include "mlflow/sweep/runner.h"

namespace {

namespace sw = mlflow::sweep;

// Gets the engine's events; the other hooks (plan, live status, the end) are left as they are.
class TrialPrinter : public sw::SweepObserver {
 public:
  void trial_finished(const sw::SweepSpec& spec, const sw::TrialResult& t) override {
    const std::string outcome =
        t.metric ? spec.metric.name + " " + std::to_string(*t.metric) : "failed: " + t.note;
    std::cout << "trial " << t.trial.label(spec) << ": " << outcome << "\n";
  }
};

int fail(const mlflow::Status& st, int code) {
  std::cerr << "sweep_driver: " << st.to_string() << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sweep_driver SPEC\n";
    return 2;
  }
  // The programs a spec may name by a bare word (none here: the spec gives its executable's path).
  const sw::ProgramTable programs;
  auto catalog = sw::SpecCatalog::load(argv[1], programs);
  if (!catalog.ok()) return fail(catalog.status(), 2);
  const auto describe = [](const sw::ProgramDef& def) {
    return sw::describe_program(def, std::chrono::seconds(30));  // runs PROGRAM --describe-params
  };
  const auto warn = [](const std::string& text) {
    std::cerr << "sweep_driver: warning: " << text << "\n";
  };
  if (mlflow::Status st = sw::check_programs(*catalog, describe, warn); !st.ok()) {
    return fail(st, 2);
  }

  auto client = mlflow::connect_from_env();
  if (!client.ok()) return fail(client.status(), 1);
  TrialPrinter printer;
  auto report = sw::run_sweep(*client, *catalog, catalog->root(), sw::RunnerOptions{}, printer);
  if (!report.ok()) return fail(report.status(), 1);
  if (report->failed() > 0 || !report->best) {
    std::cerr << "sweep_driver: " << report->failed()
              << " trials failed, or none logged the metric\n";
    return 3;
  }
  std::cout << report->trials[*report->best].run_id << "\n";
  return 0;
}

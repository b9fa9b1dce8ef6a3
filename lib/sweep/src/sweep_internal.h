// SPDX-License-Identifier: Apache-2.0
// Shared by the engine's files (runner.cpp, dependencies.cpp, trial_scheduling.cpp, finalize*.cpp;
// not installed).
#pragma once

#include <string>
#include <vector>

#include "mlflow/sweep/runner.h"
#include "mlflow/sweep/sweep_state.h"

namespace mlflow::sweep::detail {

/// Every trial's latest attempt as a table row (status, metric, duration), in trial order.
StatusOr<std::vector<TrialResult>> collect_results(MlflowClient& client, const SweepSpec& spec,
                                                   const std::vector<Trial>& trials,
                                                   const std::string& experiment_id,
                                                   const std::string& parent_run_id);

/// Picks the best trial, writes the results table to the parent run, registers
/// (champion/challenger) and ends the parent FINISHED (every trial finished) or FAILED. Fills
/// report.best/.registration.
Status finalize(MlflowClient& client, const SweepSpec& spec, SweepReport& report,
                SweepObserver& observer);

/// The value `dep` stands for when it exists: the best trial's param, or the alias's version.
/// nullopt when it does not exist yet.
StatusOr<std::optional<std::string>> dependency_value(MlflowClient& client, const Dependency& dep);

}  // namespace mlflow::sweep::detail

// SPDX-License-Identifier: Apache-2.0
// Choosing the best trial and deciding whether it takes over the registry alias
// (champion/challenger). Pure functions: no server, no clock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mlflow/sweep/trials.h"
#include "mlflow/types.h"

namespace mlflow::sweep {

/// One trial's latest attempt, as the final table shows it.
struct TrialResult {
  Trial trial;                      ///< the trial: index and parameters
  std::string run_id;               ///< empty: never attempted
  std::optional<RunStatus> status;  ///< of the latest attempt
  std::optional<double> metric;     ///< the spec's metric, when the run logged it
  double seconds = 0;               ///< duration of the latest attempt
  bool ran_now = false;  ///< attempted by this invocation (else skipped or another worker's)
  std::string note;      ///< why it failed, etc.
  std::string log_file;  ///< its output, when this invocation ran it
  /// The latest attempt is over: FINISHED, FAILED or KILLED.
  bool ended() const {
    return status && *status != RunStatus::kRunning && *status != RunStatus::kScheduled;
  }
};

/// Index into `results` of the best FINISHED trial with the metric (ties: the earlier trial), or
/// nullopt when none qualifies.
std::optional<std::size_t> best_trial(const std::vector<TrialResult>& results, bool maximize);

/// The current holder of the alias, for the gate.
struct Champion {
  std::string version;           ///< the version the alias points at
  std::optional<double> metric;  ///< its run's value of the same metric, when it has one
};

/// The gate's verdict: whether the alias moves to the challenger, and why.
struct GateDecision {
  bool move_alias = false;  ///< move the alias to the challenger
  std::string reason;       ///< one sentence for the output and the version's description
};

/// Whether the alias moves to a challenger scoring `challenger`. Without a champion it moves. With
/// only_if_better it moves only when strictly better by the goal; a champion without the metric is
/// not beaten (nothing to compare). Without only_if_better it always moves.
GateDecision champion_gate(double challenger, const std::optional<Champion>& champion,
                           bool maximize, bool only_if_better, const std::string& metric_name,
                           const std::string& alias);

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/selection.h"

#include <cmath>

#include <fmt/format.h>

namespace mlflow::sweep {

std::optional<std::size_t> best_trial(const std::vector<TrialResult>& results, bool maximize) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const TrialResult& r = results[i];
    // NaN (a diverged run) compares false both ways: first in line it would never be displaced.
    if (r.status != RunStatus::kFinished || !r.metric || std::isnan(*r.metric)) continue;
    if (!best) {
      best = i;
      continue;
    }
    const TrialResult& b = results[*best];
    const bool better = maximize ? *r.metric > *b.metric : *r.metric < *b.metric;
    const bool tie_earlier = *r.metric == *b.metric && r.trial.index < b.trial.index;
    if (better || tie_earlier) best = i;
  }
  return best;
}

GateDecision champion_gate(double challenger, const std::optional<Champion>& champion,
                           bool maximize, bool only_if_better, const std::string& metric_name,
                           const std::string& alias) {
  if (!champion) return {true, fmt::format("no version held @{} yet", alias)};
  if (!only_if_better) {
    return {true,
            fmt::format("only_if_better is false: @{} moves from version {} whatever the score",
                        alias, champion->version)};
  }
  if (!champion->metric) {
    return {false,
            fmt::format(
                "@{} stays on version {}: its run has no {} to compare with (set only_if_better: "
                "false to replace it anyway)",
                alias, champion->version, metric_name)};
  }
  const bool better = maximize ? challenger > *champion->metric : challenger < *champion->metric;
  if (better) {
    return {true, fmt::format("{} {:.6g} beats version {}'s {:.6g} ({})", metric_name, challenger,
                              champion->version, *champion->metric,
                              maximize ? "higher is better" : "lower is better")};
  }
  return {false,
          fmt::format("@{} stays on version {}: its {} {:.6g} is at least as good as {:.6g} ({})",
                      alias, champion->version, metric_name, *champion->metric, challenger,
                      maximize ? "higher is better" : "lower is better")};
}

}  // namespace mlflow::sweep

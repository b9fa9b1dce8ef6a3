// SPDX-License-Identifier: Apache-2.0
// Trials: a spec expanded into concrete configurations (grid or seeded random), their fingerprints,
// and which worker runs which (sharding).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mlflow/status.h"
#include "mlflow/sweep/spec.h"

namespace mlflow::sweep {

/// One combination of parameter values of a sweep.
struct Trial {
  int index = 0;                                            ///< 0-based, in expansion order
  std::vector<std::pair<std::string, std::string>> params;  ///< in the spec's parameter order
  std::string config_hash;                                  ///< fingerprint of spec name + params
  /// "batch_size=64 seed=42": the swept (values) and chained (from_sweep) parameters; all when
  /// there are none.
  std::string label(const SweepSpec& spec) const;
};

/// from_sweep parameters resolved to values: parameter name -> value.
using ResolvedValues = std::map<std::string, std::string>;

/// Grid: the Cartesian product in the spec's parameter order, the first parameter varying slowest.
/// Random: `count` distinct combinations drawn with the spec's seed (the same on every machine).
/// kFailedPrecondition naming the parameter when a from_sweep value is missing from `resolved`.
StatusOr<std::vector<Trial>> expand_trials(const SweepSpec& spec, const ResolvedValues& resolved);

/// Which part of the trials this worker runs: trial i belongs to shard i % count.
struct Shard {
  int index = 0;  ///< this worker's shard, 0-based
  int count = 1;  ///< number of shards
  /// True when trial `t` is this shard's.
  bool owns(const Trial& t) const { return t.index % count == index; }
  /// True when the trials are split among several workers.
  bool sharded() const { return count > 1; }
};

/// "K/N" with 0 <= K < N. kInvalidArgument otherwise.
StatusOr<Shard> parse_shard(const std::string& text);

/// The shard from the job engine's environment when no --shard was given: Slurm job arrays
/// (SLURM_ARRAY_TASK_ID of `shards` when given, else SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN
/// of SLURM_ARRAY_TASK_COUNT) or Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX of `shards`, which
/// must then be given). {0, 1} when neither is set.
StatusOr<Shard> shard_from_env(const std::function<const char*(const char*)>& getenv, int shards);

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
// One invocation's work on one sweep (not installed). Its jobs live in files named for them:
// runner.cpp (the order of things, finalize-only), dependencies.cpp (specs run first),
// parent_run.cpp (the sweep's parent run), trial_scheduling.cpp (planning, starting and supervising
// trial processes), finalize_claim.cpp (which worker finalizes). Timing decisions are in pacing.h.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "mlflow/sweep/runner.h"
#include "mlflow/sweep/trial_process.h"
#include "pacing.h"
#include "sweep_internal.h"

namespace mlflow::sweep::detail {

class SweepRun {
 public:
  SweepRun(MlflowClient& client, const SpecCatalog& catalog, const SweepSpec& spec,
           const RunnerOptions& options, SweepObserver& observer)
      : client_(client), catalog_(catalog), spec_(spec), options_(options), observer_(observer) {
    report_.spec = &spec;
  }

  StatusOr<SweepReport> run();
  StatusOr<SweepReport> finalize_only();

 private:
  SweepClock& clock() const { return clock_of(options_); }

  // runner.cpp
  Status after_start(Status s);
  Status missing(const Dependency& d, const std::string& advice) const;
  void merge(std::vector<TrialResult> results);
  int owned_count() const;
  // dependencies.cpp
  Status resolve_dependencies(ResolvedValues& resolved);
  Status wait_for(const Dependency& d, StatusOr<std::optional<std::string>>& value);
  // parent_run.cpp
  Status attach_parent();
  Status create_parent();
  // trial_scheduling.cpp
  struct Active {
    const Trial* trial;
    std::string run_id;
    std::string log_file;
    TrialProcess process;
    SweepClock::time_point started;
  };
  Liveness liveness() const;
  Status plan();
  int threads_per_trial(std::size_t running) const;
  std::string log_dir() const;
  StatusOr<bool> still_to_run(const Trial& t);
  StatusOr<std::optional<Active>> start(const Trial& t, std::size_t running);
  void complete(Active& a);
  Status execute();
  // finalize_claim.cpp
  StatusOr<bool> claim_finalize();
  Status conclude();

  MlflowClient& client_;
  const SpecCatalog& catalog_;
  const SweepSpec& spec_;
  const RunnerOptions& options_;
  SweepObserver& observer_;
  SweepReport report_;
  std::vector<Trial> trials_;
  std::deque<const Trial*> queue_;
};

}  // namespace mlflow::sweep::detail

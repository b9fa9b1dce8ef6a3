// SPDX-License-Identifier: Apache-2.0
// The sweep engine: runs a spec's trials as child runs of one parent run, resumable, in parallel
// and sharded across machines, then selects the best trial and registers it. sweep_runner is a thin
// command line over this.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "mlflow/sweep/selection.h"
#include "mlflow/sweep/spec_catalog.h"
#include "mlflow/sweep/sweep_clock.h"
#include "mlflow/sweep/sweep_state.h"
#include "mlflow/sweep/trials.h"

namespace mlflow::sweep {

/// How run_sweep() and finalize_sweep() run a sweep: parallelism, sharding, timing.
struct RunnerOptions {
  int parallel = 1;  ///< trial processes at once
  int cores = 0;     ///< cores to share between them (0: all of this machine's)
  Shard shard;       ///< which trials this worker runs
  /// plan only: show the trials and their states; create, run and register nothing
  bool dry_run = false;
  bool no_deps = false;  ///< refuse (instead of running) specs whose inputs do not exist yet
  std::string log_dir;   ///< trial output files (default: a folder under the temp dir)
  /// Another host's RUNNING trial without a heartbeat for this long is dead.
  std::chrono::milliseconds stale_after{std::chrono::minutes(5)};
  /// Sharded: how long to wait for shard 0's parent run or for a dependency.
  std::chrono::milliseconds wait_timeout{std::chrono::hours(6)};
  std::chrono::milliseconds poll_interval{200};  ///< how often trial processes are checked
  std::chrono::milliseconds heartbeat_interval{
      std::chrono::seconds(30)};  ///< sweep.heartbeat of running trials
  std::chrono::milliseconds status_interval{std::chrono::seconds(1)};  ///< SweepObserver::tick
  std::chrono::milliseconds parent_poll{
      std::chrono::seconds(2)};  ///< sharded: looking for shard 0's parent run
  std::chrono::milliseconds dependency_poll{
      std::chrono::seconds(5)};  ///< sharded: looking for a dependency
  /// Finalizing: a claim younger than claim_fresh is left to its worker; one's own claim is read
  /// back after claim_settle (of two written at once the later one wins).
  std::chrono::milliseconds claim_fresh{std::chrono::minutes(1)};
  std::chrono::milliseconds claim_settle{std::chrono::seconds(1)};  ///< see claim_fresh
  /// Interrupted: how long trials get to end their runs after SIGINT before SIGKILL (they end
  /// KILLED either way), so that Ctrl-C or SIGTERM stops a sweep within about 2 s.
  std::chrono::milliseconds stop_grace{1500};
  std::function<bool()> interrupted;  ///< Ctrl-C: polled while trials run
  SweepClock* clock = nullptr;        ///< null: SweepClock::real()
};

/// A trial whose process is running, for live status lines.
struct RunningTrial {
  const Trial* trial = nullptr;  ///< the trial
  std::string run_id;            ///< its run
  double seconds = 0;            ///< since its process started
  std::string last_line;         ///< of its output
};

/// The outcome of registering a sweep's best trial.
struct Registration {
  std::string model_name;    ///< registered model name
  std::string version;       ///< the version registered (or found registered) for the best trial
  std::string alias;         ///< the spec's alias (RegisterSpec::alias)
  bool alias_moved = false;  ///< the gate moved the alias to `version`
  bool existing = false;     ///< the best trial was already registered by an earlier finalize
  std::string reason;        ///< why the alias moved or stayed
};

/// What run_sweep() and finalize_sweep() did, trial by trial.
struct SweepReport {
  const SweepSpec* spec = nullptr;  ///< the spec run
  /// the sweep's experiment (empty in a dry run of a sweep never started)
  std::string experiment_id;
  std::string parent_run_id;        ///< empty in a dry run of a sweep never started
  std::string ui_link;              ///< the MLflow UI page of the parent run
  std::vector<TrialResult> trials;  ///< every trial of the sweep, in order
  /// index into `trials` of the best trial (best_trial()), when there is one
  std::optional<std::size_t> best;
  bool complete = false;     ///< every trial has ended (FINISHED, FAILED or KILLED)
  bool finalized = false;    ///< this invocation selected (and registered) the best trial
  bool interrupted = false;  ///< stopped by interrupted() (Ctrl-C, SIGTERM) before it ended
  std::optional<Registration> registration;  ///< set when the best trial was registered
  int failed() const;                        ///< trials whose latest attempt FAILED or was KILLED
};

/// What the engine reports as it goes; the app prints it. Default: ignore.
class SweepObserver {
 public:
  virtual ~SweepObserver() = default;
  /// A line for the user.
  virtual void message(const std::string& /*text*/) {}
  /// The plan: every trial with its current state, and how many this worker will run.
  virtual void planned(const SweepReport& /*report*/, const std::vector<TrialState>& /*states*/,
                       int /*to_run*/) {}
  /// A trial's process was started with `threads` cores.
  virtual void trial_started(const SweepSpec& /*spec*/, const TrialResult& /*trial*/,
                             int /*threads*/) {}
  /// A trial's process ended.
  virtual void trial_finished(const SweepSpec& /*spec*/, const TrialResult& /*trial*/) {}
  /// About once a second while trials run.
  virtual void tick(const SweepSpec& /*spec*/, const std::vector<RunningTrial>& /*running*/) {}
  /// The sweep is over (or stopped); `report` is final.
  virtual void finished(const SweepReport& /*report*/) {}
};

/// Runs `spec` (and first, unless no_deps, the specs producing what it needs). Errors:
/// kInvalidArgument / kFailedPrecondition for what the user must fix (a dependency missing with
/// --no-deps, a program that cannot start), with nothing created; kCancelled never (an interrupted
/// sweep returns a report with interrupted set); the server's errors otherwise.
StatusOr<SweepReport> run_sweep(MlflowClient& client, const SpecCatalog& catalog,
                                const SweepSpec& spec, const RunnerOptions& options,
                                SweepObserver& observer);

/// Selects and registers from a sweep's finished trials (what the last worker does automatically).
/// kFailedPrecondition when the sweep has no parent run or trials are still pending or running.
StatusOr<SweepReport> finalize_sweep(MlflowClient& client, const SpecCatalog& catalog,
                                     const SweepSpec& spec, const RunnerOptions& options,
                                     SweepObserver& observer);

}  // namespace mlflow::sweep

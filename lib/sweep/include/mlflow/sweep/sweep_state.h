// SPDX-License-Identifier: Apache-2.0
// What the MLflow server says about a sweep: its parent run, each trial's latest attempt, and
// whether a RUNNING attempt still has a live process behind it. The server is the only shared
// state, so any number of workers (and restarts) agree on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "mlflow/sweep/spec.h"
#include "mlflow/sweep/trials.h"

namespace mlflow::sweep {

// Tags sweep_runner sets. On the parent run:
inline constexpr const char* kTagSweepName = "sweep.name";  ///< the spec's name
/// SweepSpec::hash, which tells a resumed sweep from a new one
inline constexpr const char* kTagSpecHash = "sweep.spec_hash";
inline constexpr const char* kTagSpecFile = "sweep.spec_file";  ///< the spec's file name
/// the best trial's run id, once finalized
inline constexpr const char* kTagBestRunId = "sweep.best_run_id";
/// the best trial's index, once finalized
inline constexpr const char* kTagBestTrial = "sweep.best_trial";
inline constexpr const char* kTagFinalizer = "sweep.finalizer";  ///< who finalizes, and since when
// On each trial run:
inline constexpr const char* kTagTrial = "sweep.trial";  ///< the trial's index
/// Trial::config_hash, which finds earlier attempts of the trial
inline constexpr const char* kTagConfigHash = "sweep.config_hash";
inline constexpr const char* kTagHost = "sweep.host";  ///< the host it runs on
inline constexpr const char* kTagRunnerPid =
    "sweep.runner_pid";  ///< process_identity() of the runner
inline constexpr const char* kTagTrialPid =
    "sweep.trial_pid";  ///< process_identity() of the program
inline constexpr const char* kTagHeartbeat =
    "sweep.heartbeat";  ///< ms since the epoch, refreshed while it runs
/// why the trial (or, on the parent run, the sweep) failed
inline constexpr const char* kTagError = "sweep.error";

/// A trial's state as far as scheduling goes.
enum class TrialState {
  kPending,       ///< never attempted
  kFinished,      ///< latest attempt FINISHED: skipped
  kFailed,        ///< latest attempt FAILED or KILLED: run again
  kRunning,       ///< latest attempt RUNNING with a live process (here or elsewhere): left alone
  kRunningStale,  ///< latest attempt RUNNING but its process is gone: mark FAILED, run again
};
/// The state's name, e.g. "pending", for tables and messages.
const char* to_string(TrialState state);

/// How to tell whether a RUNNING attempt is still alive.
struct Liveness {
  std::string host;                         ///< this machine's name
  std::function<bool(long pid)> pid_alive;  ///< for attempts started on this host
  std::int64_t now_ms = 0;  ///< now (ms since the epoch), to compare heartbeats with
  std::chrono::milliseconds stale_after{
      std::chrono::minutes(5)};  ///< other hosts: no heartbeat for this long = dead
  /// The start time process_identity() records for a live pid: a pid reused by another process (a
  /// restarted container's pid 1) does not count as the trial's. Unset: pids alone decide.
  std::function<std::string(long pid)> start_time;
};

/// Pure: the scheduling state of a trial from its latest attempt (none = kPending).
TrialState classify_attempt(const Run* latest, const Liveness& liveness);

/// Value of tag `key` on a run, empty when absent.
std::string tag_value(const Run& run, const std::string& key);
/// The latest value of metric `key` on a run, nullopt when absent.
std::optional<double> metric_value(const Run& run, const std::string& key);
/// The value of param `key` on a run, nullopt when absent.
std::optional<std::string> param_value(const Run& run, const std::string& key);

/// The sweep's parent run in `experiment_id` (the earliest with the sweep's name and spec hash), or
/// nullopt when there is none yet.
StatusOr<std::optional<Run>> find_parent_run(MlflowClient& client, const std::string& experiment_id,
                                             const SweepSpec& spec);

/// Latest attempt (newest start time) per config hash among the parent's child runs.
StatusOr<std::map<std::string, Run>> latest_attempts(MlflowClient& client,
                                                     const std::string& experiment_id,
                                                     const std::string& parent_run_id);

/// Whether a process with this pid exists on this machine (zombies do not count).
bool process_alive(long pid);
/// When the process started, in clock ticks since boot (/proc/PID/stat); empty when unknown.
std::string process_start_time(long pid);
/// "PID@START": a pid that stays unique when pids are reused. What the pid tags hold.
std::string process_identity(long pid);
/// Whether a process_identity() string names a live process on this machine.
bool identity_alive(const std::string& identity);

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
// The engine's timing decisions, apart from what they time (not installed): waits that notice an
// interrupt, the supervision loop's periodic jobs, deadlines, and whether a finalize claim is
// fresh.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "mlflow/sweep/runner.h"
#include "mlflow/sweep/sweep_clock.h"

namespace mlflow::sweep::detail {

/// The options' clock, or the real one.
SweepClock& clock_of(const RunnerOptions& options);

/// Ctrl-C or SIGTERM was seen (RunnerOptions::interrupted).
bool is_interrupted(const RunnerOptions& options);

/// Sleeps `d` in steps of options.poll_interval so that an interrupt is noticed; false when
/// interrupted.
bool wait_a_while(const RunnerOptions& options, std::chrono::milliseconds d);

/// When the supervision loop does its periodic jobs, from the times it is given.
class SupervisionTimers {
 public:
  using time_point = SweepClock::time_point;
  SupervisionTimers(const RunnerOptions& options, time_point start);
  /// True once every heartbeat_interval (then counts again from `now`).
  bool heartbeat_due(time_point now);
  /// True once every status_interval.
  bool status_due(time_point now);
  /// The sweep was interrupted at `now` (the first call counts).
  void interrupted(time_point now);
  /// Interrupted more than stop_grace ago: trials still running get SIGKILL.
  bool kill_due(time_point now) const;

 private:
  const RunnerOptions& options_;
  time_point last_beat_, last_status_;
  bool interrupted_ = false;
  time_point interrupted_at_;
};

/// A wait's end, `limit` from now on the options' clock.
class Deadline {
 public:
  Deadline(const RunnerOptions& options, std::chrono::milliseconds limit);
  bool passed() const;

 private:
  SweepClock& clock_;
  SweepClock::time_point end_;
};

/// Whether `claim` ("identity@ms", the finalize tag) is another worker's, made less than `fresh`
/// before `now_ms`: then that worker finalizes. An empty, malformed, own or stale claim is not.
bool others_claim_is_fresh(const std::string& claim, const std::string& me, std::int64_t now_ms,
                           std::chrono::milliseconds fresh);

}  // namespace mlflow::sweep::detail

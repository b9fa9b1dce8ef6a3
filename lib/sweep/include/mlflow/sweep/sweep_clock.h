// SPDX-License-Identifier: Apache-2.0
// The time the sweep engine runs on: injectable, so its timing (heartbeats, grace periods, waits,
// claims) is tested without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace mlflow::sweep {

/// The sweep engine's time: a monotonic clock, the wall clock and sleeping, injectable so timing
/// logic is tested without sleeping.
class SweepClock {
 public:
  /// A point on the monotonic clock.
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~SweepClock() = default;
  /// For intervals and deadlines.
  virtual time_point now() = 0;
  /// Milliseconds since the epoch: what runs, heartbeats and claims record.
  virtual std::int64_t wall_ms() = 0;
  /// Blocks the calling thread for `d`.
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
  /// The steady clock, the system clock and std::this_thread::sleep_for.
  static SweepClock& real();
};

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
#include "pacing.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "mlflow/types.h"

namespace mlflow::sweep {

namespace {

class RealClock final : public SweepClock {
 public:
  time_point now() override { return std::chrono::steady_clock::now(); }
  std::int64_t wall_ms() override { return now_ms(); }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

}  // namespace

SweepClock& SweepClock::real() {
  static RealClock clock;
  return clock;
}

namespace detail {

SweepClock& clock_of(const RunnerOptions& options) {
  return options.clock != nullptr ? *options.clock : SweepClock::real();
}

bool is_interrupted(const RunnerOptions& options) {
  return options.interrupted && options.interrupted();
}

bool wait_a_while(const RunnerOptions& options, std::chrono::milliseconds d) {
  SweepClock& clock = clock_of(options);
  const auto until = clock.now() + d;
  while (clock.now() < until) {
    if (is_interrupted(options)) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock.now());
    clock.sleep_for(std::max(std::chrono::milliseconds(1), std::min(options.poll_interval, left)));
  }
  return !is_interrupted(options);
}

SupervisionTimers::SupervisionTimers(const RunnerOptions& options, time_point start)
    : options_(options), last_beat_(start), last_status_(start) {}

bool SupervisionTimers::heartbeat_due(time_point now) {
  if (now - last_beat_ < options_.heartbeat_interval) return false;
  last_beat_ = now;
  return true;
}

bool SupervisionTimers::status_due(time_point now) {
  if (now - last_status_ < options_.status_interval) return false;
  last_status_ = now;
  return true;
}

void SupervisionTimers::interrupted(time_point now) {
  if (interrupted_) return;
  interrupted_ = true;
  interrupted_at_ = now;
}

bool SupervisionTimers::kill_due(time_point now) const {
  return interrupted_ && now - interrupted_at_ > options_.stop_grace;
}

Deadline::Deadline(const RunnerOptions& options, std::chrono::milliseconds limit)
    : clock_(clock_of(options)), end_(clock_.now() + limit) {}

bool Deadline::passed() const { return clock_.now() > end_; }

bool others_claim_is_fresh(const std::string& claim, const std::string& me, std::int64_t now_ms,
                           std::chrono::milliseconds fresh) {
  const auto at = claim.rfind('@');
  if (claim.empty() || at == std::string::npos || claim.substr(0, at) == me) return false;
  const std::int64_t since = now_ms - std::strtoll(claim.c_str() + at + 1, nullptr, 10);
  return since < fresh.count();
}

}  // namespace detail
}  // namespace mlflow::sweep

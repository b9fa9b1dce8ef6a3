// SPDX-License-Identifier: Apache-2.0
// The sweep engine's timing on a fake clock: waits that notice Ctrl-C, heartbeats and status ticks,
// the grace period before SIGKILL, deadlines, and finalize claims. Nothing sleeps.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <vector>

#include "pacing.h"

using namespace std::chrono_literals;
using mlflow::sweep::RunnerOptions;
using mlflow::sweep::SweepClock;

namespace {

// Time moves only when the code under test sleeps (or the test advances it).
class FakeClock final : public SweepClock {
 public:
  time_point now() override { return t_; }
  std::int64_t wall_ms() override { return 1'700'000'000'000 + (t_ - time_point()) / 1ms; }
  void sleep_for(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    t_ += d;
    if (on_sleep) on_sleep();
  }
  void advance(std::chrono::milliseconds d) { t_ += d; }
  std::vector<std::chrono::milliseconds> sleeps;
  std::function<void()> on_sleep;

 private:
  time_point t_{};
};

}  // namespace

TEST_CASE("pacing: a wait sleeps in poll_interval steps and ends early on Ctrl-C") {
  FakeClock clock;
  RunnerOptions o;
  o.clock = &clock;
  o.poll_interval = 200ms;
  bool interrupted = false;
  o.interrupted = [&] { return interrupted; };
  CHECK(mlflow::sweep::detail::wait_a_while(o, 500ms));
  CHECK(clock.sleeps ==
        std::vector<std::chrono::milliseconds>{200ms, 200ms, 100ms});  // never past the end

  clock.sleeps.clear();
  clock.on_sleep = [&] { interrupted = clock.sleeps.size() == 2; };
  CHECK_FALSE(mlflow::sweep::detail::wait_a_while(o, 5s));
  CHECK(clock.sleeps.size() == 2);  // noticed at the next step, not after 5 s
}

TEST_CASE("pacing: heartbeats and status ticks come once per interval") {
  FakeClock clock;
  RunnerOptions o;
  o.heartbeat_interval = 30s;
  o.status_interval = 1s;
  mlflow::sweep::detail::SupervisionTimers timers(o, clock.now());
  clock.advance(999ms);
  CHECK_FALSE(timers.status_due(clock.now()));
  clock.advance(1ms);
  CHECK(timers.status_due(clock.now()));
  CHECK_FALSE(timers.status_due(clock.now()));  // counted again from now
  int beats = 0;
  for (int i = 0; i < 300; ++i) {  // 60 s in 200 ms polls
    clock.advance(200ms);
    beats += timers.heartbeat_due(clock.now());
  }
  CHECK(beats == 2);
}

TEST_CASE("pacing: SIGKILL is due stop_grace after the first interrupt, not before") {
  FakeClock clock;
  RunnerOptions o;
  o.stop_grace = 1500ms;
  mlflow::sweep::detail::SupervisionTimers timers(o, clock.now());
  CHECK_FALSE(timers.kill_due(clock.now() + 1h));  // not interrupted
  timers.interrupted(clock.now());
  clock.advance(1s);
  timers.interrupted(clock.now());  // a second Ctrl-C does not restart the grace period
  clock.advance(500ms);
  CHECK_FALSE(timers.kill_due(clock.now()));
  clock.advance(1ms);
  CHECK(timers.kill_due(clock.now()));
}

TEST_CASE("pacing: a deadline passes after its limit on the options' clock") {
  FakeClock clock;
  RunnerOptions o;
  o.clock = &clock;
  const mlflow::sweep::detail::Deadline deadline(o, 6h);
  clock.advance(6h);
  CHECK_FALSE(deadline.passed());
  clock.advance(1ms);
  CHECK(deadline.passed());
}

TEST_CASE("pacing: another worker's finalize claim is left alone while fresh") {
  using mlflow::sweep::detail::others_claim_is_fresh;
  const std::int64_t now = 1'700'000'060'000;
  CHECK(others_claim_is_fresh("12@34/host-b@1700000001000", "56@78/host-a", now, 60s));  // 59 s old
  CHECK_FALSE(others_claim_is_fresh("12@34/host-b@1700000000000", "56@78/host-a", now,
                                    60s));  // 60 s: stale
  CHECK_FALSE(
      others_claim_is_fresh("56@78/host-a@1700000059000", "56@78/host-a", now, 60s));  // our own
  CHECK_FALSE(others_claim_is_fresh("", "56@78/host-a", now, 60s));
  CHECK_FALSE(others_claim_is_fresh("no-at-sign", "56@78/host-a", now, 60s));
}

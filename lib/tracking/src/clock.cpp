// SPDX-License-Identifier: Apache-2.0
// The real monotonic clock.
#include <thread>

#include "mlflow/http.h"

namespace mlflow {
namespace {

class SteadyClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

}  // namespace

std::shared_ptr<Clock> system_clock() {
  static auto clock = std::make_shared<SteadyClock>();
  return clock;
}

}  // namespace mlflow

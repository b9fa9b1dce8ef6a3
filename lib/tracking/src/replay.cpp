// SPDX-License-Identifier: Apache-2.0
// Spool replay: windows in seq order, durable acknowledgements, run mappings before acks.
#include "replay.h"

#include <utility>
#include <vector>

namespace mlflow::detail {

Status replay_session(const SpoolSession& session, Delivery& delivery, const ReplayProgress& progress,
                      const DeliveryEvents& events) {
  for (const auto& [key, run_id] : session.progress().runs) delivery.run_ids()[key] = run_id;

  std::uint64_t delivered_in_window = 0;
  DeliveryEvents ev = events;
  ev.run_created = [&](const std::string& key, const std::string& run_id) {
    MLFLOW_CPP_RETURN_IF_ERROR(progress.run(key, run_id));
    return events.run_created ? events.run_created(key, run_id) : Status();
  };
  ev.delivered = [&](std::uint64_t n) { delivered_in_window += n; };
  std::vector<LogRecord> window;
  auto deliver_window = [&]() -> Status {
    if (window.empty()) return Status();
    const std::uint64_t last = window.back().seq;
    delivered_in_window = 0;
    auto result = delivery.deliver(std::move(window), ev);
    window.clear();
    MLFLOW_CPP_RETURN_IF_ERROR(result.status);
    MLFLOW_CPP_RETURN_IF_ERROR(progress.acked(last));
    if (events.delivered) events.delivered(delivered_in_window);
    return Status();
  };
  MLFLOW_CPP_RETURN_IF_ERROR(session.for_each_unacked([&](const LogRecord& r) -> Status {
    window.push_back(r);
    return window.size() >= kReplayWindow ? deliver_window() : Status();
  }));
  return deliver_window();
}

}  // namespace mlflow::detail

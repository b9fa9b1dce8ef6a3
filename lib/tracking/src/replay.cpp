// SPDX-License-Identifier: Apache-2.0
// Spool replay: windows in seq order, durable acknowledgements, run mappings before acks.
#include "replay.h"

#include <utility>
#include <vector>

namespace mlflow::detail {

Status replay_session(const SpoolSession& session, Delivery& delivery, const ReplayProgress& progress,
                      const DeliveryEvents& events) {
  for (const auto& [key, run_id] : session.progress().runs) delivery.run_ids()[key] = run_id;

  DeliveryEvents ev = events;
  ev.run_created = [&](const std::string& key, const std::string& run_id) {
    MLFLOW_CPP_RETURN_IF_ERROR(progress.run(key, run_id));
    return events.run_created ? events.run_created(key, run_id) : Status();
  };
  std::vector<LogRecord> window;
  auto deliver_window = [&]() -> Status {
    if (window.empty()) return Status();
    const std::uint64_t last = window.back().seq;
    auto result = delivery.deliver(std::move(window), ev);
    window.clear();
    MLFLOW_CPP_RETURN_IF_ERROR(result.status);
    return progress.acked(last);
  };
  MLFLOW_CPP_RETURN_IF_ERROR(session.for_each_unacked([&](const LogRecord& r) -> Status {
    window.push_back(r);
    return window.size() >= kReplayWindow ? deliver_window() : Status();
  }));
  return deliver_window();
}

}  // namespace mlflow::detail

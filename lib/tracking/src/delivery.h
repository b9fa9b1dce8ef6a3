// SPDX-License-Identifier: Apache-2.0
// Delivery: turns a window of LogRecords into MLflow requests (private; used live and by replay).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "log_record.h"
#include "mlflow/async_logger.h"
#include "mlflow/client.h"
#include "mlflow/status.h"

namespace mlflow::detail {

/// The tag that makes run creation idempotent: a run created for key K carries mlflow-cpp.run_key=K,
/// so a retry (or a replay after a crash) finds it instead of creating a second one.
inline constexpr const char* kRunKeyTag = "mlflow-cpp.run_key";

/// True for errors that mean "the server cannot take this now" (records are kept and retried later)
/// rather than "the server refuses these records" (they are rejected).
bool is_server_away(const Status& status);

/// What delivery reports back while it works.
struct DeliveryEvents {
  /// A run was created (or found by its key tag) for `key`; persist the mapping before acking.
  std::function<Status(const std::string& key, const std::string& run_id)> run_created;
  std::function<void(RejectedRecord)> rejected;
  std::function<void(std::uint64_t records)> delivered;
  std::function<void(std::uint64_t records)> retried;
};

/// Sends windows of records to one server. Within a window, each run's records are coalesced into
/// as few log-batch requests as MLflow's limits allow, in their original order; start and end records
/// are executed in place. A request the server refuses (4xx) is bisected until the refused records are
/// isolated and reported, so one bad record never costs the others.
/// Not thread-safe: one worker (or one replay) uses it.
class Delivery {
 public:
  /// `client` retries as configured; `single_attempt` (same server, no retries) creates runs, whose
  /// creation is not idempotent: after a failed create the next attempt looks the run up by key first.
  /// `attempts` counts HTTP attempts made by `client` (for the retried counter); may be empty.
  Delivery(MlflowClient client, MlflowClient single_attempt,
           std::function<std::uint64_t()> attempts = {});

  /// Run key -> server run id. Seed it from a spool's progress before replaying.
  std::map<std::string, std::string>& run_ids() { return run_ids_; }

  struct Result {
    Status status;  ///< OK, or the is_server_away() error that stopped delivery
    /// Records neither delivered nor rejected (seq order), run/parent rewritten to server ids where
    /// known; empty when status is OK.
    std::vector<LogRecord> undelivered;
  };
  Result deliver(std::vector<LogRecord> window, const DeliveryEvents& events);

  /// The server answers (GET of the Default experiment); used to probe while degraded.
  bool reachable();

 private:
  struct Group;
  Status send_group(Group& group, std::vector<LogRecord>& window, std::vector<char>& done,
                    const DeliveryEvents& events);
  Status send_chunk(const std::string& run_id, const std::vector<std::size_t>& chunk,
                    std::vector<LogRecord>& window, std::vector<char>& done,
                    const DeliveryEvents& events);
  Status start_run(const LogRecord& record, const DeliveryEvents& events);
  Status end_run(const LogRecord& record);

  MlflowClient client_;
  MlflowClient single_attempt_;
  std::function<std::uint64_t()> attempts_;
  std::map<std::string, std::string> run_ids_;
  std::map<std::string, std::string> experiment_ids_;  ///< name -> id cache
};

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// Delivery: turns a window of LogRecords into MLflow requests (private; used live and by replay).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "idempotent_create.h"  // kRunKeyTag: a run's key is its client token
#include "log_record.h"
#include "mlflow/async_logger.h"
#include "mlflow/client.h"
#include "mlflow/status.h"

namespace mlflow::detail {

/// True for errors that mean "the server cannot take this now" (records are kept and retried later)
/// rather than "the server refuses these records" (they are rejected): no HTTP response at all
/// (connection, timeout, TLS: Status::transport_failure()), 401/403 (the user fixes
/// the credentials, then the spool is replayed), 429, 5xx, and answers that are not MLflow's
/// (malformed 200, unknown error codes: kInternal/kUnknown).
bool is_server_away(const Status& status);

/// The server did answer, but with an error that says nothing about the records (HTTP 500
/// INTERNAL_ERROR, an unknown error code, a malformed 200). Away by is_server_away(), unless the
/// same request keeps failing while the server answers a probe: then it is poison (see Delivery).
bool is_answered_badly(const Status& status);

/// Sends of one record's request, each with the retry budget, before it counts as poison.
inline constexpr int kPoisonSends = 3;

/// What delivery reports back while it works.
struct DeliveryEvents {
  /// A run was created (or found by its key tag) for `key`; persist the mapping before acking.
  std::function<Status(const std::string& key, const std::string& run_id)> run_created;
  std::function<void(RejectedRecord)> rejected;
  std::function<void(std::uint64_t records)> delivered;
  std::function<void(std::uint64_t records)> retried;
};

/// Sends windows of records to one server. Within a window, each run's records are coalesced into
/// as few log-batch requests as MLflow's limits allow, in their original order; start and end
/// records are executed in place. A request the server refuses (4xx) is bisected until the refused
/// records are isolated and reported, so one bad record never costs the others. A request that
/// fails is_answered_badly() after its retries while the server answers reachable() is isolated the
/// same way; a single record's request failing like that kPoisonSends times is rejected with the
/// server's message (poison), so it cannot hold back every record behind it. Any other
/// is_server_away() error stops delivery with nothing rejected. Not thread-safe: one worker (or one
/// replay) uses it.
class Delivery {
 public:
  /// `client` retries as configured; it creates a run for key K as MlflowClient::create_run does,
  /// with K as its token (kRunKeyTag), looked up before the first create too: an earlier attempt,
  /// or a process that crashed before recording the run id, may have created it. `single_attempt`
  /// (same server, no retries) probes reachable(). `attempts` counts HTTP attempts made by
  /// `client` (for the retried counter); may be empty.
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

  /// OK when the server answers an API request with MLflow's JSON (GET of the Default experiment;
  /// an MLflow error such as 404 counts as an answer); otherwise the is_server_away() error. Probes
  /// while degraded, and tells a poison request from a server that is away.
  Status reachable();

 private:
  struct Group;
  /// What became of one record's request that failed with `failure`: re-sent by `send` while it
  /// fails is_answered_badly() and the server answers reachable() (kPoisonSends in all).
  enum class Outcome { kDelivered, kAway, kRefused, kPoison };
  struct Settled {
    Outcome outcome;
    Status status;  ///< OK, or the error to stop with (kAway) or to reject with
  };
  Settled settle(Status failure, const std::function<Status()>& send);
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
  /// Run key -> why the server refused to create it. Kept across windows: the run's later records
  /// (a live logger sends them in later windows) are rejected with that reason, unsent.
  std::map<std::string, std::string> failed_runs_;
};

}  // namespace mlflow::detail

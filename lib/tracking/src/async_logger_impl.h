// SPDX-License-Identifier: Apache-2.0
// AsyncLogger's state shared by the logger, its runs and the process hooks (private).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "delivery.h"
#include "log_record.h"
#include "mlflow/async_logger.h"
#include "spool.h"

namespace mlflow {

/// Counts HTTP attempts (for the retried counter) and, once closing has given up waiting, fails new
/// attempts at once so the worker stops retrying and spools instead.
class GateTransport final : public HttpTransport {
 public:
  explicit GateTransport(std::shared_ptr<HttpTransport> inner) : inner_(std::move(inner)) {}
  StatusOr<HttpResponse> send(const HttpRequest& request) override {
    if (closed_.load()) return Status(StatusCode::kCancelled, "the logger is closing");
    attempts_.fetch_add(1, std::memory_order_relaxed);
    return inner_->send(request);
  }
  std::uint64_t attempts() const { return attempts_.load(std::memory_order_relaxed); }
  void close() { closed_.store(true); }

 private:
  std::shared_ptr<HttpTransport> inner_;
  std::atomic<std::uint64_t> attempts_{0};
  std::atomic<bool> closed_{false};
};

/// One run as its handles and the worker see it.
struct AsyncRun::State {
  std::string key;
  std::string experiment_id;    ///< as requested (children inherit it)
  std::string experiment_name;
  std::atomic<bool> ended{false};

  std::mutex mu;  // guards params, server_id
  std::map<std::string, std::string> params;  ///< logged so far: write-once check at the call
  std::string server_id;
  std::condition_variable id_known;
};

struct AsyncLogger::Impl {
  AsyncLoggerOptions options;
  bool offline = false;
  std::string tracking_uri;  ///< without credentials; "offline:" for offline loggers
  std::string spool_root;
  std::string spool_session_dir;

  // Online only. Used by the worker thread alone (and by flush/close through it).
  std::shared_ptr<GateTransport> gate;
  std::unique_ptr<detail::Delivery> delivery;
  std::unique_ptr<detail::SpoolWriter> spool;  // thread-safe itself

  std::mutex mu;  // guards everything below
  std::condition_variable wake_worker;
  std::condition_variable settled;  // resolved_through / stopped changed
  std::deque<detail::LogRecord> incoming;
  std::uint64_t next_seq = 1;
  std::uint64_t resolved_through = 0;  ///< every record with seq <= this was delivered or rejected
  bool flush_requested = false;
  bool stopping = false;   ///< close(): drain, then exit
  bool abandon = false;    ///< close() gave up waiting: spool everything, then exit
  bool closed = false;     ///< no more logging calls
  bool stopped = false;    ///< the worker has exited
  std::vector<RejectedRecord> rejected;  ///< since the last report
  std::map<std::string, std::weak_ptr<AsyncRun::State>> runs;  ///< by key

  std::atomic<bool> degraded{false};
  std::atomic<std::uint64_t> queued{0}, sent{0}, retried{0}, spooled{0}, replayed{0},
      rejected_count{0}, server_rejected{0};
  std::atomic<bool> spilled{false};  ///< the producer side wrote to the spool (memory bound)

  std::chrono::steady_clock::time_point last_probe;  ///< worker only
  std::thread worker;

  /// Queues one record (assigns its seq). kFailedPrecondition after close().
  Status enqueue(detail::LogRecord record);
  /// A record refused at the call: counted and kept for the next report.
  Status reject_at_call(const detail::LogRecord& record, Status why);

  void run_worker();
  /// Sends (or spools) one batch of work; `all_resolved` = nothing is left pending anywhere.
  void process(std::vector<detail::LogRecord> work, bool& all_resolved);
  /// Appends to the spool; when even the disk refuses, the records are reported as rejected.
  /// `locked`: the caller holds `mu`.
  void spool_records(const std::vector<detail::LogRecord>& records, bool new_segment,
                     bool locked = false);
  /// Queues the end of every run not ended yet.
  void end_open_runs(RunStatus status);
  bool replay_own_session();
  void replay_orphaned_sessions();
  detail::DeliveryEvents events();
  void note_run_id(const std::string& key, const std::string& run_id);
  void log_line(const std::string& line) const;
};

}  // namespace mlflow

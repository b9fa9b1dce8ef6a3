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
  bool closed() const { return closed_.load(); }

 private:
  std::shared_ptr<HttpTransport> inner_;
  std::atomic<std::uint64_t> attempts_{0};
  std::atomic<bool> closed_{false};
};

/// One run as its handles and the worker see it.
struct AsyncRun::State {
  std::string key;
  std::string experiment_id;  ///< as requested (children inherit it)
  std::string experiment_name;
  std::atomic<bool> ended{false};

  std::mutex mu;                              // guards params, server_id
  std::map<std::string, std::string> params;  ///< logged so far: write-once check at the call
  std::string server_id;
  std::condition_variable id_known;
};

struct AsyncLogger::Impl {
  AsyncLoggerOptions options;
  bool offline = false;
  std::string tracking_uri;  ///< without credentials; "offline:" for offline loggers
  std::string store;         ///< where the runs live (MlflowClient::store_uri()); "offline:"
  std::string spool_root;
  std::string spool_session_dir;
  std::vector<std::string> secrets;  ///< the client's password/token: scrubbed from messages

  // Online only. Used by the worker thread alone (and by flush/close through it).
  std::shared_ptr<GateTransport> gate;
  std::unique_ptr<detail::Delivery> delivery;
  std::unique_ptr<detail::SpoolWriter> spool;  // thread-safe itself

  std::mutex mu;  // guards everything below (never held while sending or writing the spool)
  std::condition_variable wake_worker;
  std::condition_variable settled;  // resolved_through / stopped changed
  std::deque<detail::LogRecord> incoming;
  std::uint64_t next_seq = 1;
  std::uint64_t resolved_through = 0;  ///< every record with seq <= this was delivered or rejected
  bool flush_requested = false;        ///< wake the worker now (flush, close, a spill written)
  bool stopping = false;               ///< close(): drain, then exit
  bool abandon = false;                ///< close() gave up waiting: spool everything, then exit
  bool closed = false;                 ///< no more logging calls
  bool stopped = false;                ///< the worker has exited
  std::vector<RejectedRecord> rejected;  ///< since the last report, the first kMaxListedRejections
  std::uint64_t rejected_unlisted = 0;   ///< since the last report, beyond `rejected`
  std::vector<RejectedFile> rejected_files;  ///< since the last report (orphaned sessions')
  Status last_error;  ///< the last delivery failure since the server last answered (scrubbed)
  std::map<std::string, std::weak_ptr<AsyncRun::State>> runs;  ///< by key

  // The memory bound: a full queue is swapped into `spill` and written by the spill thread, one
  // spill at a time. Spills are numbered so the worker can wait for those formed before a point.
  std::deque<detail::LogRecord> spill;
  std::uint64_t spills_formed = 0;
  std::uint64_t spills_written = 0;
  bool spill_stop = false;             ///< close(): write what is in `spill`, then exit
  std::condition_variable spill_wake;  // a spill formed, or spill_stop
  std::condition_variable spill_done;  // a spill written
  bool spill_busy() const { return spills_written != spills_formed; }

  std::atomic<bool> degraded{false};
  std::atomic<std::uint64_t> queued{0}, sent{0}, retried{0}, spooled{0}, replayed{0},
      rejected_count{0};
  /// This logger's own records delivered or refused (not those replayed from other sessions):
  /// pending = queued - own_settled.
  std::atomic<std::uint64_t> own_settled{0};

  std::chrono::steady_clock::time_point last_probe;  ///< worker only
  std::thread worker;
  std::thread spill_writer;
  std::thread::id worker_id;  ///< set before the logger is shared; read by the hooks
  std::mutex close_mu;        // serialises close(): one thread joins the threads
  bool close_done = false;    ///< guarded by close_mu

  /// Queues one record (assigns its seq). kFailedPrecondition after close().
  Status enqueue(detail::LogRecord record);
  /// A record refused at the call: counted and kept for the next report.
  Status reject_at_call(const detail::LogRecord& record, Status why);
  /// Counts a rejection and lists it (the first kMaxListedRejections per report). `queued_here`:
  /// the record was queued by this logger (not refused at the call, not another session's).
  void note_rejected(RejectedRecord record, bool queued_here);
  /// The report of flush()/close(): takes the rejections and the last error. Locks `mu`.
  FlushReport report(bool complete);
  /// Keeps `why` (scrubbed) as the reason records are pending, and logs `line` the first time the
  /// server is found away. Failures caused by close() giving up (the gate) are not the server's.
  void note_failure(const Status& why, const std::string& line = {});

  void run_worker();
  void run_spill_writer();
  /// Sends (or spools) one batch of work. True when none of it is left pending except in the spool.
  /// `spill_outstanding`: a spill of older records was not written when the work was taken;
  /// `give_up`: close() has given up waiting (everything goes to the spool).
  bool process(std::deque<detail::LogRecord> work, bool spill_outstanding, bool give_up);
  /// Appends to the spool; when even the disk refuses, the records are reported as rejected.
  void spool_records(const std::vector<detail::LogRecord>& records, bool new_segment);
  /// Waits until every spill formed so far is written, so a replay sees every record below the
  /// ones it acknowledges. Spills formed later hold newer records than anything spooled before.
  void wait_spills_written();
  /// Queues the end of every run not ended yet.
  void end_open_runs(RunStatus status);
  Status replay_own_session();
  void replay_orphaned_sessions();
  /// Events for delivering this logger's records (`replay`: from its own spool) or, with `own`
  /// false, records of another process's session.
  detail::DeliveryEvents events(bool own, bool replay);
  void note_run_id(const std::string& key, const std::string& run_id);
  std::string scrub(std::string text) const;
  void log_line(const std::string& line) const;
};

}  // namespace mlflow

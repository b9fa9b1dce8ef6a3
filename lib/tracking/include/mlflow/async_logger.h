// SPDX-License-Identifier: Apache-2.0
// AsyncLogger: logging that never blocks training and never loses data. Calls return at once; one
// background worker batches records into log-batch requests; what cannot be delivered goes to an
// fsync'd on-disk spool and is replayed later (same process, next start, or `mlflowctl sync`).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "mlflow/local_server.h"
#include "mlflow/options.h"
#include "mlflow/run.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow {

/// How an AsyncLogger batches, spools and retries.
struct AsyncLoggerOptions {
  /// Where the spool lives (one session directory per logger under it). Empty:
  /// $XDG_CACHE_HOME/mlflow-cpp/spool, else ~/.cache/mlflow-cpp/spool (open_from_env():
  /// $MLFLOW_CPP_SPOOL_DIR first). Offline loggers use the path of their offline: URI instead.
  std::string spool_dir;
  /// Records queued that wake the worker at once (the size trigger); otherwise it wakes every
  /// flush_interval.
  std::size_t batch_records = 1000;
  /// longest wait between deliveries when fewer than batch_records are queued
  std::chrono::milliseconds flush_interval{1000};
  /// Memory bound: records queued in memory. A full queue is handed whole (O(1)) to a spill thread
  /// that writes it to the spool (never dropped), so a logging call does not wait for the disk or
  /// the network; it waits only when the previous spill is still being written (the disk itself
  /// cannot keep up). At most about 3x this many records are in memory: the queue, one spill being
  /// written and the batch the worker is sending.
  std::size_t max_queued_records = 500'000;
  /// Retries of one request before its records are spooled. Kept short so a dead server costs
  /// seconds, not the official client's ten minutes: the spool, not the retry loop, makes it
  /// durable.
  RetryOptions retry = [] {
    RetryOptions r;
    r.max_retries = 4;
    r.backoff_factor = std::chrono::milliseconds(500);
    r.backoff_jitter = std::chrono::milliseconds(250);
    r.request_timeout = std::chrono::seconds(10);
    r.deadline = std::chrono::seconds(20);
    return r;
  }();
  /// While the server is away, how often the worker checks whether it is back.
  std::chrono::milliseconds probe_interval{2000};
  /// Replay, at start, spool sessions that crashed processes left for the same store
  /// (MlflowClient::store_uri(): the same server, or in local mode the same database, whichever
  /// port its server had).
  bool replay_orphaned_sessions = true;
  /// Accept NaN and +-Inf metric values (MLflow stores them; its SQL store turns +-Inf into
  /// +-DBL_MAX). Off: such a value is rejected at the call with the key named.
  bool allow_non_finite = false;
  /// Where the one-line summary at close goes (counters); default: stderr. Never sees credentials.
  std::function<void(const std::string&)> log;
};

/// What the logger has done so far. Records are counted once each in exactly one of delivered /
/// rejected eventually; retried and spooled count events on the way. Records replayed at start
/// from sessions crashed processes left count in sent, replayed, retried and rejected (not queued).
struct LoggerCounters {
  std::uint64_t queued = 0;    ///< records accepted by the logging calls
  std::uint64_t sent = 0;      ///< records the server acknowledged (live or replayed)
  std::uint64_t retried = 0;   ///< records re-sent after a failed attempt
  std::uint64_t spooled = 0;   ///< records written to the on-disk spool
  std::uint64_t replayed = 0;  ///< records delivered from the spool (also counted in sent)
  std::uint64_t rejected = 0;  ///< records refused (at the call or by the server), see FlushReport
};

/// A record that will never be delivered, and why.
struct RejectedRecord {
  std::string run;     ///< run id (or the logger's key for a run not yet created)
  std::string kind;    ///< "metric", "param", "tag", "run"
  std::string key;     ///< metric, param or tag key; for kind "run", the run name
  std::string reason;  ///< why: the client-side check's or the server's message
};

/// Where the records a server refused were kept when their session was removed (by mlflowctl sync,
/// or by a logger replaying what another process left): one line per record with the server's
/// reason.
struct RejectedFile {
  std::string path;           ///< `SPOOL/rejected-<session>.jsonl`
  std::uint64_t records = 0;  ///< lines in it
};

/// Result of flush()/close().
struct FlushReport {
  /// Rejections listed per report; more are counted in rejected_unlisted.
  static constexpr std::size_t kMaxListedRejections = 1000;

  /// Everything logged before the call reached the server or was rejected (nothing left pending).
  bool complete = false;
  std::uint64_t pending = 0;             ///< records still in memory or in the spool
  std::vector<RejectedRecord> rejected;  ///< refused since the previous report, the first ones
  std::uint64_t rejected_unlisted = 0;   ///< refused since the previous report beyond `rejected`
  /// Since the previous report: where the records the server refused of other processes' sessions
  /// (replayed at start) were kept when those sessions were removed.
  std::vector<RejectedFile> rejected_files;
  /// Why records are pending: the last delivery failure (e.g. HTTP 401, a TLS certificate error, a
  /// malformed response, the server unreachable), never holding a credential. OK when delivery has
  /// not failed since the server last answered.
  Status last_error;
  LoggerCounters counters;  ///< totals so far
  /// OK when complete and nothing was rejected. Rejections: kInvalidArgument, each named (run,
  /// key, reason), and the rejected files. Otherwise pending (safe in the spool): last_error's
  /// code and message (kUnauthenticated, kPermissionDenied, kFailedPrecondition for TLS,
  /// kInternal, kUnavailable, ...), or kDeadlineExceeded when delivery was merely slower than the
  /// timeout.
  Status status() const;
};

class AsyncLogger;

/// A run logged through an AsyncLogger. Logging calls are O(1), never block on the network and
/// never throw: they return kInvalidArgument for input MLflow would refuse (naming the key),
/// otherwise OK. Destroying an un-ended run ends it: FINISHED, or FAILED when destroyed while an
/// exception propagates. Movable; thread-safe (several threads may log to one run).
class AsyncRun {
 public:
  /// Takes over the other run; the moved-from object does nothing.
  AsyncRun(AsyncRun&&) noexcept;
  /// Ends this run (FINISHED) if it is open, then takes over the other one.
  AsyncRun& operator=(AsyncRun&&) noexcept;
  AsyncRun(const AsyncRun&) = delete;
  AsyncRun& operator=(const AsyncRun&) = delete;
  ~AsyncRun();

  /// The server's run id once the run exists there; empty while it is only queued or spooled.
  std::string id() const;
  /// Waits (at most `timeout`) for the server's run id. kDeadlineExceeded when the run is not
  /// created by then (the server is away: the run is spooled and gets its id at replay);
  /// kFailedPrecondition for an offline logger.
  StatusOr<std::string> wait_for_id(std::chrono::milliseconds timeout) const;
  /// The logger's key of this run (stable; tagged mlflow-cpp.run_key on the server).
  const std::string& key() const;

  /// Timestamp taken now, at the call.
  Status log_metric(const std::string& key, double value, std::int64_t step = 0);
  /// With an explicit timestamp (ms since the epoch).
  Status log_metric(const std::string& key, double value, std::int64_t step, TimestampMs timestamp);
  /// Params are write-once: re-logging the same value is fine, another value is rejected here.
  Status log_param(const std::string& key, const std::string& value);
  /// Sets (or overwrites) a tag.
  Status set_tag(const std::string& key, const std::string& value);

  /// A nested run (mlflow.parentRunId), in the same experiment unless options say otherwise.
  StatusOr<AsyncRun> start_child(RunOptions options = {});
  /// Queues the end of the run (status, now). Idempotent.
  void end(RunStatus status = RunStatus::kFinished);
  /// True once end() was called, or for a moved-from run.
  bool ended() const;

 private:
  friend class AsyncLogger;
  struct State;
  AsyncRun(std::shared_ptr<AsyncLogger> logger, std::shared_ptr<State> state);
  std::shared_ptr<AsyncLogger> logger_;
  std::shared_ptr<State> state_;
  int uncaught_at_start_ = 0;
};

/// The logger: owns the queue, the worker thread and the spool session.
///
/// Thread-safety: every method may be called from any thread.
class AsyncLogger : public std::enable_shared_from_this<AsyncLogger> {
 public:
  /// A logger for `client`'s server. Fails only when the spool directory cannot be created.
  static StatusOr<std::shared_ptr<AsyncLogger>> open(const MlflowClient& client,
                                                     AsyncLoggerOptions options = {});
  /// A logger for a machine with no server: everything goes to the spool under `path` (created),
  /// to be replayed later with `mlflowctl sync PATH --to URI`.
  static StatusOr<std::shared_ptr<AsyncLogger>> open_offline(const std::string& path,
                                                             AsyncLoggerOptions options = {});
  /// `offline:PATH` → open_offline; anything else → connect(client_options with `tracking_uri`,
  /// local) (local_server.h) then open().
  static StatusOr<std::shared_ptr<AsyncLogger>> open_uri(const std::string& tracking_uri,
                                                         AsyncLoggerOptions options = {},
                                                         ClientOptions client_options = {},
                                                         const LocalServerOptions& local = {});
  /// open_uri(MLFLOW_TRACKING_URI) with ClientOptions::from_env() for credentials and TLS,
  /// LocalServerOptions::from_env(), and $MLFLOW_CPP_SPOOL_DIR when options.spool_dir is empty.
  static StatusOr<std::shared_ptr<AsyncLogger>> open_from_env(AsyncLoggerOptions options = {});

  ~AsyncLogger();  ///< close(10 s) unless closed

  /// Queues a new run (experiment by id or name, created when missing; RunOptions::run_id resumes
  /// an existing run). Returns at once: the run is created by the worker, or at replay when the
  /// server is away. kInvalidArgument for bad tags or names.
  StatusOr<AsyncRun> start_run(RunOptions options = {});

  /// Waits until everything queued before the call is delivered or rejected, or `timeout` passes.
  FlushReport flush(std::chrono::milliseconds timeout);
  /// Ends every run still open (FINISHED), flushes within `timeout`, spools whatever is left, stops
  /// the worker, logs the counters. Later logging calls are rejected. Idempotent; a close() called
  /// while another thread's is running waits for it to finish. Takes at most `timeout` plus one
  /// request timeout (the request in flight when time runs out).
  FlushReport close(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// What the logger has done so far.
  LoggerCounters counters() const;
  /// True while the server is believed unreachable (records go to the spool).
  bool degraded() const;
  /// The spool session directory of this logger (where undelivered records are kept).
  std::string spool_session_dir() const;

  /// Opt-in process hooks for every live logger: SIGINT/SIGTERM end its open runs KILLED and close
  /// it (flush for at most `timeout`, then whatever is still in memory goes to the spool, replayed
  /// at the next start or by `mlflowctl sync`), then re-raise the signal with its default action;
  /// std::terminate (an uncaught exception) ends them FAILED and closes likewise before the
  /// previous terminate handler runs; std::exit() closes them (runs end FINISHED, as MLflow's
  /// atexit hook does) before the process exits.
  static void install_process_hooks(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// What the hooks do for one logger: queue the end of every open run with `status`, then close.
  /// Does nothing on the logger's own worker thread.
  FlushReport end_runs_and_close(RunStatus status, std::chrono::milliseconds timeout);

  struct Impl;

 private:
  friend class AsyncRun;
  explicit AsyncLogger(std::unique_ptr<Impl> impl);
  static StatusOr<std::shared_ptr<AsyncLogger>> start(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlflow

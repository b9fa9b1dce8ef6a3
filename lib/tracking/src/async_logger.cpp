// SPDX-License-Identifier: Apache-2.0
// AsyncLogger: opening, the queue, the worker loop (send, spool when the server is away, replay
// when it is back), flush and close.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "async_logger_impl.h"
#include "mlflow/local_server.h"
#include "process_hooks.h"
#include "replay.h"
#include "replay_progress.h"

namespace mlflow {

using detail::LogRecord;

namespace {

constexpr const char* kOfflineScheme = "offline:";

AsyncLoggerOptions with_defaults(AsyncLoggerOptions o) {
  if (o.batch_records == 0) o.batch_records = 1;
  if (o.max_queued_records < o.batch_records) o.max_queued_records = o.batch_records;
  return o;
}

}  // namespace

// ---- opening
// -------------------------------------------------------------------------------------

/// Opens the spool session, starts the worker, registers the logger for the process hooks.
StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::start(std::unique_ptr<Impl> impl) {
  auto spool = detail::SpoolWriter::create(impl->spool_root, impl->tracking_uri, impl->store);
  if (!spool.ok()) return spool.status();
  impl->spool = std::move(*spool);
  impl->spool_session_dir = impl->spool->dir();
  std::shared_ptr<AsyncLogger> logger(new AsyncLogger(std::move(impl)));
  Impl* raw = logger->impl_.get();
  raw->spill_writer = std::thread([raw] { raw->run_spill_writer(); });
  raw->worker = std::thread([raw] { raw->run_worker(); });
  raw->worker_id = raw->worker.get_id();
  detail::register_logger(logger);
  return logger;
}

AsyncLogger::AsyncLogger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::open(const MlflowClient& client,
                                                         AsyncLoggerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = with_defaults(std::move(options));
  impl->tracking_uri = client.tracking_uri();
  impl->store = client.store_uri();
  for (const std::string* secret : {&client.options().password, &client.options().token}) {
    if (!secret->empty()) impl->secrets.push_back(*secret);
  }
  impl->spool_root =
      impl->options.spool_dir.empty() ? detail::default_spool_root() : impl->options.spool_dir;
  std::shared_ptr<GateTransport> gate;
  MlflowClient retrying = client.derive(impl->options.retry, [&](std::shared_ptr<HttpTransport> t) {
    gate = std::make_shared<GateTransport>(std::move(t));
    return gate;
  });
  RetryOptions once = impl->options.retry;
  once.max_retries = 0;
  MlflowClient single =
      client.derive(once, [&](const std::shared_ptr<HttpTransport>&) { return gate; });
  impl->gate = gate;
  impl->delivery = std::make_unique<detail::Delivery>(std::move(retrying), std::move(single),
                                                      [gate] { return gate->attempts(); });
  return start(std::move(impl));
}

StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::open_offline(const std::string& path,
                                                                 AsyncLoggerOptions options) {
  if (path.empty()) {
    return Status(
        StatusCode::kInvalidArgument,
        "offline logging needs a directory: use offline:PATH (e.g. offline:./mlflow-offline)");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = with_defaults(std::move(options));
  impl->offline = true;
  impl->tracking_uri = kOfflineScheme;
  impl->store = kOfflineScheme;
  impl->spool_root = path;
  return start(std::move(impl));
}

StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::open_uri(const std::string& tracking_uri,
                                                             AsyncLoggerOptions options,
                                                             ClientOptions client_options,
                                                             const LocalServerOptions& local) {
  if (tracking_uri.rfind(kOfflineScheme, 0) == 0) {
    return open_offline(tracking_uri.substr(std::char_traits<char>::length(kOfflineScheme)),
                        std::move(options));
  }
  client_options.tracking_uri = tracking_uri;
  auto client = connect(client_options, {}, local);
  if (!client.ok()) return client.status();
  return open(*client, std::move(options));
}

StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::open_from_env(AsyncLoggerOptions options) {
  auto client_options = ClientOptions::from_env();
  if (!client_options.ok()) return client_options.status();
  auto local = LocalServerOptions::from_env();
  if (!local.ok()) return local.status();
  if (options.spool_dir.empty()) {
    options.spool_dir = process_env("MLFLOW_CPP_SPOOL_DIR").value_or("");
  }
  const std::string uri = client_options->tracking_uri;
  return open_uri(uri, std::move(options), std::move(*client_options), *local);
}

AsyncLogger::~AsyncLogger() {
  close(std::chrono::seconds(10));
  detail::unregister_logger(this);
}

// ---- the calling side
// ----------------------------------------------------------------------------

Status AsyncLogger::Impl::enqueue(LogRecord record) {
  std::unique_lock<std::mutex> lock(mu);
  if (closed) {
    lock.unlock();
    return reject_at_call(record, Status(StatusCode::kFailedPrecondition, "the logger is closed"));
  }
  record.seq = next_seq++;
  incoming.push_back(std::move(record));
  queued.fetch_add(1, std::memory_order_relaxed);
  // Memory bound reached (the worker is stuck on the network): the whole queue goes to the spill
  // thread by a swap, O(1). Only when the previous spill is still being written does the call wait:
  // the disk itself cannot keep up then, and waiting is what keeps memory bounded.
  while (incoming.size() >= options.max_queued_records) {
    if (!spill_busy()) {
      spill.swap(incoming);
      ++spills_formed;
      spill_wake.notify_one();
      return Status();
    }
    spill_done.wait(lock);
  }
  if (incoming.size() == options.batch_records) wake_worker.notify_one();
  return Status();
}

Status AsyncLogger::Impl::reject_at_call(const LogRecord& record, Status why) {
  note_rejected({record.run, detail::rejected_kind(record.kind), record.key, why.message()},
                /*queued_here=*/false);
  return why;
}

void AsyncLogger::Impl::note_rejected(RejectedRecord record, bool queued_here) {
  rejected_count.fetch_add(1, std::memory_order_relaxed);
  if (queued_here) own_settled.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu);
  // Bounded: a loop logging NaN every step must not grow memory until the next flush.
  if (rejected.size() < FlushReport::kMaxListedRejections) {
    rejected.push_back(std::move(record));
  } else {
    ++rejected_unlisted;
  }
}

void AsyncLogger::Impl::note_failure(const Status& why, const std::string& line) {
  if (gate && gate->closed()) return;
  if (!line.empty()) log_line(line);
  Status kept(why.code(), scrub(why.message()), why.http_status(), why.error_code());
  std::lock_guard<std::mutex> lock(mu);
  last_error = std::move(kept);
}

std::string AsyncLogger::Impl::scrub(std::string text) const {
  // Messages are built without credentials; this only guards against a server echoing one back.
  for (const auto& secret : secrets) {
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

void AsyncLogger::Impl::log_line(const std::string& line) const {
  const std::string text = scrub(line);
  if (options.log) {
    options.log(text);
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

// ---- the worker
// ----------------------------------------------------------------------------------

detail::DeliveryEvents AsyncLogger::Impl::events(bool own, bool replay) {
  detail::DeliveryEvents ev;
  if (own) {
    ev.run_created = [this, replay](const std::string& key, const std::string& run_id) {
      note_run_id(key, run_id);
      // Spooled records may name the run by key; the mapping must outlive this process. A replay
      // records it itself (replay_session's progress).
      return replay ? Status() : spool->mark_run(key, run_id);
    };
  }
  ev.rejected = [this, own](RejectedRecord r) { note_rejected(std::move(r), own); };
  ev.delivered = [this, own, replay](std::uint64_t n) {
    sent.fetch_add(n, std::memory_order_relaxed);
    if (replay) replayed.fetch_add(n, std::memory_order_relaxed);
    if (own) own_settled.fetch_add(n, std::memory_order_relaxed);
  };
  ev.retried = [this](std::uint64_t n) { retried.fetch_add(n, std::memory_order_relaxed); };
  return ev;
}

void AsyncLogger::Impl::note_run_id(const std::string& key, const std::string& run_id) {
  std::shared_ptr<AsyncRun::State> state;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = runs.find(key);
    if (it != runs.end()) state = it->second.lock();
  }
  if (!state) return;
  std::lock_guard<std::mutex> lock(state->mu);
  state->server_id = run_id;
  state->id_known.notify_all();
}

void AsyncLogger::Impl::spool_records(const std::vector<LogRecord>& records, bool new_segment) {
  if (records.empty()) return;
  Status s = spool->append(records, new_segment);
  if (s.ok()) {
    spooled.fetch_add(records.size(), std::memory_order_relaxed);
    return;
  }
  // The disk refused too: nothing is left to keep these in, so say so loudly, record by record.
  log_line("mlflow-cpp: cannot write the spool: " + s.message());
  for (const auto& r : records) {
    note_rejected({r.run, detail::rejected_kind(r.kind), r.key,
                   "not delivered and not spooled: " + s.message()},
                  /*queued_here=*/true);
  }
}

void AsyncLogger::Impl::run_spill_writer() {
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    spill_wake.wait(lock, [&] { return spill_busy() || spill_stop; });
    if (!spill_busy()) break;  // stopping, nothing left to write
    std::deque<LogRecord> full;
    full.swap(spill);
    lock.unlock();
    std::vector<LogRecord> records(std::make_move_iterator(full.begin()),
                                   std::make_move_iterator(full.end()));
    // The newest records so far, while older ones may still be in the worker's hands: a segment
    // of their own; replay merges segments by seq.
    spool_records(records, /*new_segment=*/true);
    lock.lock();
    ++spills_written;
    spill_done.notify_all();
    // The worker replays them now rather than at its next interval (a flush may be waiting).
    flush_requested = true;
    wake_worker.notify_one();
  }
}

void AsyncLogger::Impl::wait_spills_written() {
  std::unique_lock<std::mutex> lock(mu);
  const std::uint64_t target = spills_formed;
  spill_done.wait(lock, [&] { return spills_written >= target; });
}

Status AsyncLogger::Impl::replay_own_session() {
  auto session = detail::SpoolSession::open(spool->dir(), /*lock=*/false);
  if (!session.ok()) {
    log_line("mlflow-cpp: cannot read the spool: " + session.status().message());
    return session.status();
  }
  Status s = detail::replay_session(**session, *delivery, detail::progress_into(*spool),
                                    events(/*own=*/true, /*replay=*/true));
  if (!s.ok()) {
    if (!detail::is_server_away(s)) log_line("mlflow-cpp: spool replay stopped: " + s.message());
    return s;
  }
  (void)spool->compact();
  return Status();
}

void AsyncLogger::Impl::replay_orphaned_sessions() {
  auto dirs = detail::list_spool_sessions(spool_root);
  if (!dirs.ok()) return;
  for (const auto& dir : *dirs) {
    if (dir == spool->dir()) continue;
    auto session = detail::SpoolSession::open(dir, /*lock=*/true);
    if (!session.ok()) {
      if (session.status().code() != StatusCode::kUnavailable) {
        log_line("mlflow-cpp: skipping spool session: " + session.status().message());
      }
      continue;
    }
    // By where the runs live, not by address: a local-mode server gets another port each start.
    if (!detail::session_in_store((*session)->info(), store, tracking_uri)) continue;
    std::uint64_t delivered = 0;
    detail::SpoolSession& s = **session;
    detail::DeliveryEvents ev = events(/*own=*/false, /*replay=*/true);
    ev.delivered = [&delivered, count = ev.delivered](std::uint64_t n) {
      delivered += n;
      count(n);
    };
    // As `mlflowctl sync` does: what the server refuses is kept in a file, never dropped with the
    // session.
    std::optional<RejectedFile> kept;
    Status r = detail::replay_and_remove(s, *delivery, spool_root, tracking_uri, ev, &kept);
    if (r.ok()) {
      std::string line = fmt::format("mlflow-cpp: replayed {} records that process {} left in {}",
                                     delivered, s.info().pid, dir);
      if (kept) {
        line += fmt::format("; the server refused {} record(s), kept with its reasons in {}",
                            kept->records, kept->path);
        std::lock_guard<std::mutex> lock(mu);
        rejected_files.push_back(*kept);
      }
      log_line(line);
    } else if (detail::is_server_away(r)) {
      note_failure(r);
      return;  // the server is away again: leave the rest for later
    } else {
      log_line("mlflow-cpp: cannot replay " + dir + ": " + r.message());
    }
  }
}

bool AsyncLogger::Impl::process(std::deque<LogRecord> queue, bool spill_outstanding, bool give_up) {
  std::vector<LogRecord> work(std::make_move_iterator(queue.begin()),
                              std::make_move_iterator(queue.end()));
  if (offline || give_up) {
    spool_records(work, false);
    return offline;  // offline, "resolved" means safe on disk
  }
  const auto now = std::chrono::steady_clock::now();
  // Older records in the spool (or still being spilled to it) go first: these join them there.
  if (degraded.load() || spill_outstanding || spool->has_unacked()) {
    spool_records(work, false);
    if (degraded.load() && now - last_probe < options.probe_interval) return false;
    last_probe = now;
    Status st = delivery->reachable();
    if (st.ok()) {
      wait_spills_written();
      st = replay_own_session();
    }
    if (!st.ok()) {
      note_failure(st);
      degraded.store(true);
      return false;
    }
    if (degraded.exchange(false)) {
      {
        std::lock_guard<std::mutex> lock(mu);
        last_error = Status();
      }
      log_line("mlflow-cpp: the tracking server answers again; spool replayed");
    }
    return true;
  }
  for (std::size_t begin = 0; begin < work.size(); begin += detail::kReplayWindow) {
    const std::size_t end = std::min(work.size(), begin + detail::kReplayWindow);
    std::vector<LogRecord> window(
        std::make_move_iterator(work.begin() + static_cast<std::ptrdiff_t>(begin)),
        std::make_move_iterator(work.begin() + static_cast<std::ptrdiff_t>(end)));
    auto result = delivery->deliver(std::move(window), events(/*own=*/true, /*replay=*/false));
    if (!result.status.ok()) {
      // Keep the order: what this window could not deliver, then everything after it.
      std::vector<LogRecord> rest = std::move(result.undelivered);
      rest.insert(rest.end(),
                  std::make_move_iterator(work.begin() + static_cast<std::ptrdiff_t>(end)),
                  std::make_move_iterator(work.end()));
      spool_records(rest, false);
      degraded.store(true);
      last_probe = now;
      note_failure(result.status,
                   fmt::format("mlflow-cpp: cannot reach the tracking server ({}); records go to "
                               "the spool {} until it answers",
                               result.status.message(), spool->dir()));
      return false;
    }
  }
  return true;
}

void AsyncLogger::Impl::run_worker() {
  if (!offline && options.replay_orphaned_sessions) replay_orphaned_sessions();
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    const auto wait = degraded.load() ? std::min(options.flush_interval, options.probe_interval)
                                      : options.flush_interval;
    // Not woken by `stopping` itself (close() requests a flush): a close waiting for a server that
    // is away must not spin.
    wake_worker.wait_for(lock, wait, [&] {
      return incoming.size() >= options.batch_records || flush_requested || abandon;
    });
    const bool stop = stopping || abandon;
    const bool give_up = abandon;
    const std::uint64_t spills_before = spills_formed;
    const bool spill_outstanding = spills_written < spills_before;
    std::deque<LogRecord> work;
    work.swap(incoming);  // O(1): the logging calls never wait for the worker's copying
    flush_requested = false;
    const std::uint64_t through = next_seq - 1;
    lock.unlock();
    const bool done = process(std::move(work), spill_outstanding, give_up);
    lock.lock();
    // Spills formed before the work was taken hold records up to `through`: written means in the
    // spool, and then has_unacked() says whether they are delivered.
    const bool resolved =
        done && spills_written >= spills_before && (offline || !spool->has_unacked());
    if (resolved) resolved_through = std::max(resolved_through, through);
    settled.notify_all();
    if (stop && incoming.empty() && (resolved || abandon)) break;
  }
  stopped = true;
  settled.notify_all();
}

// ---- flush and close
// -----------------------------------------------------------------------------

Status FlushReport::status() const {
  std::string pending_msg;
  if (!complete) {
    pending_msg = fmt::format("{} record(s) not delivered yet (kept in the spool)", pending);
    if (!last_error.ok()) pending_msg += ": " + last_error.message();
  }
  const std::uint64_t refused = rejected.size() + rejected_unlisted;
  if (refused > 0 || !rejected_files.empty()) {
    std::string msg;
    if (refused > 0) {
      msg = fmt::format("{} record(s) rejected:", refused);
      const std::size_t shown = std::min<std::size_t>(rejected.size(), 10);
      for (std::size_t i = 0; i < shown; ++i) {
        const auto& r = rejected[i];
        msg += fmt::format(" [{} '{}' of run {}: {}]", r.kind, r.key, r.run, r.reason);
      }
      if (shown < refused) msg += fmt::format(" and {} more", refused - shown);
      if (rejected_unlisted > 0) {
        msg += fmt::format(" (only the first {} are listed in the report)", rejected.size());
      }
    }
    for (const auto& f : rejected_files) {
      if (!msg.empty()) msg += "; ";
      msg += fmt::format(
          "{} record(s) of another process's session kept with the server's "
          "reasons in {}",
          f.records, f.path);
    }
    if (!complete) msg += "; " + pending_msg;
    return Status(StatusCode::kInvalidArgument, msg);
  }
  if (!complete) {
    if (last_error.ok()) return Status(StatusCode::kDeadlineExceeded, pending_msg);
    return Status(last_error.code(), pending_msg, last_error.http_status(),
                  last_error.error_code());
  }
  return Status();
}

LoggerCounters AsyncLogger::counters() const {
  LoggerCounters c;
  c.queued = impl_->queued.load();
  c.sent = impl_->sent.load();
  c.retried = impl_->retried.load();
  c.spooled = impl_->spooled.load();
  c.replayed = impl_->replayed.load();
  c.rejected = impl_->rejected_count.load();
  return c;
}

bool AsyncLogger::degraded() const { return impl_->degraded.load(); }
std::string AsyncLogger::spool_session_dir() const { return impl_->spool_session_dir; }

FlushReport AsyncLogger::Impl::report(bool complete) {
  FlushReport r;
  r.complete = complete;
  {
    std::lock_guard<std::mutex> lock(mu);
    r.rejected = std::move(rejected);
    rejected.clear();
    r.rejected_unlisted = std::exchange(rejected_unlisted, 0);
    r.rejected_files = std::move(rejected_files);
    rejected_files.clear();
    r.last_error = last_error;
  }
  r.counters.queued = queued.load();
  r.counters.sent = sent.load();
  r.counters.retried = retried.load();
  r.counters.spooled = spooled.load();
  r.counters.replayed = replayed.load();
  r.counters.rejected = rejected_count.load();
  const std::uint64_t settled_here = own_settled.load();
  if (offline) {
    r.pending = r.counters.spooled;
  } else {
    r.pending = complete || r.counters.queued < settled_here ? 0 : r.counters.queued - settled_here;
  }
  return r;
}

FlushReport AsyncLogger::flush(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  bool complete = false;
  {
    std::unique_lock<std::mutex> lock(impl.mu);
    const std::uint64_t target = impl.next_seq - 1;
    impl.flush_requested = true;
    impl.wake_worker.notify_one();
    impl.settled.wait_for(lock, timeout,
                          [&] { return impl.resolved_through >= target || impl.stopped; });
    complete = impl.resolved_through >= target;
  }
  return impl.report(complete);
}

void AsyncLogger::Impl::end_open_runs(RunStatus status) {
  std::vector<std::shared_ptr<AsyncRun::State>> open;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [key, weak] : runs) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) {
    if (s->ended.exchange(true)) continue;
    LogRecord r;
    r.kind = LogRecord::Kind::kEndRun;
    r.run = s->key;
    r.value = to_string(status);
    r.timestamp = now_ms();
    (void)enqueue(std::move(r));
  }
}

FlushReport AsyncLogger::close(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  // One close at a time: a second caller (another thread, a signal hook, the destructor) waits for
  // the first and then gets a report of the closed logger; only the first joins the threads.
  std::lock_guard<std::mutex> closing(impl.close_mu);
  if (impl.close_done) {
    bool complete = false;
    {
      std::lock_guard<std::mutex> lock(impl.mu);
      complete = impl.resolved_through + 1 >= impl.next_seq;
    }
    return impl.report(complete);
  }
  impl.end_open_runs(RunStatus::kFinished);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool complete = false;
  {
    std::unique_lock<std::mutex> lock(impl.mu);
    impl.closed = true;
    const std::uint64_t target = impl.next_seq - 1;
    impl.stopping = true;
    impl.flush_requested = true;
    impl.wake_worker.notify_one();
    if (!impl.settled.wait_until(lock, deadline, [&] { return impl.stopped; })) {
      // Out of time: everything still held goes to the spool; the request in flight (if any) is
      // the last one made, and it is bounded by the request timeout.
      impl.abandon = true;
      if (impl.gate) impl.gate->close();
      impl.wake_worker.notify_one();
      impl.settled.wait(lock, [&] { return impl.stopped; });
    }
    complete = impl.resolved_through >= target;
  }
  impl.worker.join();
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.spill_stop = true;
    impl.spill_wake.notify_one();
  }
  impl.spill_writer.join();  // after it, every record is delivered, spooled or reported

  FlushReport report = impl.report(complete);
  const auto& c = report.counters;
  std::string line = fmt::format(
      "mlflow-cpp: async logger closed: {} records queued, {} sent, {} retried, {} spooled, {} "
      "replayed, {} rejected",
      c.queued, c.sent, c.retried, c.spooled, c.replayed, c.rejected);
  if (impl.offline) {
    line += fmt::format("; offline: everything is in {} (replay with `mlflowctl sync {} --to URI`)",
                        impl.spool_session_dir, impl.spool_root);
  } else if (!report.complete) {
    line += fmt::format(
        "; {} records kept in {}: replayed at the next start against {} or with "
        "`mlflowctl sync {} --to {}`",
        report.pending, impl.spool_session_dir, impl.store, impl.spool_root, impl.store);
    if (!report.last_error.ok()) line += "; last error: " + report.last_error.message();
  }
  impl.log_line(line);
  // Releases the session: removed when everything was delivered, else left for a later replay.
  impl.spool.reset();
  impl.close_done = true;
  return report;
}

}  // namespace mlflow

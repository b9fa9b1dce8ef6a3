// SPDX-License-Identifier: Apache-2.0
// AsyncLogger: opening, the queue, the worker loop (send, spool when the server is away, replay when
// it is back), flush and close.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "async_logger_impl.h"
#include "mlflow/local_server.h"
#include "process_hooks.h"
#include "replay.h"

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

// ---- opening -------------------------------------------------------------------------------------

/// Opens the spool session, starts the worker, registers the logger for the process hooks.
StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::start(std::unique_ptr<Impl> impl) {
  auto spool = detail::SpoolWriter::create(impl->spool_root, impl->tracking_uri);
  if (!spool.ok()) return spool.status();
  impl->spool = std::move(*spool);
  impl->spool_session_dir = impl->spool->dir();
  std::shared_ptr<AsyncLogger> logger(new AsyncLogger(std::move(impl)));
  Impl* raw = logger->impl_.get();
  raw->worker = std::thread([raw] { raw->run_worker(); });
  detail::register_logger(logger);
  return logger;
}

AsyncLogger::AsyncLogger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::open(MlflowClient client,
                                                         AsyncLoggerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = with_defaults(std::move(options));
  impl->tracking_uri = client.tracking_uri();
  impl->spool_root =
      impl->options.spool_dir.empty() ? detail::default_spool_root() : impl->options.spool_dir;
  std::shared_ptr<GateTransport> gate;
  MlflowClient retrying = client.derive(impl->options.retry, [&](std::shared_ptr<HttpTransport> t) {
    gate = std::make_shared<GateTransport>(std::move(t));
    return gate;
  });
  RetryOptions once = impl->options.retry;
  once.max_retries = 0;
  MlflowClient single = client.derive(once, [&](std::shared_ptr<HttpTransport>) { return gate; });
  impl->gate = gate;
  impl->delivery = std::make_unique<detail::Delivery>(std::move(retrying), std::move(single),
                                                      [gate] { return gate->attempts(); });
  return start(std::move(impl));
}

StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::open_offline(const std::string& path,
                                                                 AsyncLoggerOptions options) {
  if (path.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "offline logging needs a directory: use offline:PATH (e.g. offline:./mlflow-offline)");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = with_defaults(std::move(options));
  impl->offline = true;
  impl->tracking_uri = kOfflineScheme;
  impl->spool_root = path;
  return start(std::move(impl));
}

StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::open_uri(const std::string& tracking_uri,
                                                             AsyncLoggerOptions options) {
  if (tracking_uri.rfind(kOfflineScheme, 0) == 0) {
    return open_offline(tracking_uri.substr(std::char_traits<char>::length(kOfflineScheme)),
                        std::move(options));
  }
  auto client_options = ClientOptions::from_env();
  if (!client_options.ok()) return client_options.status();
  client_options->tracking_uri = tracking_uri;
  auto client = connect(*client_options);
  if (!client.ok()) return client.status();
  return open(std::move(*client), std::move(options));
}

StatusOr<std::shared_ptr<AsyncLogger>> AsyncLogger::open_from_env(AsyncLoggerOptions options) {
  auto uri = process_env("MLFLOW_TRACKING_URI");
  return open_uri(uri.value_or(""), std::move(options));
}

AsyncLogger::~AsyncLogger() {
  close(std::chrono::seconds(10));
  detail::unregister_logger(this);
}

// ---- the calling side ----------------------------------------------------------------------------

Status AsyncLogger::Impl::enqueue(LogRecord record) {
  std::unique_lock<std::mutex> lock(mu);
  if (closed) {
    lock.unlock();
    return reject_at_call(record, Status(StatusCode::kFailedPrecondition, "the logger is closed"));
  }
  record.seq = next_seq++;
  incoming.push_back(std::move(record));
  queued.fetch_add(1, std::memory_order_relaxed);
  const std::size_t n = incoming.size();
  if (n >= options.max_queued_records) {
    // Memory bound reached (the worker is stuck on the network): the queue goes to the spool now.
    // These are the newest records, so they get a segment of their own; replay merges by seq.
    std::vector<LogRecord> spill(std::make_move_iterator(incoming.begin()),
                                 std::make_move_iterator(incoming.end()));
    incoming.clear();
    spilled.store(true);
    spool_records(spill, /*new_segment=*/true, /*locked=*/true);
  } else if (n == options.batch_records) {
    wake_worker.notify_one();
  }
  return Status();
}

Status AsyncLogger::Impl::reject_at_call(const LogRecord& record, Status why) {
  rejected_count.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu);
    rejected.push_back({record.run, detail::rejected_kind(record.kind), record.key, why.message()});
  }
  return why;
}

void AsyncLogger::Impl::log_line(const std::string& line) const {
  if (options.log) {
    options.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

// ---- the worker ----------------------------------------------------------------------------------

detail::DeliveryEvents AsyncLogger::Impl::events() {
  detail::DeliveryEvents ev;
  ev.run_created = [this](const std::string& key, const std::string& run_id) {
    note_run_id(key, run_id);
    // Spooled records may name the run by key; the mapping must outlive this process.
    return spool->mark_run(key, run_id);
  };
  ev.rejected = [this](RejectedRecord r) {
    rejected_count.fetch_add(1, std::memory_order_relaxed);
    server_rejected.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    rejected.push_back(std::move(r));
  };
  ev.delivered = [this](std::uint64_t n) { sent.fetch_add(n, std::memory_order_relaxed); };
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

void AsyncLogger::Impl::spool_records(const std::vector<LogRecord>& records, bool new_segment,
                                      bool locked) {
  if (records.empty()) return;
  Status s = spool->append(records, new_segment);
  if (s.ok()) {
    spooled.fetch_add(records.size(), std::memory_order_relaxed);
    return;
  }
  // The disk refused too: nothing is left to keep these in, so say so loudly, record by record.
  log_line("mlflow-cpp: cannot write the spool: " + s.message());
  std::unique_lock<std::mutex> lock(mu, std::defer_lock);
  if (!locked) lock.lock();
  for (const auto& r : records) {
    rejected_count.fetch_add(1, std::memory_order_relaxed);
    server_rejected.fetch_add(1, std::memory_order_relaxed);
    rejected.push_back({r.run, detail::rejected_kind(r.kind), r.key,
                        "not delivered and not spooled: " + s.message()});
  }
}

bool AsyncLogger::Impl::replay_own_session() {
  auto session = detail::SpoolSession::open(spool->dir(), /*lock=*/false);
  if (!session.ok()) {
    log_line("mlflow-cpp: cannot read the spool: " + session.status().message());
    return false;
  }
  detail::ReplayProgress progress{[this](std::uint64_t seq) { return spool->mark_acked(seq); },
                                  [this](const std::string& k, const std::string& id) {
                                    return spool->mark_run(k, id);
                                  }};
  detail::DeliveryEvents ev = events();
  ev.run_created = [this](const std::string& key, const std::string& run_id) {
    note_run_id(key, run_id);
    return Status();  // replay_session records it through `progress`
  };
  ev.delivered = [this](std::uint64_t n) {
    sent.fetch_add(n, std::memory_order_relaxed);
    replayed.fetch_add(n, std::memory_order_relaxed);
  };
  Status s = detail::replay_session(**session, *delivery, progress, ev);
  if (!s.ok()) {
    if (!detail::is_server_away(s)) log_line("mlflow-cpp: spool replay stopped: " + s.message());
    return false;
  }
  (void)spool->compact();
  return true;
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
    if ((*session)->info().tracking_uri != tracking_uri) continue;
    std::uint64_t delivered = 0;
    detail::SpoolSession& s = **session;
    detail::ReplayProgress progress{
        [&s](std::uint64_t seq) { return s.mark_acked(seq); },
        [&s](const std::string& k, const std::string& id) { return s.mark_run(k, id); }};
    detail::DeliveryEvents ev;
    ev.delivered = [&](std::uint64_t n) {
      delivered += n;
      replayed.fetch_add(n, std::memory_order_relaxed);
    };
    ev.rejected = [this](RejectedRecord r) {
      std::lock_guard<std::mutex> lock(mu);
      rejected.push_back(std::move(r));
    };
    Status r = detail::replay_session(s, *delivery, progress, ev);
    if (r.ok()) {
      (void)s.remove();
      log_line(fmt::format("mlflow-cpp: replayed {} records that process {} left in {}", delivered,
                           s.info().pid, dir));
    } else if (detail::is_server_away(r)) {
      return;  // the server is away again: leave the rest for later
    } else {
      log_line("mlflow-cpp: cannot replay " + dir + ": " + r.message());
    }
  }
}

void AsyncLogger::Impl::process(std::vector<LogRecord> work, bool& all_resolved) {
  all_resolved = false;
  if (offline || abandon) {
    spool_records(work, false);
    all_resolved = offline;  // offline, "resolved" means safe on disk
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (degraded.load() || spool->has_unacked()) {
    spool_records(work, false);
    if (degraded.load() && now - last_probe < options.probe_interval) return;
    last_probe = now;
    if (!delivery->reachable().ok() || !replay_own_session()) {
      degraded.store(true);
      return;
    }
    if (degraded.exchange(false)) log_line("mlflow-cpp: the tracking server answers again; spool replayed");
    all_resolved = !spool->has_unacked();
    return;
  }
  for (std::size_t begin = 0; begin < work.size(); begin += detail::kReplayWindow) {
    const std::size_t end = std::min(work.size(), begin + detail::kReplayWindow);
    std::vector<LogRecord> window(std::make_move_iterator(work.begin() + static_cast<std::ptrdiff_t>(begin)),
                                  std::make_move_iterator(work.begin() + static_cast<std::ptrdiff_t>(end)));
    auto result = delivery->deliver(std::move(window), events());
    if (!result.status.ok()) {
      // Keep the order: what this window could not deliver, then everything after it.
      std::vector<LogRecord> rest = std::move(result.undelivered);
      rest.insert(rest.end(), std::make_move_iterator(work.begin() + static_cast<std::ptrdiff_t>(end)),
                  std::make_move_iterator(work.end()));
      spool_records(rest, false);
      degraded.store(true);
      last_probe = now;
      log_line(fmt::format("mlflow-cpp: cannot reach the tracking server ({}); records go to the "
                           "spool {} until it answers",
                           result.status.message(), spool->dir()));
      return;
    }
  }
  all_resolved = !spool->has_unacked();
}

void AsyncLogger::Impl::run_worker() {
  if (!offline && options.replay_orphaned_sessions) replay_orphaned_sessions();
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    const auto wait = degraded.load() ? std::min(options.flush_interval, options.probe_interval)
                                      : options.flush_interval;
    wake_worker.wait_for(lock, wait, [&] {
      return incoming.size() >= options.batch_records || flush_requested || stopping || abandon;
    });
    const bool stop = stopping || abandon;
    std::vector<LogRecord> work(std::make_move_iterator(incoming.begin()),
                                std::make_move_iterator(incoming.end()));
    incoming.clear();
    flush_requested = false;
    const std::uint64_t through = next_seq - 1;
    lock.unlock();
    bool all_resolved = false;
    process(std::move(work), all_resolved);
    lock.lock();
    if (all_resolved) resolved_through = std::max(resolved_through, through);
    settled.notify_all();
    if (stop && incoming.empty() && (all_resolved || abandon)) break;
  }
  stopped = true;
  settled.notify_all();
}

// ---- flush and close -----------------------------------------------------------------------------

Status FlushReport::status() const {
  if (!rejected.empty()) {
    std::string msg = fmt::format("{} record(s) rejected:", rejected.size());
    const std::size_t shown = std::min<std::size_t>(rejected.size(), 10);
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& r = rejected[i];
      msg += fmt::format(" [{} '{}' of run {}: {}]", r.kind, r.key, r.run, r.reason);
    }
    if (shown < rejected.size()) msg += fmt::format(" and {} more", rejected.size() - shown);
    return Status(StatusCode::kInvalidArgument, msg);
  }
  if (!complete) {
    return Status(StatusCode::kDeadlineExceeded,
                  fmt::format("{} record(s) not delivered yet (kept in the spool)", pending));
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

namespace {
FlushReport make_report(AsyncLogger::Impl& impl, const LoggerCounters& counters, bool complete,
                        std::vector<RejectedRecord> rejected) {
  FlushReport report;
  report.complete = complete;
  report.counters = counters;
  const std::uint64_t settled = impl.sent.load() + impl.server_rejected.load();
  report.pending = impl.offline ? impl.spooled.load()
                                : (counters.queued > settled ? counters.queued - settled : 0);
  if (complete && !impl.offline) report.pending = 0;
  report.rejected = std::move(rejected);
  return report;
}
}  // namespace

FlushReport AsyncLogger::flush(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  std::unique_lock<std::mutex> lock(impl.mu);
  const std::uint64_t target = impl.next_seq - 1;
  impl.flush_requested = true;
  impl.wake_worker.notify_one();
  impl.settled.wait_for(lock, timeout,
                         [&] { return impl.resolved_through >= target || impl.stopped; });
  const bool complete = impl.resolved_through >= target;
  std::vector<RejectedRecord> rejected = std::move(impl.rejected);
  impl.rejected.clear();
  lock.unlock();
  return make_report(impl, counters(), complete, std::move(rejected));
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
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    if (impl.closed && !impl.worker.joinable()) {
      return make_report(impl, counters(), impl.resolved_through + 1 >= impl.next_seq, {});
    }
  }
  impl.end_open_runs(RunStatus::kFinished);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(impl.mu);
  impl.closed = true;
  const std::uint64_t target = impl.next_seq - 1;
  impl.stopping = true;
  impl.wake_worker.notify_one();
  if (!impl.settled.wait_until(lock, deadline, [&] { return impl.stopped; })) {
    // Out of time: everything still held goes to the spool; the request in flight (if any) is the
    // last one made, and it is bounded by the request timeout.
    impl.abandon = true;
    if (impl.gate) impl.gate->close();
    impl.wake_worker.notify_one();
    impl.settled.wait(lock, [&] { return impl.stopped; });
  }
  const bool complete = impl.resolved_through >= target;
  std::vector<RejectedRecord> rejected = std::move(impl.rejected);
  impl.rejected.clear();
  lock.unlock();
  if (impl.worker.joinable()) impl.worker.join();

  FlushReport report = make_report(impl, counters(), complete, std::move(rejected));
  const auto& c = report.counters;
  std::string line = fmt::format(
      "mlflow-cpp: async logger closed: {} records queued, {} sent, {} retried, {} spooled, {} "
      "replayed, {} rejected",
      c.queued, c.sent, c.retried, c.spooled, c.replayed, c.rejected);
  if (impl.offline) {
    line += fmt::format("; offline: everything is in {} (replay with `mlflowctl sync {} --to URI`)",
                        impl.spool_session_dir, impl.spool_root);
  } else if (!report.complete) {
    line += fmt::format("; {} records kept in {}: replayed at the next start against {} or with "
                        "`mlflowctl sync {} --to {}`",
                        report.pending, impl.spool_session_dir, impl.tracking_uri, impl.spool_root,
                        impl.tracking_uri);
  }
  impl.log_line(line);
  // Releases the session: removed when everything was delivered, else left for a later replay.
  impl.spool.reset();
  return report;
}

}  // namespace mlflow

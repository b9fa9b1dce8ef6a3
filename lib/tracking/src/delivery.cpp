// SPDX-License-Identifier: Apache-2.0
// Delivery of LogRecord windows: coalescing per run, limits, bisection of refused requests, runs
// created idempotently by key tag.
#include "delivery.h"

#include <algorithm>
#include <utility>

#include "batch_split.h"
#include "client_impl.h"

namespace mlflow::detail {

bool is_server_away(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
    case StatusCode::kInternal:
    case StatusCode::kUnknown:
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
    case StatusCode::kCancelled:
      return true;
    case StatusCode::kFailedPrecondition:
      // The transport's (a certificate the CA bundle does not verify, a bad URL): nothing is wrong
      // with the records. Otherwise MLflow's INVALID_STATE, or the client's own verdict (a deleted
      // experiment): the records are refused.
      return status.transport_failure();
    default:
      return false;
  }
}

bool is_answered_badly(const Status& status) {
  return status.http_status() != 0 &&
         (status.code() == StatusCode::kInternal || status.code() == StatusCode::kUnknown);
}

namespace {

Metric to_metric(const LogRecord& r) {
  Metric m;
  m.key = r.key;
  m.value = r.number;
  m.timestamp = r.timestamp;
  m.step = r.step;
  return m;
}

RejectedRecord rejection(const LogRecord& r, const std::string& reason) {
  return RejectedRecord{r.run, rejected_kind(r.kind), r.key, reason};
}

}  // namespace

/// One run's records of the window, in order.
struct Delivery::Group {
  std::string run;
  std::vector<std::size_t> items;  // indexes into the window
};

Delivery::Delivery(MlflowClient client, MlflowClient single_attempt,
                   std::function<std::uint64_t()> attempts)
    : client_(std::move(client)),
      single_attempt_(std::move(single_attempt)),
      attempts_(std::move(attempts)) {}

Status Delivery::reachable() {
  auto r = single_attempt_.get_experiment("0");
  if (r.ok() || !is_server_away(r.status())) return Status();
  return r.status();
}

Delivery::Settled Delivery::settle(Status failure, const std::function<Status()>& send) {
  Status s = std::move(failure);
  // A transient 500 passes within the retry budget; a request failing kPoisonSends times over while
  // the server answers in between fails by itself, and would otherwise hold back everything after
  // it.
  for (int sends = 1; is_answered_badly(s); ++sends) {
    if (Status probe = reachable(); !probe.ok()) return {Outcome::kAway, probe};
    if (sends >= kPoisonSends) {
      return {Outcome::kPoison,
              Status(s.code(),
                     "the server fails this request every time (" + std::to_string(sends) +
                         " sends) while it answers others: " + s.message(),
                     s.http_status(), s.error_code())};
    }
    s = send();
  }
  if (s.ok()) return {Outcome::kDelivered, s};
  return {is_server_away(s) ? Outcome::kAway : Outcome::kRefused, s};
}

Delivery::Result Delivery::deliver(std::vector<LogRecord> window, const DeliveryEvents& events) {
  std::vector<char> done(window.size(), 0);
  std::vector<Group> groups;
  std::map<std::string, std::size_t> group_of;  // run -> index in groups
  Status status;

  auto resolve = [&](std::string& run) {
    if (auto it = run_ids_.find(run); it != run_ids_.end()) run = it->second;
  };
  auto reject = [&](std::size_t i, const std::string& reason) {
    done[i] = 1;
    if (events.rejected) events.rejected(rejection(window[i], reason));
  };
  auto send_group_of = [&](const std::string& run) -> Status {
    auto it = group_of.find(run);
    if (it == group_of.end()) return Status();
    Status s = send_group(groups[it->second], window, done, events);
    group_of.erase(it);
    return s;
  };

  for (std::size_t i = 0; i < window.size() && status.ok(); ++i) {
    LogRecord& r = window[i];
    if (r.kind == LogRecord::Kind::kStartRun && run_ids_.count(r.run)) {
      // Created already: a window re-sent after a failure further on (acks are per window).
      done[i] = 1;
      if (events.delivered) events.delivered(1);
      continue;
    }
    resolve(r.run);
    // A start record is tried again (a window re-sent after a failure further on).
    if (auto failed = failed_runs_.find(r.run);
        failed != failed_runs_.end() && r.kind != LogRecord::Kind::kStartRun) {
      reject(i, "the run could not be created: " + failed->second);
      continue;
    }
    switch (r.kind) {
      case LogRecord::Kind::kStartRun: {
        resolve(r.parent);
        // Re-sending is safe: start_run finds a run an earlier attempt created by its key tag.
        auto send = [&] { return start_run(r, events); };
        Settled s = settle(send(), send);
        if (s.outcome == Outcome::kAway) {
          status = s.status;
        } else if (s.outcome != Outcome::kDelivered) {
          failed_runs_[r.run] = s.status.message();
          reject(i, s.status.message());
        } else {
          failed_runs_.erase(r.run);
          done[i] = 1;
          if (events.delivered) events.delivered(1);
        }
        break;
      }
      case LogRecord::Kind::kEndRun: {
        status = send_group_of(r.run);
        if (!status.ok()) break;
        auto send = [&] { return end_run(r); };
        Settled s = settle(send(), send);
        if (s.outcome == Outcome::kAway) {
          status = s.status;
        } else if (s.outcome != Outcome::kDelivered) {
          reject(i, s.status.message());
        } else {
          done[i] = 1;
          if (events.delivered) events.delivered(1);
        }
        break;
      }
      default: {
        auto [it, fresh] = group_of.try_emplace(r.run, groups.size());
        if (fresh) groups.push_back(Group{r.run, {}});
        groups[it->second].items.push_back(i);
      }
    }
  }
  // What is left of each run, in order of each run's first record.
  for (auto& g : groups) {
    if (!status.ok()) break;
    if (group_of.count(g.run)) status = send_group_of(g.run);
  }

  Result result;
  result.status = status;
  if (!status.ok()) {
    for (std::size_t i = 0; i < window.size(); ++i) {
      if (done[i]) continue;
      LogRecord& r = window[i];
      resolve(r.run);
      resolve(r.parent);
      result.undelivered.push_back(std::move(r));
    }
  }
  return result;
}

Status Delivery::send_group(Group& group, std::vector<LogRecord>& window, std::vector<char>& done,
                            const DeliveryEvents& events) {
  // Split within MLflow's limits with the same splitter the synchronous client uses; it keeps each
  // kind's order and fills requests params, tags, metrics, so the chunks map back to the records.
  std::vector<Metric> metrics;
  std::vector<Param> params;
  Tags tags;
  std::vector<std::size_t> metric_idx, param_idx, tag_idx;
  for (std::size_t i : group.items) {
    const LogRecord& r = window[i];
    if (done[i]) continue;
    switch (r.kind) {
      case LogRecord::Kind::kMetric:
        metrics.push_back(to_metric(r));
        metric_idx.push_back(i);
        break;
      case LogRecord::Kind::kParam:
        params.push_back({r.key, r.value});
        param_idx.push_back(i);
        break;
      case LogRecord::Kind::kTag:
        tags.push_back({r.key, r.value});
        tag_idx.push_back(i);
        break;
      default:
        break;
    }
  }
  std::size_t mi = 0, pi = 0, ti = 0;
  for (const auto& req : split_log_batch(metrics, params, tags)) {
    std::vector<std::size_t> chunk;
    for (std::size_t k = 0; k < req.params.size(); ++k) chunk.push_back(param_idx[pi++]);
    for (std::size_t k = 0; k < req.tags.size(); ++k) chunk.push_back(tag_idx[ti++]);
    for (std::size_t k = 0; k < req.metrics.size(); ++k) chunk.push_back(metric_idx[mi++]);
    std::sort(chunk.begin(), chunk.end());
    MLFLOW_CPP_RETURN_IF_ERROR(send_chunk(group.run, chunk, window, done, events));
  }
  return Status();
}

Status Delivery::send_chunk(const std::string& run_id, const std::vector<std::size_t>& chunk,
                            std::vector<LogRecord>& window, std::vector<char>& done,
                            const DeliveryEvents& events) {
  if (chunk.empty()) return Status();
  std::vector<Metric> metrics;
  std::vector<Param> params;
  Tags tags;
  for (std::size_t i : chunk) {
    const LogRecord& r = window[i];
    if (r.kind == LogRecord::Kind::kMetric) {
      metrics.push_back(to_metric(r));
    } else if (r.kind == LogRecord::Kind::kParam) {
      // The same param twice in one request is refused unless identical: keep one copy.
      bool dup = std::any_of(params.begin(), params.end(),
                             [&](const Param& p) { return p.key == r.key && p.value == r.value; });
      if (!dup) params.push_back({r.key, r.value});
    } else {
      // Tags are last-write-wins: one request carries the last value of each key.
      auto it =
          std::find_if(tags.begin(), tags.end(), [&](const KeyValue& t) { return t.key == r.key; });
      if (it != tags.end()) tags.erase(it);
      tags.push_back({r.key, r.value});
    }
  }
  std::uint64_t made = 0;  // HTTP attempts of this request (not of the probes in between)
  auto send = [&] {
    const std::uint64_t before = attempts_ ? attempts_() : 0;
    Status st = client_.log_batch(run_id, metrics, params, tags);
    if (attempts_) made += attempts_() - before;
    return st;
  };
  Status s = send();
  bool away = false;
  if (chunk.size() == 1) {
    Settled settled = settle(s, send);
    s = settled.status;
    away = settled.outcome == Outcome::kAway;
  }
  if (made > 1 && events.retried) events.retried((made - 1) * chunk.size());
  if (away) return s;
  if (s.ok()) {
    for (std::size_t i : chunk) done[i] = 1;
    if (events.delivered) events.delivered(chunk.size());
    return Status();
  }
  if (is_server_away(s) && chunk.size() > 1) {
    // No bisection when the server is away: every half would fail the same way (a TLS handshake,
    // a 401 per request). Only a bad answer to a server that answers others may be the content's.
    if (!is_answered_badly(s)) return s;
    if (Status probe = reachable(); !probe.ok()) return probe;
  } else if (chunk.size() == 1 || s.code() == StatusCode::kNotFound) {
    for (std::size_t i : chunk) {
      done[i] = 1;
      if (events.rejected) events.rejected(rejection(window[i], s.message()));
    }
    return Status();
  }
  // Refused, or failing while the server answers: find the bad records by halves; the rest still
  // goes through.
  const std::size_t half = chunk.size() / 2;
  std::vector<std::size_t> left(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(half));
  std::vector<std::size_t> right(chunk.begin() + static_cast<std::ptrdiff_t>(half), chunk.end());
  MLFLOW_CPP_RETURN_IF_ERROR(send_chunk(run_id, left, window, done, events));
  return send_chunk(run_id, right, window, done, events);
}

Status Delivery::start_run(const LogRecord& r, const DeliveryEvents& events) {
  std::string experiment_id = r.value;
  if (experiment_id.empty() && !r.experiment_name.empty()) {
    auto cached = experiment_ids_.find(r.experiment_name);
    if (cached != experiment_ids_.end()) {
      experiment_id = cached->second;
    } else {
      auto id = client_.get_or_create_experiment(r.experiment_name);
      if (!id.ok()) return id.status();
      experiment_ids_[r.experiment_name] = *id;
      experiment_id = *id;
    }
  }
  if (experiment_id.empty()) experiment_id = "0";

  MlflowClient::RunCreate create;
  create.experiment_id = experiment_id;
  create.run_name = r.key;
  create.start_time = r.timestamp;
  create.tags.push_back({kRunKeyTag, r.run});
  if (!r.key.empty()) create.tags.push_back({"mlflow.runName", r.key});
  if (!r.parent.empty()) create.tags.push_back({"mlflow.parentRunId", r.parent});
  // A previous attempt (a timed-out create, or a replay cut short) may have created it already.
  auto run = ClientAccess::create_run(client_, create, /*may_exist=*/true);
  if (!run.ok()) return run.status();
  run_ids_[r.run] = run->info.run_id;
  return events.run_created ? events.run_created(r.run, run->info.run_id) : Status();
}

Status Delivery::end_run(const LogRecord& r) {
  auto status = parse_run_status(r.value);
  if (!status) {
    return Status(StatusCode::kInvalidArgument, "unknown run status '" + r.value + "'");
  }
  return client_.update_run(r.run, *status, r.timestamp).status();
}

}  // namespace mlflow::detail

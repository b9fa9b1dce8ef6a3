// SPDX-License-Identifier: Apache-2.0
// AsyncRun: the run handle of the asynchronous logger. Checks input at the call, then queues.
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "async_logger_impl.h"
#include "idempotent_create.h"
#include "mlflow/system_tags.h"
#include "mlflow/validation.h"

namespace mlflow {

using detail::LogRecord;

namespace {

LogRecord tag_record(const std::string& run, const std::string& key, const std::string& value) {
  LogRecord r;
  r.kind = LogRecord::Kind::kTag;
  r.run = run;
  r.key = key;
  r.value = value;
  return r;
}

}  // namespace

// ---- starting
// --------------------------------------------------------------------------------------

StatusOr<AsyncRun> AsyncLogger::start_run(RunOptions options) {
  Impl& impl = *impl_;
  options = options.with_env_defaults();
  for (const auto& t : options.tags) MLFLOW_CPP_RETURN_IF_ERROR(validate_tag(t.key, t.value));
  if (options.experiment_id.empty() && !options.experiment_name.empty()) {
    MLFLOW_CPP_RETURN_IF_ERROR(validate_experiment_name(options.experiment_name));
  }
  auto state = std::make_shared<AsyncRun::State>();
  state->experiment_id = options.experiment_id;
  state->experiment_name = options.experiment_name;
  if (!options.run_id.empty()) {
    // Resuming a run that exists on the server: its id is the key.
    if (impl.offline) {
      return Status(StatusCode::kInvalidArgument, "an offline logger cannot resume run " +
                                                      options.run_id + " (it has no server)");
    }
    state->key = options.run_id;
    state->server_id = options.run_id;
  } else {
    state->key = detail::new_create_token('r');  // also its server-side token (kRunKeyTag)
  }
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.runs[state->key] = state;
  }
  if (options.run_id.empty()) {
    LogRecord start;
    start.kind = LogRecord::Kind::kStartRun;
    start.run = state->key;
    start.key = options.run_name;
    start.value = options.experiment_id;
    start.experiment_name = options.experiment_id.empty() ? options.experiment_name : std::string();
    start.timestamp = now_ms();
    start.parent = options.parent_run_id;
    MLFLOW_CPP_RETURN_IF_ERROR(impl.enqueue(std::move(start)));
    const Tags tags = system_tags(options.source_name, options.tags);
    for (const auto& t : tags)
      MLFLOW_CPP_RETURN_IF_ERROR(impl.enqueue(tag_record(state->key, t.key, t.value)));
  }
  return AsyncRun(shared_from_this(), std::move(state));
}

AsyncRun::AsyncRun(std::shared_ptr<AsyncLogger> logger, std::shared_ptr<State> state)
    : logger_(std::move(logger)),
      state_(std::move(state)),
      uncaught_at_start_(std::uncaught_exceptions()) {}

AsyncRun::AsyncRun(AsyncRun&& other) noexcept
    : logger_(std::move(other.logger_)),
      state_(std::move(other.state_)),
      uncaught_at_start_(other.uncaught_at_start_) {}

AsyncRun& AsyncRun::operator=(AsyncRun&& other) noexcept {
  if (this != &other) {
    if (state_) end(RunStatus::kFinished);
    logger_ = std::move(other.logger_);
    state_ = std::move(other.state_);
    uncaught_at_start_ = other.uncaught_at_start_;
  }
  return *this;
}

AsyncRun::~AsyncRun() {
  if (!state_) return;
  // Destroyed during stack unwinding: the training code failed, so the run did too.
  const bool unwinding = std::uncaught_exceptions() > uncaught_at_start_;
  end(unwinding ? RunStatus::kFailed : RunStatus::kFinished);
}

StatusOr<AsyncRun> AsyncRun::start_child(RunOptions options) {
  if (!state_)
    return Status(StatusCode::kFailedPrecondition, "start_child on a moved-from AsyncRun");
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    options.parent_run_id = state_->server_id.empty() ? state_->key : state_->server_id;
  }
  options.run_id.clear();
  if (options.experiment_id.empty() && options.experiment_name.empty()) {
    options.experiment_id = state_->experiment_id;
    options.experiment_name = state_->experiment_name;
  }
  return logger_->start_run(std::move(options));
}

// ---- identity
// ------------------------------------------------------------------------------------

std::string AsyncRun::id() const {
  if (!state_) return {};
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->server_id;
}

StatusOr<std::string> AsyncRun::wait_for_id(std::chrono::milliseconds timeout) const {
  if (!state_)
    return Status(StatusCode::kFailedPrecondition, "wait_for_id on a moved-from AsyncRun");
  if (logger_->impl_->offline) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + state_->key + " is offline: it gets a server id at `mlflowctl sync`");
  }
  std::unique_lock<std::mutex> lock(state_->mu);
  if (!state_->id_known.wait_for(lock, timeout, [&] { return !state_->server_id.empty(); })) {
    return Status(
        StatusCode::kDeadlineExceeded,
        "run " + state_->key + " is not created on the server yet (it is queued or spooled)");
  }
  return state_->server_id;
}

const std::string& AsyncRun::key() const {
  static const std::string empty;
  return state_ ? state_->key : empty;
}

bool AsyncRun::ended() const { return !state_ || state_->ended.load(); }

// ---- logging
// -------------------------------------------------------------------------------------

namespace {
Status ended_error(const std::string& key) {
  return Status(StatusCode::kFailedPrecondition,
                "run " + key + " has ended; nothing more is logged to it");
}
}  // namespace

Status AsyncRun::log_metric(const std::string& key, double value, std::int64_t step) {
  return log_metric(key, value, step, now_ms());
}

Status AsyncRun::log_metric(const std::string& key, double value, std::int64_t step,
                            TimestampMs timestamp) {
  if (!state_)
    return Status(StatusCode::kFailedPrecondition, "log_metric on a moved-from AsyncRun");
  AsyncLogger::Impl& impl = *logger_->impl_;
  LogRecord r;
  r.kind = LogRecord::Kind::kMetric;
  r.run = state_->key;
  r.key = key;
  r.number = value;
  r.step = step;
  r.timestamp = timestamp;
  Status valid = validate_metric(key, timestamp);
  if (valid.ok() && !std::isfinite(value) && !impl.options.allow_non_finite) {
    valid = Status(StatusCode::kInvalidArgument,
                   fmt::format("metric '{}' value {} is not finite (set "
                               "AsyncLoggerOptions::allow_non_finite to log NaN/Inf)",
                               key, value));
  }
  if (valid.ok() && state_->ended.load()) valid = ended_error(state_->key);
  if (!valid.ok()) return impl.reject_at_call(r, valid);
  return impl.enqueue(std::move(r));
}

Status AsyncRun::log_param(const std::string& key, const std::string& value) {
  if (!state_) return Status(StatusCode::kFailedPrecondition, "log_param on a moved-from AsyncRun");
  AsyncLogger::Impl& impl = *logger_->impl_;
  LogRecord r;
  r.kind = LogRecord::Kind::kParam;
  r.run = state_->key;
  r.key = key;
  r.value = value;
  Status valid = validate_param(key, value);
  if (valid.ok() && state_->ended.load()) valid = ended_error(state_->key);
  if (valid.ok()) {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto [it, fresh] = state_->params.try_emplace(key, value);
    if (!fresh && it->second != value) {
      valid = Status(StatusCode::kInvalidArgument,
                     fmt::format("param '{}' was logged as '{}'; params are write-once, so '{}' is "
                                 "refused",
                                 key, it->second, value));
    } else if (!fresh) {
      return Status();  // the same value again: nothing to send
    }
  }
  if (!valid.ok()) return impl.reject_at_call(r, valid);
  return impl.enqueue(std::move(r));
}

Status AsyncRun::set_tag(const std::string& key, const std::string& value) {
  if (!state_) return Status(StatusCode::kFailedPrecondition, "set_tag on a moved-from AsyncRun");
  AsyncLogger::Impl& impl = *logger_->impl_;
  LogRecord r = tag_record(state_->key, key, value);
  Status valid = validate_tag(key, value);
  if (valid.ok() && state_->ended.load()) valid = ended_error(state_->key);
  if (!valid.ok()) return impl.reject_at_call(r, valid);
  return impl.enqueue(std::move(r));
}

void AsyncRun::end(RunStatus status) {
  if (!state_ || state_->ended.exchange(true)) return;
  LogRecord r;
  r.kind = LogRecord::Kind::kEndRun;
  r.run = state_->key;
  r.value = to_string(status);
  r.timestamp = now_ms();
  (void)logger_->impl_->enqueue(std::move(r));
}

}  // namespace mlflow

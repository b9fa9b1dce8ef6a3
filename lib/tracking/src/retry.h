// SPDX-License-Identifier: Apache-2.0
// The official client's retry policy as pure functions plus one loop over an HttpTransport
// (private).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "mlflow/client.h"
#include "mlflow/http.h"
#include "mlflow/options.h"

namespace mlflow::detail {

/// 408, 429, 500, 502, 503, 504: the statuses MLflow's client retries.
bool is_retryable_http_status(int status) noexcept;

/// Wait before retry number `retry` (1-based) without Retry-After: 0 for the first retry, then
/// backoff_factor * 2^(retry-1) plus backoff_jitter * uniform01, capped at max_backoff.
std::chrono::milliseconds backoff_delay(const RetryOptions& options, int retry, double uniform01);

/// Parses a Retry-After value: delta-seconds or an HTTP-date (relative to `now_epoch_s`).
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value,
                                                           long long now_epoch_s);

/// A failure that leaves open whether the server acted on the request, and the only kind retried:
/// no HTTP answer (kUnavailable: refused, reset; kDeadlineExceeded: timed out) or a retryable
/// status.
bool is_transient(const StatusOr<HttpResponse>& response);

/// The budget of one retried call (attempts, waits, deadline), spent by send_with_retry and by
/// calls that do more than re-send between attempts (MlflowClient::Impl::create_idempotently).
/// Not thread-safe: one call owns it.
class RetryBudget {
 public:
  RetryBudget(Clock& clock, const UniformRandom& random, const RetryOptions& options);
  /// Counts an attempt (one HTTP request) and returns its timeout: request_timeout clipped to the
  /// time left, at least 1 ms.
  std::chrono::milliseconds start_attempt();
  /// After the transient failure `last`: waits the backoff (the Retry-After of a 429/503 when
  /// respected) and returns true; returns false at once when max_retries waits were made already
  /// or the wait would end past the deadline.
  bool wait_to_retry(const StatusOr<HttpResponse>& last);
  int attempts() const { return attempts_; }
  std::chrono::milliseconds elapsed() const;

 private:
  std::chrono::milliseconds left() const;
  Clock& clock_;
  const UniformRandom& random_;
  const RetryOptions& options_;
  std::chrono::steady_clock::time_point start_;
  int attempts_ = 0;
  int retries_ = 0;
};

/// Outcome of a retried exchange: the last response (if any), attempts made and time spent.
struct RetryResult {
  StatusOr<HttpResponse> response = Status(StatusCode::kUnknown, "not sent");
  int attempts = 0;
  std::chrono::milliseconds elapsed{0};
};

/// Sends `request`, retrying transport failures and retryable statuses within max_retries and the
/// deadline (a wait that would end past the deadline is not started). Each attempt's timeout is
/// clipped to the time left.
RetryResult send_with_retry(HttpTransport& transport, Clock& clock, const UniformRandom& random,
                            const RetryOptions& options, HttpRequest request);

}  // namespace mlflow::detail

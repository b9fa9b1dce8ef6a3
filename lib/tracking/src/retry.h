// SPDX-License-Identifier: Apache-2.0
// The official client's retry policy as pure functions plus one loop over an HttpTransport (private).
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
/// backoff_factor * 2^(retry-1) seconds plus jitter * uniform01, capped at max_backoff.
std::chrono::milliseconds backoff_delay(const RetryOptions& options, int retry, double uniform01);

/// Parses a Retry-After value: delta-seconds or an HTTP-date (relative to `now_epoch_s`).
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value,
                                                           long long now_epoch_s);

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

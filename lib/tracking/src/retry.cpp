// SPDX-License-Identifier: Apache-2.0
// Retry policy of the official client: which failures are retried and how long to wait.
#include "retry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>

namespace mlflow::detail {

using std::chrono::milliseconds;

bool is_retryable_http_status(int status) noexcept {
  switch (status) {
    case 408: case 429: case 500: case 502: case 503: case 504: return true;
    default: return false;
  }
}

milliseconds backoff_delay(const RetryOptions& o, int retry, double uniform01) {
  // urllib3: no wait before the first retry, then factor * 2^(n-1); MLflow's JitteredRetry adds jitter.
  if (retry <= 1) return milliseconds(0);
  double secs = o.backoff_factor * std::pow(2.0, retry - 1) + o.backoff_jitter * uniform01;
  auto ms = milliseconds(static_cast<long long>(secs * 1000.0));
  return std::min(ms, o.max_backoff);
}

std::optional<milliseconds> parse_retry_after(const std::string& value, long long now_epoch_s) {
  std::string v = value;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(0, 1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (v.size() > 9) return std::nullopt;
    return milliseconds(std::stoll(v) * 1000);
  }
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  long long when = static_cast<long long>(timegm(&tm));
  return milliseconds(std::max(0LL, when - now_epoch_s) * 1000);
}

RetryResult send_with_retry(HttpTransport& transport, Clock& clock, const UniformRandom& random,
                            const RetryOptions& options, HttpRequest request) {
  RetryResult result;
  const auto start = clock.now();
  const auto deadline = start + options.deadline;
  auto left = [&] { return std::chrono::duration_cast<milliseconds>(deadline - clock.now()); };
  for (int retry = 0;; ++retry) {
    request.timeout = std::max(milliseconds(1), std::min(options.request_timeout, left()));
    result.response = transport.send(request);
    result.attempts = retry + 1;
    bool transient = !result.response.ok()
                         ? (result.response.status().code() == StatusCode::kUnavailable ||
                            result.response.status().code() == StatusCode::kDeadlineExceeded)
                         : is_retryable_http_status(result.response->status);
    if (!transient || retry >= options.max_retries) break;

    milliseconds wait = backoff_delay(options, retry + 1, random ? random() : 0.5);
    if (result.response.ok() && options.respect_retry_after &&
        (result.response->status == 429 || result.response->status == 503)) {
      if (auto ra = result.response->header("retry-after")) {
        if (auto d = parse_retry_after(*ra, static_cast<long long>(std::time(nullptr)))) wait = *d;
      }
    }
    if (wait >= left()) break;  // the wait alone would overrun the deadline
    if (wait.count() > 0) clock.sleep_for(wait);
  }
  result.elapsed = std::chrono::duration_cast<milliseconds>(clock.now() - start);
  return result;
}

}  // namespace mlflow::detail

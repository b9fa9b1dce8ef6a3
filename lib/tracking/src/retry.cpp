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
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

milliseconds backoff_delay(const RetryOptions& o, int retry, double uniform01) {
  // urllib3: no wait before the first retry, then factor * 2^(n-1); MLflow's JitteredRetry adds
  // jitter.
  if (retry <= 1) return milliseconds(0);
  const double ms_wait = static_cast<double>(o.backoff_factor.count()) * std::pow(2.0, retry - 1) +
                         static_cast<double>(o.backoff_jitter.count()) * uniform01;
  auto ms = milliseconds(static_cast<long long>(std::min(ms_wait, 1e15)));
  return std::min(ms, o.max_backoff);
}

std::optional<milliseconds> parse_retry_after(const std::string& value, long long now_epoch_s) {
  std::string v = value;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(0, 1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (v.size() > 9) return std::nullopt;
    return milliseconds(std::stoll(v) * 1000);
  }
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto when = static_cast<long long>(timegm(&tm));
  return milliseconds(std::max(0LL, when - now_epoch_s) * 1000);
}

bool is_transient(const StatusOr<HttpResponse>& response) {
  if (response.ok()) return is_retryable_http_status(response->status);
  const StatusCode code = response.status().code();
  return code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
}

RetryBudget::RetryBudget(Clock& clock, const UniformRandom& random, const RetryOptions& options)
    : clock_(clock), random_(random), options_(options), start_(clock.now()) {}

milliseconds RetryBudget::left() const {
  return std::chrono::duration_cast<milliseconds>(start_ + options_.deadline - clock_.now());
}

milliseconds RetryBudget::elapsed() const {
  return std::chrono::duration_cast<milliseconds>(clock_.now() - start_);
}

milliseconds RetryBudget::start_attempt() {
  ++attempts_;
  return std::max(milliseconds(1), std::min(options_.request_timeout, left()));
}

bool RetryBudget::wait_to_retry(const StatusOr<HttpResponse>& last) {
  if (retries_ >= options_.max_retries) return false;
  milliseconds wait = backoff_delay(options_, retries_ + 1, random_ ? random_() : 0.5);
  if (last.ok() && options_.respect_retry_after && (last->status == 429 || last->status == 503)) {
    if (auto ra = last->header("retry-after")) {
      if (auto d = parse_retry_after(*ra, static_cast<long long>(std::time(nullptr)))) wait = *d;
    }
  }
  if (wait >= left()) return false;  // the wait alone would overrun the deadline
  if (wait.count() > 0) clock_.sleep_for(wait);
  ++retries_;
  return true;
}

RetryResult send_with_retry(HttpTransport& transport, Clock& clock, const UniformRandom& random,
                            const RetryOptions& options, HttpRequest request) {
  RetryBudget budget(clock, random, options);
  RetryResult result;
  do {
    request.timeout = budget.start_attempt();
    result.response = transport.send(request);
  } while (is_transient(result.response) && budget.wait_to_retry(result.response));
  result.attempts = budget.attempts();
  result.elapsed = budget.elapsed();
  return result;
}

}  // namespace mlflow::detail

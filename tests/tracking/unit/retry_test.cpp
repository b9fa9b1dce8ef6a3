// SPDX-License-Identifier: Apache-2.0
// Retry policy: statuses, backoff schedule, Retry-After, attempts and deadline (fake clock, no
// sleeps).
#include <doctest/doctest.h>

#include "retry.h"
#include "support/test_support.h"

using namespace std::chrono_literals;
using mlflow::HttpRequest;
using mlflow::RetryOptions;
using mlflow::StatusCode;
using mlflow::testing::FakeClock;
using mlflow::testing::FakeTransport;
namespace d = mlflow::detail;

TEST_CASE("retry: the official client's retried statuses") {
  for (int s : {408, 429, 500, 502, 503, 504}) CHECK(d::is_retryable_http_status(s));
  for (int s : {200, 400, 401, 403, 404, 409, 413, 501})
    CHECK_FALSE(d::is_retryable_http_status(s));
}

TEST_CASE("retry: backoff is 0, then factor * 2^(n-1) plus jitter, capped") {
  RetryOptions o;  // defaults: factor 2, jitter 1, cap 120 s
  CHECK(d::backoff_delay(o, 1, 0.9) == 0ms);
  CHECK(d::backoff_delay(o, 2, 0.0) == 4000ms);
  CHECK(d::backoff_delay(o, 3, 0.0) == 8000ms);
  CHECK(d::backoff_delay(o, 3, 0.5) == 8500ms);
  CHECK(d::backoff_delay(o, 6, 0.0) == 64000ms);
  CHECK(d::backoff_delay(o, 7, 0.0) == 120000ms);
  CHECK(d::backoff_delay(o, 10, 1.0) == 120000ms);
}

TEST_CASE("retry: Retry-After as seconds and as an HTTP date") {
  CHECK(d::parse_retry_after("3", 0) == 3000ms);
  CHECK(d::parse_retry_after(" 0 ", 0) == 0ms);
  CHECK(d::parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 4) == 6000ms);
  CHECK(d::parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 20) == 0ms);
  CHECK_FALSE(d::parse_retry_after("soon", 0).has_value());
  CHECK_FALSE(d::parse_retry_after("", 0).has_value());
}

namespace {
HttpRequest req() {
  HttpRequest r;
  r.method = "POST";
  r.url = "http://h:1/api/2.0/mlflow/runs/log-batch";
  return r;
}
auto half = [] { return 0.5; };
}  // namespace

TEST_CASE("retry: transient failures are retried until success, with the schedule") {
  FakeTransport t;
  FakeClock clock;
  t.push(503, "busy");
  t.push_error(StatusCode::kUnavailable, "Connection refused");
  t.push(500, "oops");
  t.push(200, "{}");
  RetryOptions o;
  auto r = d::send_with_retry(t, clock, half, o, req());
  REQUIRE(r.response.ok());
  CHECK(r.response->status == 200);
  CHECK(r.attempts == 4);
  REQUIRE(clock.sleeps.size() == 2);  // the first retry is immediate
  CHECK(clock.sleeps[0] == 4500ms);
  CHECK(clock.sleeps[1] == 8500ms);
  CHECK(t.requests().size() == 4);
  CHECK(t.requests()[3].body == t.requests()[0].body);  // a retry re-sends the same bytes
}

TEST_CASE("retry: permanent errors are not retried") {
  FakeTransport t;
  FakeClock clock;
  t.push(400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"bad"})");
  auto r = d::send_with_retry(t, clock, half, RetryOptions{}, req());
  REQUIRE(r.response.ok());
  CHECK(r.response->status == 400);
  CHECK(r.attempts == 1);
  CHECK(clock.sleeps.empty());
}

TEST_CASE("retry: Retry-After on 429 replaces the backoff") {
  FakeTransport t;
  FakeClock clock;
  t.push(429, "slow down", {{"retry-after", "7"}});
  t.push(429, "slow down", {{"retry-after", "2"}});
  t.push(200, "{}");
  auto r = d::send_with_retry(t, clock, half, RetryOptions{}, req());
  CHECK(r.attempts == 3);
  REQUIRE(clock.sleeps.size() == 2);
  CHECK(clock.sleeps[0] == 7000ms);
  CHECK(clock.sleeps[1] == 2000ms);
}

TEST_CASE("retry: Retry-After ignored when respect_retry_after is off") {
  FakeTransport t;
  FakeClock clock;
  t.push(503, "", {{"retry-after", "30"}});
  t.push(200, "{}");
  RetryOptions o;
  o.respect_retry_after = false;
  auto r = d::send_with_retry(t, clock, half, o, req());
  CHECK(r.attempts == 2);
  CHECK(clock.sleeps.empty());  // first retry immediate
}

TEST_CASE("retry: stops after max_retries") {
  FakeTransport t;
  FakeClock clock;
  t.set_handler([](const HttpRequest&) -> mlflow::StatusOr<mlflow::HttpResponse> {
    return mlflow::Status(StatusCode::kUnavailable, "Connection refused");
  });
  RetryOptions o;
  o.max_retries = 3;
  o.backoff_factor = 500ms;
  auto r = d::send_with_retry(t, clock, half, o, req());
  CHECK_FALSE(r.response.ok());
  CHECK(r.attempts == 4);
  CHECK(t.requests().size() == 4);
}

TEST_CASE("retry: the deadline bounds attempts, waits and per-request timeouts") {
  FakeTransport t;
  FakeClock clock;
  t.set_handler([&clock](const HttpRequest& rq) -> mlflow::StatusOr<mlflow::HttpResponse> {
    clock.advance(rq.timeout);  // each attempt times out after its whole timeout
    return mlflow::Status(StatusCode::kDeadlineExceeded, "Timeout was reached");
  });
  RetryOptions o;
  o.request_timeout = 10s;
  o.deadline = 25s;
  o.backoff_factor = 0ms;
  o.backoff_jitter = 0ms;
  auto r = d::send_with_retry(t, clock, half, o, req());
  CHECK_FALSE(r.response.ok());
  // 10 s + 10 s, then the third attempt gets only the 5 s left; the wait before a 4th would
  // overrun.
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].timeout == 10s);
  CHECK(reqs[2].timeout == 5s);
  CHECK(r.elapsed <= 25s);
}

TEST_CASE("retry: a Retry-After longer than the time left ends the loop") {
  FakeTransport t;
  FakeClock clock;
  t.push(429, "", {{"retry-after", "3600"}});
  t.push(200, "{}");
  RetryOptions o;
  o.deadline = 60s;
  auto r = d::send_with_retry(t, clock, half, o, req());
  REQUIRE(r.response.ok());
  CHECK(r.response->status == 429);
  CHECK(r.attempts == 1);
  CHECK(clock.sleeps.empty());
}

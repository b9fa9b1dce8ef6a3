// SPDX-License-Identifier: Apache-2.0
// The HTTP seam: a transport interface (libcurl in production, fakes in unit tests) plus clock and
// sleeper.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlflow/status.h"

namespace mlflow {

/// HTTP header fields as name/value pairs, in order.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request, as MlflowClient hands it to an HttpTransport.
struct HttpRequest {
  std::string method;  ///< GET, POST, PUT, PATCH, DELETE
  std::string url;     ///< full URL including the query string
  Headers headers;     ///< request header fields
  std::string body;    ///< request body (empty for GET)
  /// for the whole exchange; connecting gets at most 30 s of it
  std::chrono::milliseconds timeout{120'000};
  /// Send on a new connection. For requests that are not idempotent (creating a run): libcurl
  /// silently re-sends a request whose reused keep-alive connection died before any reply, which
  /// would apply it twice when the server had already processed it.
  bool fresh_connection = false;
};

/// The answer to an HttpRequest.
struct HttpResponse {
  int status = 0;    ///< HTTP status code
  std::string body;  ///< response body
  Headers headers;   ///< names in lower case

  /// First header value with that (lower-case) name.
  std::optional<std::string> header(const std::string& lower_name) const;
};

/// TLS settings for a transport.
struct TlsOptions {
  bool insecure = false;         ///< skip verification of the server's certificate and host name
  std::string ca_bundle_path;    ///< CA bundle to verify the server with (empty: the system's)
  std::string client_cert_path;  ///< client certificate for mutual TLS (empty: none)
};

/// Sends one request. A response with any HTTP status is success at this layer; failures are
/// transport problems: kUnavailable (connect/reset/read errors), kDeadlineExceeded (timeout) or
/// kFailedPrecondition (TLS verification, a malformed URL; not retried). MlflowClient marks them
/// all with kTransportErrorCode (status.h). Thread-safety: implementations must allow concurrent
/// send() calls.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  /// Sends `request` and waits for the whole response.
  virtual StatusOr<HttpResponse> send(const HttpRequest& request) = 0;
};

/// The libcurl transport: keep-alive connection reuse per thread, TLS as configured.
std::shared_ptr<HttpTransport> make_curl_transport(const TlsOptions& tls = {});

/// Monotonic time and waiting, injectable so retry tests never sleep.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Now, on a monotonic clock.
  virtual std::chrono::steady_clock::time_point now() = 0;
  /// Blocks the calling thread for `duration`.
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

/// The real steady clock.
std::shared_ptr<Clock> system_clock();

}  // namespace mlflow

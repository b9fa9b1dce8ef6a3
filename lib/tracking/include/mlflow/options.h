// SPDX-License-Identifier: Apache-2.0
// Client configuration: tracking URI, credentials, TLS and retry policy, with MLflow's env-var
// names and defaults.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "mlflow/status.h"

namespace mlflow {

/// Retry policy of the official client (urllib3 Retry as configured by
/// mlflow/utils/request_utils.py).
struct RetryOptions {
  /// Retries after the first attempt (MLFLOW_HTTP_REQUEST_MAX_RETRIES, 0..10).
  int max_retries = 7;
  /// The n-th retry (n >= 2) waits backoff_factor * 2^(n-1) (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
  /// seconds).
  std::chrono::milliseconds backoff_factor{2'000};
  /// Most uniform random jitter added to each backoff (MLFLOW_HTTP_REQUEST_BACKOFF_JITTER,
  /// seconds).
  std::chrono::milliseconds backoff_jitter{1'000};
  /// Longest single backoff, as urllib3's BACKOFF_MAX.
  std::chrono::milliseconds max_backoff{120'000};
  /// Per-request timeout (MLFLOW_HTTP_REQUEST_TIMEOUT, seconds).
  std::chrono::milliseconds request_timeout{120'000};
  /// Whole-call budget over all attempts and waits; no retry starts past it.
  std::chrono::milliseconds deadline{600'000};
  /// Honour Retry-After on 429/503 (MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER).
  bool respect_retry_after = true;
};

/// Everything needed to talk to one MLflow server. Plain value; copy freely.
struct ClientOptions {
  /// "http(s)://host:port[/prefix]", "sqlite:///path.db" or empty (local mode:
  /// sqlite:///mlflow.db).
  std::string tracking_uri;
  std::string username;          ///< Basic auth, used when both username and password are set
  std::string password;          ///< Basic auth password
  std::string token;             ///< Bearer auth, used when Basic is not configured
  bool insecure_tls = false;     ///< skip TLS verification (MLFLOW_TRACKING_INSECURE_TLS)
  std::string server_cert_path;  ///< CA bundle (MLFLOW_TRACKING_SERVER_CERT_PATH)
  std::string client_cert_path;  ///< client certificate for mTLS (MLFLOW_TRACKING_CLIENT_CERT_PATH)
  RetryOptions retry;            ///< how calls are retried

  /// Reads a variable; returns nullopt when unset. Defaults to std::getenv.
  using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

  /// Options from MLFLOW_* environment variables, defaults where unset. Fails with kInvalidArgument
  /// naming the variable when a value does not parse or is out of range.
  static StatusOr<ClientOptions> from_env(const EnvLookup& env = {});
};

/// std::getenv as an EnvLookup.
std::optional<std::string> process_env(const std::string& name);

}  // namespace mlflow

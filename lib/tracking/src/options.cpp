// SPDX-License-Identifier: Apache-2.0
// ClientOptions::from_env: MLflow's environment variables, parsed strictly.
#include "mlflow/options.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include "mlflow/ascii.h"

namespace mlflow {

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

namespace {

Status bad_env(const std::string& name, const std::string& value, const std::string& expected) {
  return Status(StatusCode::kInvalidArgument,
                "environment variable " + name + "='" + value + "' is not " + expected);
}

Status parse_bool(const std::string& name, const std::string& value, bool* out) {
  std::string v = ascii_lower(value);
  if (v == "true" || v == "1" || v == "yes") {
    *out = true;
  } else if (v == "false" || v == "0" || v == "no" || v.empty()) {
    *out = false;
  } else {
    return bad_env(name, value, "a boolean (true/false)");
  }
  return Status();
}

Status parse_double(const std::string& name, const std::string& value, double lo, double hi,
                    double* out) {
  char* end = nullptr;
  double d = std::strtod(value.c_str(), &end);
  if (value.empty() || end == nullptr || *end != '\0' || !std::isfinite(d) || d < lo || d > hi) {
    auto num = [](double x) {
      std::string t = std::to_string(x);
      t.erase(t.find_last_not_of('0') + 1);
      if (!t.empty() && t.back() == '.') t.pop_back();
      return t;
    };
    return bad_env(name, value, "a number in [" + num(lo) + ", " + num(hi) + "]");
  }
  *out = d;
  return Status();
}

}  // namespace

StatusOr<ClientOptions> ClientOptions::from_env(const EnvLookup& env_in) {
  EnvLookup env = env_in ? env_in : EnvLookup(process_env);
  ClientOptions o;
  if (auto v = env("MLFLOW_TRACKING_URI")) o.tracking_uri = *v;
  if (auto v = env("MLFLOW_TRACKING_USERNAME")) o.username = *v;
  if (auto v = env("MLFLOW_TRACKING_PASSWORD")) o.password = *v;
  if (auto v = env("MLFLOW_TRACKING_TOKEN")) o.token = *v;
  if (auto v = env("MLFLOW_TRACKING_INSECURE_TLS")) {
    MLFLOW_CPP_RETURN_IF_ERROR(parse_bool("MLFLOW_TRACKING_INSECURE_TLS", *v, &o.insecure_tls));
  }
  if (auto v = env("MLFLOW_TRACKING_SERVER_CERT_PATH")) o.server_cert_path = *v;
  if (auto v = env("MLFLOW_TRACKING_CLIENT_CERT_PATH")) o.client_cert_path = *v;
  if (o.insecure_tls && !o.server_cert_path.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set; "
                  "set only one");
  }
  if (auto v = env("MLFLOW_HTTP_REQUEST_MAX_RETRIES")) {
    double d = 0;
    MLFLOW_CPP_RETURN_IF_ERROR(parse_double("MLFLOW_HTTP_REQUEST_MAX_RETRIES", *v, 0, 10, &d));
    if (d != std::floor(d)) return bad_env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", *v, "an integer");
    o.retry.max_retries = static_cast<int>(d);
  }
  if (auto v = env("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR")) {
    double secs = 0;
    MLFLOW_CPP_RETURN_IF_ERROR(
        parse_double("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", *v, 0, 120, &secs));
    o.retry.backoff_factor = std::chrono::milliseconds(std::llround(secs * 1000));
  }
  if (auto v = env("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER")) {
    double secs = 0;
    MLFLOW_CPP_RETURN_IF_ERROR(
        parse_double("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", *v, 0, 3600, &secs));
    o.retry.backoff_jitter = std::chrono::milliseconds(std::llround(secs * 1000));
  }
  if (auto v = env("MLFLOW_HTTP_REQUEST_TIMEOUT")) {
    double secs = 0;
    MLFLOW_CPP_RETURN_IF_ERROR(
        parse_double("MLFLOW_HTTP_REQUEST_TIMEOUT", *v, 0.001, 86400, &secs));
    o.retry.request_timeout = std::chrono::milliseconds(static_cast<long long>(secs * 1000));
  }
  if (auto v = env("MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER")) {
    MLFLOW_CPP_RETURN_IF_ERROR(
        parse_bool("MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER", *v, &o.retry.respect_retry_after));
  }
  return o;
}

}  // namespace mlflow

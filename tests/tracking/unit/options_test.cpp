// SPDX-License-Identifier: Apache-2.0
// ClientOptions::from_env: MLflow's variable names, defaults and strict parsing.
#include <doctest/doctest.h>

#include <map>

#include "mlflow/local_server.h"
#include "mlflow/options.h"
#include "mlflow/run.h"

using namespace std::chrono_literals;

namespace {
mlflow::ClientOptions::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("options: defaults match the official client") {
  auto o = mlflow::ClientOptions::from_env(env_of({}));
  REQUIRE(o.ok());
  CHECK(o->tracking_uri.empty());
  CHECK(o->retry.max_retries == 7);
  CHECK(o->retry.backoff_factor == 2s);
  CHECK(o->retry.backoff_jitter == 1s);
  CHECK(o->retry.request_timeout == 120s);
  CHECK(o->retry.respect_retry_after);
  CHECK_FALSE(o->insecure_tls);
}

TEST_CASE("options: every variable is read") {
  auto o = mlflow::ClientOptions::from_env(env_of({
      {"MLFLOW_TRACKING_URI", "https://m.example"},
      {"MLFLOW_TRACKING_USERNAME", "u"},
      {"MLFLOW_TRACKING_PASSWORD", "p"},
      {"MLFLOW_TRACKING_TOKEN", "t"},
      {"MLFLOW_TRACKING_CLIENT_CERT_PATH", "/c.pem"},
      {"MLFLOW_TRACKING_SERVER_CERT_PATH", "/ca.pem"},
      {"MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3"},
      {"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.5"},
      {"MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0"},
      {"MLFLOW_HTTP_REQUEST_TIMEOUT", "2.5"},
      {"MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER", "false"},
  }));
  REQUIRE(o.ok());
  CHECK(o->tracking_uri == "https://m.example");
  CHECK(o->username == "u");
  CHECK(o->password == "p");
  CHECK(o->token == "t");
  CHECK(o->client_cert_path == "/c.pem");
  CHECK(o->server_cert_path == "/ca.pem");
  CHECK(o->retry.max_retries == 3);
  CHECK(o->retry.backoff_factor == 500ms);
  CHECK(o->retry.backoff_jitter == 0ms);
  CHECK(o->retry.request_timeout == 2500ms);
  CHECK_FALSE(o->retry.respect_retry_after);
}

TEST_CASE("options: bad values name the variable") {
  auto o = mlflow::ClientOptions::from_env(env_of({{"MLFLOW_HTTP_REQUEST_MAX_RETRIES", "eleven"}}));
  CHECK(o.status().code() == mlflow::StatusCode::kInvalidArgument);
  CHECK(o.status().message().find("MLFLOW_HTTP_REQUEST_MAX_RETRIES='eleven'") != std::string::npos);
  CHECK_FALSE(
      mlflow::ClientOptions::from_env(env_of({{"MLFLOW_HTTP_REQUEST_MAX_RETRIES", "11"}})).ok());
  CHECK_FALSE(
      mlflow::ClientOptions::from_env(env_of({{"MLFLOW_TRACKING_INSECURE_TLS", "maybe"}})).ok());
  CHECK_FALSE(mlflow::ClientOptions::from_env(env_of({{"MLFLOW_TRACKING_INSECURE_TLS", "true"},
                                                      {"MLFLOW_TRACKING_SERVER_CERT_PATH", "/ca"}}))
                  .ok());
}

TEST_CASE("options: run defaults from the environment - explicit values win") {
  auto env = env_of({{"MLFLOW_EXPERIMENT_NAME", "from-env"}, {"MLFLOW_RUN_ID", "abc"}});
  auto o = mlflow::RunOptions{}.with_env_defaults(env);
  CHECK(o.experiment_name == "from-env");
  CHECK(o.run_id == "abc");
  mlflow::RunOptions explicit_opts;
  explicit_opts.experiment_id = "7";
  auto e = explicit_opts.with_env_defaults(env);
  CHECK(e.experiment_id == "7");
  CHECK(e.experiment_name.empty());
  auto id_env = env_of({{"MLFLOW_EXPERIMENT_ID", "3"}, {"MLFLOW_EXPERIMENT_NAME", "n"}});
  CHECK(mlflow::RunOptions{}.with_env_defaults(id_env).experiment_id == "3");
}

TEST_CASE("options: LocalServerOptions::from_env takes MLFLOW_CPP_SERVER_EXE, checked") {
  auto none = mlflow::LocalServerOptions::from_env(env_of({}));
  REQUIRE(none.ok());
  CHECK(none->server_exe.empty());
  auto set = mlflow::LocalServerOptions::from_env(env_of({{"MLFLOW_CPP_SERVER_EXE", "/bin/sh"}}));
  REQUIRE(set.ok());
  CHECK(set->server_exe == "/bin/sh");
  auto bad =
      mlflow::LocalServerOptions::from_env(env_of({{"MLFLOW_CPP_SERVER_EXE", "/no/such/mlflow"}}));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == mlflow::StatusCode::kFailedPrecondition);
  CHECK(bad.status().message().find("MLFLOW_CPP_SERVER_EXE '/no/such/mlflow'") !=
        std::string::npos);
}

// SPDX-License-Identifier: Apache-2.0
// MLflow's key, value and artifact-path rules.
#include <doctest/doctest.h>

#include "mlflow/validation.h"

using mlflow::validate_artifact_path;
using mlflow::validate_key;

TEST_CASE("validation: keys MLflow accepts") {
  for (const char* k : {"loss", "val/acc", "a.b-c_d e:f", "epoch 1/train loss", "x..y"}) {
    CHECK_MESSAGE(validate_key("metric", k).ok(), k);
  }
  CHECK(validate_key("metric", std::string(250, 'a')).ok());
}

TEST_CASE("validation: keys MLflow refuses") {
  for (const char* k :
       {"", "a*b", "a\\b", "/abs", "../up", "..", ".", "a//b", "a/./b", "a/", "a/..", "€"}) {
    auto st = validate_key("param", k);
    CHECK_MESSAGE(st.code() == mlflow::StatusCode::kInvalidArgument, k);
    CHECK(st.message().find("param key") == 0);
  }
  CHECK(validate_key("metric", std::string(251, 'a')).message().find("at most 250") !=
        std::string::npos);
}

TEST_CASE("validation: values and names") {
  CHECK(mlflow::validate_param("k", std::string(6000, 'v')).ok());
  CHECK_FALSE(mlflow::validate_param("k", std::string(6001, 'v')).ok());
  CHECK(mlflow::validate_tag("k", std::string(8000, 'v')).ok());
  CHECK_FALSE(mlflow::validate_tag("k", std::string(8001, 'v')).ok());
  CHECK_FALSE(mlflow::validate_metric("k", -1).ok());
  CHECK_FALSE(mlflow::validate_experiment_name("").ok());
  CHECK_FALSE(mlflow::validate_experiment_name(std::string(501, 'e')).ok());
}

TEST_CASE("validation: artifact paths must stay inside the run") {
  for (const char* p : {"", "a", "a/b/c.txt", "model/MLmodel", "a..b/c"})
    CHECK_MESSAGE(validate_artifact_path(p).ok(), p);
  for (const char* p : {"/etc/passwd", "..", "../x", "a/../../x", "a/..", "C:/x", "a\\b"}) {
    CHECK_MESSAGE(validate_artifact_path(p).code() == mlflow::StatusCode::kInvalidArgument, p);
  }
}

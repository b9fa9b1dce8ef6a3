// SPDX-License-Identifier: Apache-2.0
// Runs the built fmnist_train and fmnist_evaluate against the test server: usage errors create no run, a short
// training run is evaluated back from MLflow.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/process.h"
#include "support/test_support.h"
#include "usage_error_check.h"

using mlflow::testing::ProcessResult;
using mlflow::testing::run_process;
using mlflow::testing::server_env;
using mlflow::testing::TempDir;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;

namespace {

ProcessResult train(const std::vector<std::string>& args) { return run_process(FMNIST_TRAIN_PATH, args, server_env()); }
ProcessResult evaluate(const std::vector<std::string>& args) {
  return run_process(FMNIST_EVALUATE_PATH, args, server_env());
}

}  // namespace

TEST_CASE("fmnist_train: --help lists every setting") {
  const auto r = train({"--help"});
  CHECK(r.exit_code == 0);
  for (const char* key : {"--batch_size", "--learning_rate", "--max_epochs", "--optimizer", "--frozen_backbone",
                          "--backbone_weights", "--early_stopping_patience", "--augmentation", "--config"}) {
    CHECK_MESSAGE(r.out.find(key) != std::string::npos, key);
  }
}

TEST_CASE("fmnist_train: bad input exits 2 with a clear error and creates no run") {
  struct Case {
    std::vector<std::string> args;
    const char* expected;
  };
  TempDir dir;
  write_file(dir.path() + "/bad.yaml", "batch_size: 64\nmodel: resnet\n");
  for (const Case& c : {Case{{"--batch_size", "0"}, "batch_size"}, Case{{"--learning_rate", "-1"}, "learning_rate"},
                        Case{{"--model", "resnet"}, "resnet"}, Case{{"--no-such-flag", "1"}, "no-such-flag"},
                        Case{{"--config", dir.path() + "/bad.yaml"}, "bad.yaml:2"},
                        Case{{"--data_dir", dir.path()}, "train-images-idx3-ubyte.gz"}}) {
    mlflow::testing::check_usage_error(FMNIST_TRAIN_PATH, "fmnist_train", c.args, c.expected);
  }
}

TEST_CASE("fmnist_train then fmnist_evaluate: the logged model is evaluated back from MLflow") {
  const std::string experiment = unique_name("fmnist-apps");
  const auto t = train({"--experiment", experiment, "--train_limit", "500", "--max_epochs", "1", "--threads", "2",
                        "--quiet"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const std::string run_id = t.out.substr(0, t.out.find('\n'));
  REQUIRE(run_id.size() == 32);

  const auto e = evaluate({"runs:/" + run_id + "/model", "--threads", "2", "--log", "--experiment", experiment});
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  CHECK(e.out.find("test accuracy") != std::string::npos);
  CHECK(e.out.find("Ankle boot") != std::string::npos);
  CHECK(e.out.find("evaluation run ") != std::string::npos);

  const auto missing = evaluate({"models:/" + unique_name("no-such-model") + "/1"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no-such-model") != std::string::npos);
  TempDir dir;
  write_file(dir.path() + "/junk.pt", "not a LibTorch archive");
  const auto junk = evaluate({dir.path() + "/junk.pt", "--architecture", "small_cnn"});
  CHECK(junk.exit_code == 2);
  CHECK(junk.err.find("junk.pt") != std::string::npos);
  const auto no_dir = evaluate({"/nonexistent/model/dir"});
  CHECK(no_dir.exit_code == 2);
  CHECK(no_dir.err.find("/nonexistent/model/dir") != std::string::npos);
}

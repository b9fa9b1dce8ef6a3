// SPDX-License-Identifier: Apache-2.0
// Runs the built fmnist_train and fmnist_evaluate against the test server: usage errors create no
// run, a short training run is evaluated back from MLflow, SIGTERM during feature extraction ends
// the run at once.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <functional>
#include <map>
#include <regex>
#include <string>
#include <thread>
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

ProcessResult train(const std::vector<std::string>& args) {
  return run_process(FMNIST_TRAIN_PATH, args, server_env());
}
ProcessResult evaluate(const std::vector<std::string>& args) {
  return run_process(FMNIST_EVALUATE_PATH, args, server_env());
}

}  // namespace

TEST_CASE("fmnist_train: --help lists every setting") {
  const auto r = train({"--help"});
  CHECK(r.exit_code == 0);
  for (const char* key :
       {"--batch_size", "--learning_rate", "--max_epochs", "--optimizer", "--frozen_backbone",
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
  for (const Case& c :
       {Case{{"--batch_size", "0"}, "batch_size"}, Case{{"--learning_rate", "-1"}, "learning_rate"},
        Case{{"--model", "resnet"}, "resnet"}, Case{{"--no-such-flag", "1"}, "no-such-flag"},
        Case{{"--config", dir.path() + "/bad.yaml"}, "bad.yaml:2"},
        Case{{"--data_dir", dir.path()}, "train-images-idx3-ubyte.gz"}}) {
    mlflow::testing::check_usage_error(FMNIST_TRAIN_PATH, "fmnist_train", c.args, c.expected);
  }
}

TEST_CASE("fmnist_train then fmnist_evaluate: the logged model is evaluated back from MLflow") {
  const std::string experiment = unique_name("fmnist-apps");
  const auto t = train({"--experiment", experiment, "--train_limit", "500", "--max_epochs", "1",
                        "--threads", "2", "--quiet"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const std::string run_id = t.out.substr(0, t.out.find('\n'));
  REQUIRE(run_id.size() == 32);

  const auto e = evaluate(
      {"runs:/" + run_id + "/model", "--threads", "2", "--log", "--experiment", experiment});
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

namespace {

// Every metric of a run but the timings, as key@step -> value.
std::map<std::string, double> untimed_metrics(const std::string& run_id) {
  auto client = mlflow::testing::test_client();
  auto run = client.get_run(run_id);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  std::map<std::string, double> out;
  for (const auto& m : run->data.metrics) {
    if (m.key.find("seconds") != std::string::npos || m.key == "images_per_second") continue;
    auto history = client.get_metric_history(run_id, m.key);
    REQUIRE(history.ok());
    for (const auto& h : *history) out[m.key + "@" + std::to_string(h.step)] = h.value;
  }
  return out;
}

std::string run_id_of(const ProcessResult& r) { return r.out.substr(0, r.out.find('\n')); }

}  // namespace

TEST_CASE("fmnist_train: the same settings in two processes log exactly the same metrics") {
  const std::string experiment = unique_name("fmnist-repro");
  const std::vector<std::string> args = {"--experiment", experiment, "--train_limit", "600",
                                         "--max_epochs", "2",        "--threads",     "2",
                                         "--seed",       "7",        "--quiet"};
  const auto a = train(args);
  const auto b = train(args);
  INFO(a.err, b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  const auto ma = untimed_metrics(run_id_of(a));
  CHECK(ma.size() > 20);
  CHECK(ma.count("val_accuracy@2") == 1);
  CHECK(ma == untimed_metrics(run_id_of(b)));
}

TEST_CASE(
    "fmnist_train: a SimCLR checkpoint ships, is imported with its history and feeds frozen runs' "
    "cache") {
  TempDir dir;
  const std::string experiment = unique_name("fmnist-ship");
  const std::string cache = dir.path() + "/cache", checkpoint = dir.path() + "/backbone";
  const std::vector<std::string> common = {"--experiment",
                                           experiment,
                                           "--model",
                                           "mobilenet_v2",
                                           "--width_multiplier",
                                           "0.25",
                                           "--train_limit",
                                           "512",
                                           "--threads",
                                           "2",
                                           "--feature-cache-dir",
                                           cache,
                                           "--quiet"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return extra;
  };
  const auto pre = train(with({"--task", "simclr", "--max_epochs", "1", "--batch_size", "128",
                               "--no-register", "--save-checkpoint", checkpoint}));
  INFO(pre.err);
  REQUIRE(pre.exit_code == 0);
  const auto imported = train(with({"--task", "simclr", "--max_epochs", "0", "--batch_size", "128",
                                    "--initial_weights", checkpoint, "--no-register"}));
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  const auto m_pre = untimed_metrics(run_id_of(pre));
  const auto m_imp = untimed_metrics(run_id_of(imported));
  // The recorded epoch and the probe measured again on the same weights: the same figures.
  CHECK(m_imp.at("train_loss@1") == m_pre.at("train_loss@1"));
  CHECK(m_imp.at("linear_probe_test_accuracy@0") == m_pre.at("linear_probe_test_accuracy@0"));
  auto client = mlflow::testing::test_client();
  auto run = client.get_run(run_id_of(imported));
  REQUIRE(run.ok());
  bool has_digest = false;
  for (const auto& p : run->data.params)
    has_digest = has_digest || (p.key == "initial_weights_sha256" && p.value.size() == 64);
  CHECK(has_digest);

  // A frozen run on that backbone finds the probe's features in the cache.
  const auto frozen =
      train(with({"--frozen_backbone", "true", "--max_epochs", "1", "--backbone_weights",
                  "runs:/" + run_id_of(imported) + "/model"}));
  INFO(frozen.err);
  REQUIRE(frozen.exit_code == 0);
  CHECK(untimed_metrics(run_id_of(frozen)).at("feature_cache_hit@0") == 1.0);

  // Weights that do not match their recorded digest are refused, naming the file.
  write_file(checkpoint + "/model.pt", "tampered");
  const auto tampered = train(with(
      {"--task", "simclr", "--max_epochs", "0", "--initial_weights", checkpoint, "--no-register"}));
  CHECK(tampered.exit_code != 0);
  CHECK(tampered.err.find("model.pt") != std::string::npos);
}

TEST_CASE(
    "fmnist_train: SIGTERM while the frozen backbone's features are computed ends the run KILLED "
    "within 2 s") {
  TempDir dir;
  const std::string experiment = unique_name("fmnist-sigterm");
  // MobileNetV2's features of all 70,000 images, a fresh cache: tens of seconds of extraction.
  mlflow::testing::BackgroundProcess p(
      FMNIST_TRAIN_PATH,
      {"--experiment", experiment, "--model", "mobilenet_v2", "--frozen_backbone", "true",
       "--max_epochs", "1", "--threads", "1", "--feature-cache-dir", dir.path() + "/cache"},
      server_env(), dir.path() + "/out.log");
  auto wait_for = [&](const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  };
  // The run line comes once the data is loaded and the run created; the features are computed next.
  REQUIRE(wait_for(
      [&] { return p.output().find("epochs at most") != std::string::npos || !p.running(); },
      std::chrono::seconds(120)));
  REQUIRE(p.running());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  REQUIRE_MESSAGE(p.output().find("epoch 1/1") == std::string::npos,
                  "training started before the signal");
  const auto sent = std::chrono::steady_clock::now();
  ::kill(static_cast<pid_t>(p.pid()), SIGTERM);
  const bool exited = wait_for([&] { return !p.running(); }, std::chrono::seconds(30));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  const std::string out = p.output();
  INFO(out);
  MESSAGE("fmnist_train exited ", seconds, " s after SIGTERM");
  REQUIRE(exited);
  CHECK(seconds < 2.0);
  const int status = p.stop();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("(^|\\n)run ([0-9a-f]{32}):")));
  auto run = mlflow::testing::test_client().get_run(m[2].str());
  REQUIRE(run.ok());
  CHECK(run->info.status == mlflow::RunStatus::kKilled);
}

// SPDX-License-Identifier: Apache-2.0
// Runs the built fmnist_eda on generated IDX files against the test server: the run has every
// artifact, the metrics and the trainer's dataset inputs; bad input exits 2 and creates no run; a
// failure after the start ends the run FAILED.
#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fmnist/fmnist_lineage.h"
#include "idx_test_files.h"
#include "mlflow/training/dataset_lineage.h"
#include "support/fault_proxy.h"
#include "support/process.h"
#include "support/test_support.h"
#include "usage_error_check.h"

using mlflow::testing::ProcessResult;
using mlflow::testing::read_file;
using mlflow::testing::run_process;
using mlflow::testing::server_env;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;

namespace {

const std::vector<std::string> kFiles = {"class_distribution.png", "sample_grid.png",
                                         "pixel_histogram.png",    "class_mean_images.png",
                                         "pca_scatter.png",        "pca_explained_variance.png",
                                         "summary.json",           "eda_report.html"};

ProcessResult eda(const std::vector<std::string>& args) {
  return run_process(FMNIST_EDA_PATH, args, server_env());
}

std::optional<double> metric(const mlflow::Run& run, const std::string& key) {
  for (const auto& m : run.data.metrics) {
    if (m.key == key) return m.value;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("fmnist_eda: --help names the flags") {
  const auto r = eda({"--help"});
  CHECK(r.exit_code == 0);
  for (const char* flag : {"--sample-size", "--all", "--seed", "--data-dir", "--experiment",
                           "--out", "--split-seed"}) {
    CHECK_MESSAGE(r.out.find(flag) != std::string::npos, flag);
  }
}

TEST_CASE("fmnist_eda: the run eda has every artifact, the metrics and the dataset inputs") {
  TempDir data, out;
  mlflow::testing::write_fmnist_dir(data.path(), 200, 100);
  const std::string experiment = unique_name("fmnist-eda");
  const auto r = eda({"--data-dir", data.path(), "--sample-size", "60", "--experiment", experiment,
                      "--out", out.path() + "/report", "--quiet"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string run_id = r.out.substr(0, r.out.find('\n'));
  REQUIRE(run_id.size() == 32);

  auto client = test_client();
  auto run = client.get_run(run_id);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  CHECK(run->info.run_name == "eda");
  CHECK(run->info.status == mlflow::RunStatus::kFinished);
  auto exp = client.get_experiment_by_name(experiment);
  REQUIRE(exp.ok());
  CHECK(run->info.experiment_id == exp->experiment_id);

  auto listed = client.list_artifacts(run_id);
  REQUIRE_MESSAGE(listed.ok(), listed.status().to_string());
  for (const auto& f : kFiles) {
    bool found = false;
    for (const auto& info : *listed) found = found || (info.path == f && info.file_size > 0);
    CHECK_MESSAGE(found, f);
    CHECK_MESSAGE(std::filesystem::is_regular_file(out.path() + "/report/" + f), f);
  }
  auto summary = client.read_artifact(run_id, "summary.json");
  REQUIRE(summary.ok());
  CHECK(*summary == read_file(out.path() + "/report/summary.json"));
  const auto j = nlohmann::json::parse(*summary);
  CHECK(j["splits"]["train"]["images_analysed"] == 60);
  CHECK(j["splits"]["test"]["images_in_files"] == 100);
  auto html = client.read_artifact(run_id, "eda_report.html");
  REQUIRE(html.ok());
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK_MESSAGE(html->find("alt=\"" + kFiles[i] + "\"") != std::string::npos, kFiles[i]);
  }

  for (const char* key :
       {"train_class_imbalance", "test_class_imbalance", "train_pixel_mean", "train_pixel_std",
        "test_pixel_mean", "test_pixel_std", "normalisation_mean_difference",
        "pca_explained_variance_pc1", "pca_explained_variance_2d", "drift_class_frequency_psi",
        "drift_pixel_intensity_psi", "drift_pixel_intensity_ks", "drift_level"}) {
    CHECK_MESSAGE(metric(*run, key).has_value(), key);
  }
  CHECK(metric(*run, "train_images_analysed") == 60.0);
  bool sample_param = false;
  for (const auto& p : run->data.params)
    sample_param = sample_param || (p.key == "sample_size" && p.value == "60");
  CHECK(sample_param);
  CHECK(mlflow::find_value(run->data.tags, "eda.drift_verdict") ==
        j["drift"]["verdict"].get<std::string>());

  // The same data versions as a training run with the trainer's default split: same names and
  // digests.
  auto expected = mlflow::fmnist::fmnist_dataset_inputs(data.path(), {}, {160, 40, 100});
  REQUIRE(expected.ok());
  REQUIRE(run->dataset_inputs.size() == expected->size());
  for (const auto& e : *expected) {
    bool same = false;
    for (const auto& got : run->dataset_inputs) {
      same = same || (got.dataset.name == e.dataset.name && got.dataset.digest == e.dataset.digest);
    }
    CHECK_MESSAGE(same, e.dataset.name);
  }
}

TEST_CASE("fmnist_eda: bad input exits 2 naming the file or flag and creates no run") {
  TempDir data, corrupt, scratch;
  mlflow::testing::write_fmnist_dir(data.path(), 40, 30);
  mlflow::testing::write_fmnist_dir(corrupt.path(), 40, 30);
  write_file(corrupt.path() + "/t10k-images-idx3-ubyte.gz", "not gzip at all");
  write_file(scratch.path() + "/a-file", "x");
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--data-dir", scratch.path() + "/missing"},
       scratch.path() + "/missing/train-images-idx3-ubyte.gz"},
      {{"--data-dir", corrupt.path()}, corrupt.path() + "/t10k-images-idx3-ubyte.gz"},
      {{"--data-dir", data.path(), "--sample-size", "35"},
       "--sample-size 35 is larger than the test split"},
      {{"--data-dir", data.path(), "--sample-size", "10", "--out", scratch.path() + "/a-file/out"},
       "--out"},
      {{"--data-dir", data.path(), "--sample-size", "0"}, "--sample-size"},
      {{"--data-dir", data.path(), "--all", "--sample-size", "10"}, "--all"},
  };
  for (const Case& c : cases)
    mlflow::testing::check_usage_error(FMNIST_EDA_PATH, "fmnist_eda", c.args, c.expected);
  // Bad data with --out: the --out directory is not created either.
  mlflow::testing::check_usage_error(
      FMNIST_EDA_PATH, "fmnist_eda",
      {"--data-dir", corrupt.path(), "--out", scratch.path() + "/new-out"},
      corrupt.path() + "/t10k-images-idx3-ubyte.gz");
  CHECK_FALSE(std::filesystem::exists(scratch.path() + "/new-out"));
}

TEST_CASE("fmnist_eda: a failure after the run started ends it FAILED with the reason as a tag") {
  TempDir data;
  mlflow::testing::write_fmnist_dir(data.path(), 30, 30);
  // Every artifact upload fails; the params, metrics and the run's end still reach the server.
  auto proxy = mlflow::testing::FaultProxy::start(
      mlflow::testing::server_url(), {"--faults", "500:1", "--fault-paths", "mlflow-artifacts"});
  const std::string experiment = unique_name("fmnist-eda-fail");
  const auto r =
      run_process(FMNIST_EDA_PATH,
                  {"--data-dir", data.path(), "--sample-size", "20", "--experiment", experiment},
                  {"MLFLOW_TRACKING_URI=" + proxy.url(), "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("uploading the pictures and report") != std::string::npos);

  auto client = test_client();
  auto exp = client.get_experiment_by_name(experiment);
  REQUIRE(exp.ok());
  auto runs = client.search_runs({exp->experiment_id});
  REQUIRE(runs.ok());
  REQUIRE(runs->items.size() == 1);
  const mlflow::Run& run = runs->items[0];
  CHECK(run.info.run_name == "eda");
  CHECK(run.info.status == mlflow::RunStatus::kFailed);
  const auto reason = mlflow::find_value(run.data.tags, "mlflow_cpp.error");
  REQUIRE(reason.has_value());
  CHECK(reason->find("uploading the pictures and report") != std::string::npos);
  CHECK(r.err.find(run.info.run_id) != std::string::npos);
}

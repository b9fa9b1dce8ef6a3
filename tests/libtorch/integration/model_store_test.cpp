// SPDX-License-Identifier: Apache-2.0
// LibTorch models as MLflow 3 logged models on the real server: logged, linked to the run,
// registered with an alias and fetched back through every URI form; read by the Python client.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "mlflow/libtorch/model_store.h"
#include "support/process.h"
#include "support/test_support.h"

namespace mlflow::libtorch {
namespace {

namespace fs = std::filesystem;

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

LibtorchFlavor cnn_flavor() {
  LibtorchFlavor f;
  f.architecture = "small_cnn";
  f.config_json = R"({"width_multiplier":1.0,"num_classes":10,"dropout":0.25})";
  f.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  f.input_shape = {1, 28, 28};
  f.libtorch_version = "1.13.0";
  return f;
}

// Logs a model "model" whose weights are `n` seeded random bytes written into `tmp`.
training::LoggedModelRef log_random_model(MlflowClient& client, const testing::RunRef& run,
                                          const testing::TempDir& tmp, std::size_t n,
                                          unsigned seed) {
  testing::write_file(tmp.path() + "/w.pt", random_bytes(n, seed));
  auto logged = log_libtorch_model(client, run.experiment_id, run.run_id, "model", cnn_flavor(),
                                   tmp.path() + "/w.pt");
  REQUIRE_MESSAGE(logged.ok(), logged.status().to_string());
  return *logged;
}

std::string param(const std::vector<Param>& params, const std::string& key) {
  for (const auto& p : params) {
    if (p.key == key) return p.value;
  }
  return "<missing>";
}

void check_same_flavor(const LibtorchFlavor& got, const LibtorchFlavor& want) {
  CHECK(got.architecture == want.architecture);
  CHECK(nlohmann::json::parse(got.config_json) == nlohmann::json::parse(want.config_json));
  CHECK(got.input_shape == want.input_shape);
  CHECK(got.input_dtype == want.input_dtype);
  CHECK(got.class_names == want.class_names);
  CHECK(got.weights_file == want.weights_file);
  CHECK(got.libtorch_version == want.libtorch_version);
}

/// Runs `script` with the pinned MLflow's Python against the test server; its stdout.
std::string run_python(const std::string& script) {
  const std::string python = std::string(MLFLOW_CPP_SOURCE_DIR) + "/mlflow/.venv/bin/python";
  REQUIRE_MESSAGE(fs::exists(python), python);
  testing::TempDir tmp;
  testing::write_file(tmp.path() + "/check.py", script);
  const auto r = testing::run_process(python, {tmp.path() + "/check.py"},
                                      {"MLFLOW_TRACKING_URI=" + testing::server_url()});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  return r.out;
}

TEST_CASE("model store: log, link, register with an alias and fetch back by every URI form") {
  MlflowClient client = testing::test_client();
  const testing::RunRef run = testing::new_run(client, "libtorch-model-store");
  testing::TempDir tmp;
  const std::string weights = random_bytes(200'000, 7);
  testing::write_file(tmp.path() + "/epoch4.pt", weights);
  const LibtorchFlavor flavor = cnn_flavor();

  auto logged =
      log_libtorch_model(client, run.experiment_id, run.run_id, "model", flavor,
                         tmp.path() + "/epoch4.pt", {{"lr", "0.001"}, {"epochs", "5"}}, 4);
  REQUIRE_MESSAGE(logged.ok(), logged.status().to_string());
  CHECK(logged->name == "model");
  CHECK(logged->model_uri == "models:/" + logged->model_id);

  // The logged model: READY, from the run, with its params and exactly the two files.
  auto lm = client.get_logged_model(logged->model_id);
  REQUIRE_MESSAGE(lm.ok(), lm.status().to_string());
  CHECK(lm->status == LoggedModelStatus::kReady);
  CHECK(lm->source_run_id == run.run_id);
  CHECK(lm->experiment_id == run.experiment_id);
  CHECK(lm->artifact_uri == logged->artifact_uri);
  CHECK(param(lm->params, "lr") == "0.001");
  CHECK(param(lm->params, "epochs") == "5");
  auto files = client.list_logged_model_artifacts(logged->model_id);
  REQUIRE_MESSAGE(files.ok(), files.status().to_string());
  REQUIRE(files->size() == 2);
  CHECK((*files)[0].path == "MLmodel");
  CHECK((*files)[1].path == "model.pt");
  CHECK((*files)[1].file_size == static_cast<std::int64_t>(weights.size()));

  // Linked to the run as an output, so the run page lists it.
  auto r = client.get_run(run.run_id);
  REQUIRE(r.ok());
  REQUIRE(r->model_outputs.size() == 1);
  CHECK(r->model_outputs[0].model_id == logged->model_id);
  CHECK(r->model_outputs[0].step == 4);

  const std::string name = testing::unique_name("fmnist-cnn");
  auto version = training::register_logged_model(
      client, *logged, name, "champion", {{"test_accuracy", "0.91"}}, "small CNN, 5 epochs");
  REQUIRE_MESSAGE(version.ok(), version.status().to_string());
  CHECK(version->name == name);
  CHECK(version->version == "1");
  auto mv = client.get_model_version_by_alias(name, "champion");
  REQUIRE_MESSAGE(mv.ok(), mv.status().to_string());
  CHECK(mv->version == "1");
  CHECK(mv->run_id == run.run_id);
  CHECK(mv->source == "models:/" + logged->model_id);  // MLflow's SQL registry keeps no model_id
  CHECK(mv->description == "small CNN, 5 epochs");
  CHECK(find_value(mv->tags, "test_accuracy") == "0.91");

  const std::vector<std::string> uris = {"runs:/" + run.run_id + "/model", logged->model_uri,
                                         "models:/" + name + "/1", "models:/" + name + "@champion",
                                         "models:/" + name + "/latest"};
  int i = 0;
  for (const std::string& uri : uris) {
    CAPTURE(uri);
    const std::string dest = tmp.path() + "/fetched/" + std::to_string(i++);
    auto local = fetch_model(client, uri, dest);
    REQUIRE_MESSAGE(local.ok(), local.status().to_string());
    CHECK(local->dir == dest);
    CHECK(local->weights_path == dest + "/model.pt");
    CHECK(local->source_uri == uri);
    CHECK(local->model_id == logged->model_id);
    CHECK(testing::read_file(local->weights_path) == weights);
    check_same_flavor(local->flavor, flavor);
    auto info = parse_mlmodel_info(testing::read_file(dest + "/MLmodel"), dest);
    REQUIRE(info.ok());
    CHECK(info->model_id == logged->model_id);
    CHECK(info->run_id == run.run_id);
    CHECK(info->artifact_path == logged->artifact_uri);
  }
  // Fetching again replaces the earlier copy; nothing else is left next to it.
  auto again = fetch_model(client, logged->model_uri, tmp.path() + "/fetched/0");
  REQUIRE_MESSAGE(again.ok(), again.status().to_string());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.path() + "/fetched")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"0", "1", "2", "3", "4"});

  // A second version of the same registered model moves the alias.
  auto v2 = training::register_logged_model(client, *logged, name, "champion");
  REQUIRE(v2.ok());
  CHECK(v2->version == "2");
  CHECK(client.get_model_version_by_alias(name, "champion")->version == "2");
}

TEST_CASE("model store: missing models are reported as not found, naming the URI") {
  MlflowClient client = testing::test_client();
  const testing::RunRef run = testing::new_run(client, "libtorch-model-store");
  testing::TempDir tmp;
  const training::LoggedModelRef logged = log_random_model(client, run, tmp, 100, 1);
  const std::string name = testing::unique_name("fmnist-missing");
  REQUIRE(training::register_logged_model(client, logged, name, "champion").ok());

  for (const std::string& uri :
       {"models:/" + name + "@nope", "models:/" + name + "/9", "models:/" + name + "-absent/1",
        std::string("models:/m-00000000000000000000000000000000"),
        "runs:/" + run.run_id + "/nothing", "runs:/" + run.run_id + "/model/sub"}) {
    CAPTURE(uri);
    auto got = fetch_model(client, uri, tmp.path() + "/dest");
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == StatusCode::kNotFound);
    CHECK_MESSAGE(got.status().message().find(uri) != std::string::npos, got.status().message());
    CHECK_FALSE(fs::exists(tmp.path() + "/dest"));
  }
}

TEST_CASE("model store: runs:/ picks the run's newest model of that name, then run artifacts") {
  MlflowClient client = testing::test_client();
  const testing::RunRef run = testing::new_run(client, "libtorch-model-store");
  testing::TempDir tmp;
  testing::write_file(tmp.path() + "/old.pt", "old weights");
  testing::write_file(tmp.path() + "/new.pt", "new weights");
  LibtorchFlavor f = cnn_flavor();
  auto first =
      log_libtorch_model(client, run.experiment_id, run.run_id, "model", f, tmp.path() + "/old.pt");
  REQUIRE(first.ok());
  f.weights_file = "data/weights.pt";
  auto second = log_libtorch_model(client, run.experiment_id, run.run_id, "model", f,
                                   tmp.path() + "/new.pt", {}, 1);
  REQUIRE(second.ok());
  // Same name from another run is never picked.
  const testing::RunRef other = testing::new_run(client, "libtorch-model-store");
  REQUIRE(log_libtorch_model(client, other.experiment_id, other.run_id, "model", f,
                             tmp.path() + "/old.pt")
              .ok());

  auto got = fetch_model(client, "runs:/" + run.run_id + "/model", tmp.path() + "/m");
  REQUIRE_MESSAGE(got.ok(), got.status().to_string());
  CHECK(got->model_id == second->model_id);
  CHECK(got->weights_path == tmp.path() + "/m/data/weights.pt");
  CHECK(testing::read_file(got->weights_path) == "new weights");
  CHECK(client.get_run(run.run_id)->model_outputs.size() == 2);

  // A model stored as plain run artifacts (MLflow 2 style) is found under the run's artifacts.
  f.weights_file = "model.pt";
  REQUIRE(
      client.log_artifact_bytes(run.run_id, mlmodel_yaml(f, "", run.run_id, ""), "legacy/MLmodel")
          .ok());
  REQUIRE(client.log_artifact_bytes(run.run_id, "legacy weights", "legacy/model.pt").ok());
  auto legacy = fetch_model(client, "runs:/" + run.run_id + "/legacy", tmp.path() + "/legacy");
  REQUIRE_MESSAGE(legacy.ok(), legacy.status().to_string());
  CHECK(legacy->model_id.empty());
  CHECK(testing::read_file(legacy->weights_path) == "legacy weights");

  // Not a LibTorch model: a clear error, nothing installed.
  REQUIRE(client.log_artifact_bytes(run.run_id, "flavors:\n  sklearn: {}\n", "sk/MLmodel").ok());
  auto sk = fetch_model(client, "runs:/" + run.run_id + "/sk", tmp.path() + "/sk");
  CHECK(sk.status().code() == StatusCode::kInvalidArgument);
  CHECK(sk.status().message().find("not a LibTorch model") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path() + "/sk"));
}

TEST_CASE("model store: MLflow's Python client resolves and reads a model logged from C++") {
  MlflowClient client = testing::test_client();
  const testing::RunRef run = testing::new_run(client, "libtorch-model-store");
  testing::TempDir tmp;
  const training::LoggedModelRef logged = log_random_model(client, run, tmp, 1000, 3);
  // Model.load on runs:/<run>/model goes through MLflow 3's run-to-logged-model resolution.
  const std::string out = run_python(
      "import mlflow, os, tempfile\n"
      "m = mlflow.models.Model.load('runs:/" +
      run.run_id +
      "/model')\n"
      "f = m.flavors['libtorch']\n"
      "print(m.model_id, m.run_id, f['architecture'], f['config']['width_multiplier'], "
      "len(f['class_names']))\n"
      "print(m.signature.inputs.to_dict()[0]['tensor-spec']['shape'], "
      "m.signature.outputs.to_dict()[0]['tensor-spec']['shape'])\n"
      "d = mlflow.artifacts.download_artifacts('models:/" +
      logged.model_id +
      "', dst_path=tempfile.mkdtemp())\n"
      "print(sorted(set(os.listdir(d)) & {'MLmodel', 'model.pt'}), os.path.getsize(os.path.join(d, "
      "'model.pt')))\n");
  CHECK_MESSAGE(
      out.find(logged.model_id + " " + run.run_id + " small_cnn 1.0 10\n") != std::string::npos,
      out);
  CHECK_MESSAGE(out.find("(-1, 1, 28, 28) (-1, 10)\n") != std::string::npos, out);
  CHECK_MESSAGE(out.find("['MLmodel', 'model.pt'] 1000\n") != std::string::npos, out);
}

}  // namespace
}  // namespace mlflow::libtorch

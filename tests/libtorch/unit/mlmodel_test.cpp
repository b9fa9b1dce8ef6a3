// SPDX-License-Identifier: Apache-2.0
// The MLmodel file of LibTorch models (round trip, MLflow's own output, errors) and fetch_model's
// safety against a hostile server (fake transport).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mlflow/libtorch/model_store.h"
#include "mlflow/training/mlmodel.h"
#include "support/test_support.h"

namespace mlflow::libtorch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

LibtorchFlavor sample_flavor() {
  LibtorchFlavor f;
  f.architecture = "mobilenet_v2";
  f.config_json =
      R"({"width_multiplier":1.0,"num_classes":10,"eps":1e-05,"dropout":0.2,"frozen":true,)"
      R"("pretrained":null,"name":"yes","blocks":[1,2.5,"3"],"nested":{"on":"off","a b":"#c: d"}})";
  f.input_shape = {1, 28, 28};
  f.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  f.libtorch_version = "1.13.1";
  f.weights_file = "data/model.pt";
  f.input_scale = "pixel / 255: 0 black, 1 white";
  f.input_mean = {0.2860406};
  f.input_std = {0.3530242};
  return f;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("mlmodel: a flavor survives mlmodel_yaml and parse_mlmodel unchanged") {
  const LibtorchFlavor f = sample_flavor();
  const std::string yaml =
      mlmodel_yaml(f, "m-0123", "run-9", "mlflow-artifacts:/1/models/m-0123/artifacts");
  auto info = parse_mlmodel_info(yaml, "test MLmodel");
  REQUIRE_MESSAGE(info.ok(), info.status().to_string());
  const LibtorchFlavor& g = info->flavor;
  CHECK(g.architecture == f.architecture);
  CHECK(json::parse(g.config_json) == json::parse(f.config_json));
  CHECK(json::parse(g.config_json)["width_multiplier"].is_number_float());
  CHECK(json::parse(g.config_json)["num_classes"].is_number_integer());
  CHECK(json::parse(g.config_json)["name"].is_string());
  CHECK(g.input_shape == f.input_shape);
  CHECK(g.input_dtype == "float32");
  CHECK(g.class_names == f.class_names);
  CHECK(g.weights_file == f.weights_file);
  CHECK(g.libtorch_version == f.libtorch_version);
  CHECK(g.input_scale == f.input_scale);
  CHECK(g.input_mean == f.input_mean);
  CHECK(g.input_std == f.input_std);
  CHECK_FALSE(g.mlflow_cpp_version.empty());
  CHECK(info->model_id == "m-0123");
  CHECK(info->run_id == "run-9");
  CHECK(info->artifact_path == "mlflow-artifacts:/1/models/m-0123/artifacts");
  CHECK(info->mlflow_version == training::kMlmodelFormatVersion);
  CHECK(info->utc_time_created.size() == 26);  // "YYYY-MM-DD HH:MM:SS.ffffff"

  auto flavor_only = parse_mlmodel(yaml, "test MLmodel");
  REQUIRE(flavor_only.ok());
  CHECK(flavor_only->class_names == f.class_names);
}

TEST_CASE("mlmodel: the signature is written as MLflow writes tensor specs") {
  const std::string yaml = mlmodel_yaml(sample_flavor(), "m-1", "", "");
  CHECK(contains(
      yaml,
      R"(inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1, 28, 28]}}]')"));
  CHECK(contains(
      yaml,
      R"(outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 10]}}]')"));
  CHECK(contains(yaml, "model_uuid: m-1"));
  CHECK_FALSE(contains(yaml, "run_id"));  // left out when empty, as MLflow does
  CHECK_FALSE(contains(yaml, "artifact_path"));

  // Without class names the number of classes comes from the config, else outputs stay null.
  LibtorchFlavor f = sample_flavor();
  f.class_names.clear();
  CHECK(contains(mlmodel_yaml(f, "m-1", "", ""), R"("shape": [-1, 10]}}]')"));
  f.config_json = "{}";
  CHECK(contains(mlmodel_yaml(f, "m-1", "", ""), "outputs: ~"));
}

TEST_CASE("mlmodel: an ONNX copy adds the onnx and python_function flavors as mlflow.onnx does") {
  CHECK_FALSE(contains(mlmodel_yaml(sample_flavor(), "m-1", "", ""), "onnx"));
  const std::string yaml = mlmodel_yaml(sample_flavor(), "m-1", "", "",
                                        ModelExtras{{"model.onnx", "1.12.0"}, "[[1, 2]]"});
  for (const char* line :
       {"  onnx:\n    code: ~\n    data: model.onnx\n    onnx_session_options: ~\n"
        "    onnx_version: \"1.12.0\"\n    providers:\n      - CPUExecutionProvider\n",
        "  python_function:\n    data: model.onnx\n    loader_module: mlflow.onnx\n"}) {
    CHECK_MESSAGE(contains(yaml, line), yaml);
  }
  CHECK_MESSAGE(contains(yaml,
                         "saved_input_example_info:\n  artifact_path: input_example.json\n"
                         "  serving_input_path: serving_input_example.json\n  type: ndarray\n"),
                yaml);
  // The libtorch flavor is still what parse_mlmodel reads.
  auto back = parse_mlmodel(yaml, "MLmodel");
  REQUIRE(back.ok());
  CHECK(back->architecture == "mobilenet_v2");
}

TEST_CASE("mlmodel: an MLmodel written by the Python client with PyYAML is read") {
  // Model(...).add_flavor("libtorch", ...).to_yaml() from mlflow 3.17.2, long lines wrapped by
  // PyYAML.
  const std::string python = R"(artifact_path: mlflow-artifacts:/1/models/m-abc/artifacts
flavors:
  libtorch:
    architecture: small_cnn
    class_names:
    - T-shirt/top
    - Trouser
    config:
      a: 1.0
      n: 3
      s: '10'
    input_shape:
    - 1
    - 28
    - 28
    weights_file: model.pt
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: m-abc
model_uuid: m-abc
prompts: null
run_id: r1
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1,
    28, 28]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1,
    10]}}]'
  params: null
type_hint_from_example: false
utc_time_created: '2026-11-23 12:58:05.568668'
)";
  auto info = parse_mlmodel_info(python, "python MLmodel");
  REQUIRE_MESSAGE(info.ok(), info.status().to_string());
  CHECK(info->flavor.architecture == "small_cnn");
  CHECK(json::parse(info->flavor.config_json) == json({{"a", 1.0}, {"n", 3}, {"s", "10"}}));
  CHECK(info->flavor.class_names == std::vector<std::string>{"T-shirt/top", "Trouser"});
  CHECK(info->flavor.input_dtype == "float32");  // the default when absent
  CHECK(info->model_id == "m-abc");
  CHECK(info->run_id == "r1");
  CHECK(info->mlflow_version == "3.17.2");
  CHECK(info->utc_time_created == "2026-11-23 12:58:05.568668");
}

TEST_CASE("mlmodel: errors name the source and the field") {
  const std::string src = "runs:/abc/model/MLmodel";
  auto expect_error = [&](const std::string& text, const std::string& field) {
    CAPTURE(text);
    auto r = parse_mlmodel(text, src);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(contains(r.status().message(), src), r.status().message());
    CHECK_MESSAGE(contains(r.status().message(), field), r.status().message());
  };
  expect_error("flavors:\n  python_function:\n    loader_module: x\n",
               "no flavors.libtorch (flavors: python_function)");
  expect_error("artifact_path: x\n", "no 'flavors' map");
  expect_error("flavors: [unclosed\n", "not valid YAML");
  expect_error("just a string", "not a YAML mapping");
  expect_error("", "not a YAML mapping");
  const std::string base =
      "flavors:\n  libtorch:\n    architecture: small_cnn\n    weights_file: model.pt\n";
  expect_error(
      base + "    input_shape: [1, -28, 28]\n",
      "flavors.libtorch.input_shape must be a list of positive integers, not [1, -28, 28]");
  expect_error(base + "    input_shape: [1, x]\n", "input_shape");
  expect_error(base + "    input_shape: 28\n", "input_shape");
  expect_error(base, "flavors.libtorch.input_shape is missing");
  expect_error(base + "    input_shape: [1]\n    config: [1, 2]\n",
               "flavors.libtorch.config must be a map");
  expect_error(base + "    input_shape: [1]\n    class_names: Bag\n", "class_names");
  expect_error("flavors:\n  libtorch:\n    architecture: {a: 1}\n    input_shape: [1]\n",
               "flavors.libtorch.architecture must be a string");
  const std::string no_weights =
      "flavors:\n  libtorch:\n    architecture: a\n    input_shape: [1]\n";
  expect_error(no_weights, "weights_file is missing");
  expect_error(no_weights + "    weights_file: ../../etc/passwd\n", "must not contain '..'");
  expect_error(no_weights + "    weights_file: /etc/passwd\n", "must be relative");
  expect_error(no_weights + "    weights_file: MLmodel\n", "other than MLmodel");
  expect_error("flavors:\n  libtorch:\n    input_shape: [1]\n    weights_file: m.pt\n",
               "architecture is missing");
}

TEST_CASE("mlmodel: validate_flavor refuses what could not be loaded back") {
  CHECK(validate_flavor(sample_flavor()).ok());
  auto refused = [](void (*edit)(LibtorchFlavor&), const std::string& field) {
    LibtorchFlavor f = sample_flavor();
    edit(f);
    Status st = validate_flavor(f);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(contains(st.message(), field), st.message());
  };
  refused([](LibtorchFlavor& f) { f.architecture.clear(); }, "architecture");
  refused([](LibtorchFlavor& f) { f.config_json = "[1]"; }, "config must be a JSON object");
  refused([](LibtorchFlavor& f) { f.config_json = "{oops"; }, "config must be a JSON object");
  refused([](LibtorchFlavor& f) { f.input_shape = {}; }, "input_shape");
  refused([](LibtorchFlavor& f) { f.input_shape = {1, 0}; }, "input_shape");
  refused([](LibtorchFlavor& f) { f.weights_file = "a/../../b.pt"; }, "weights_file");
  refused([](LibtorchFlavor& f) { f.weights_file = "dir/"; }, "weights_file");
  refused([](LibtorchFlavor& f) { f.input_std = {}; }, "same length");
  refused([](LibtorchFlavor& f) { f.input_mean = f.input_std = {0.1, 0.2}; }, "per channel (1)");
  refused([](LibtorchFlavor& f) { f.input_std = {0.0}; }, "above 0");
  LibtorchFlavor empty_config = sample_flavor();
  empty_config.config_json.clear();  // treated as {}
  CHECK(validate_flavor(empty_config).ok());
}

// ---- a hostile or broken server (fake transport)
// -------------------------------------------------

HttpResponse respond(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct FakeServer {
  std::shared_ptr<testing::FakeTransport> transport = std::make_shared<testing::FakeTransport>();
  MlflowClient client = make();

  MlflowClient make() {
    ClientOptions o;
    o.tracking_uri = "http://h:5000";
    o.retry.max_retries = 0;
    auto c = MlflowClient::make(
        o, {transport, std::make_shared<testing::FakeClock>(), [] { return 0.0; }});
    REQUIRE(c.ok());
    return *c;
  }
  /// Serves models:/m-1 whose root lists `listing`; files are answered by `file`.
  void serve(std::string listing, std::function<HttpResponse(const std::string&)> file) {
    transport->set_handler([listing, file](const HttpRequest& r) -> StatusOr<HttpResponse> {
      if (r.url.find("/logged-models/m-1") != std::string::npos) {
        return respond(200,
                       R"({"model":{"info":{"model_id":"m-1","experiment_id":"1","status":"READY",)"
                       R"("artifact_uri":"mlflow-artifacts:/1/models/m-1/artifacts"}}})");
      }
      if (r.url.find("?path=") != std::string::npos) return respond(200, listing);
      const std::string name = r.url.substr(r.url.rfind('/') + 1);
      return file(name);
    });
  }
};

/// Nothing but `keep` is left in `dir` (no staging or backup directories).
void check_only(const std::string& dir, const std::vector<std::string>& keep) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == keep);
}

TEST_CASE("fetch_model: a local directory is used in place and errors name it") {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/model";
  testing::write_file(dir + "/MLmodel", mlmodel_yaml(sample_flavor(), "m-7", "r", ""));
  testing::write_file(dir + "/data/model.pt", "weights");
  FakeServer s;
  MlflowClient& client = s.client;
  for (const std::string& uri : {dir, dir + "/MLmodel", "file://" + dir}) {
    CAPTURE(uri);
    auto m = fetch_model(client, uri, tmp.path() + "/unused");
    REQUIRE_MESSAGE(m.ok(), m.status().to_string());
    CHECK(m->dir == dir);
    CHECK(m->weights_path == (fs::path(dir) / "data/model.pt").string());
    CHECK(m->model_id == "m-7");
    CHECK(m->source_uri == uri);
    CHECK(m->flavor.architecture == "mobilenet_v2");
  }
  CHECK_FALSE(fs::exists(tmp.path() + "/unused"));

  auto missing = fetch_model(client, tmp.path() + "/nope", tmp.path() + "/unused");
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(contains(missing.status().message(), tmp.path() + "/nope"));
  auto no_mlmodel = fetch_model(client, tmp.path(), tmp.path() + "/unused");
  CHECK(no_mlmodel.status().code() == StatusCode::kNotFound);
  CHECK(contains(no_mlmodel.status().message(), "holds no MLmodel"));
  fs::remove(dir + "/data/model.pt");
  auto no_weights = fetch_model(client, dir, tmp.path() + "/unused");
  CHECK(no_weights.status().code() == StatusCode::kNotFound);
  CHECK(contains(no_weights.status().message(), "data/model.pt"));
  CHECK(s.transport->requests().empty());
}

TEST_CASE("fetch_model: a hostile listing cannot write outside the destination") {
  FakeServer s;
  s.serve(R"({"files":[{"path":"../../escaped.pt","is_dir":false,"file_size":1}]})",
          [](const std::string&) { return respond(200, "x"); });
  testing::TempDir tmp;
  const std::string work = tmp.path() + "/work";
  fs::create_directories(work);
  auto r = fetch_model(s.client, "models:/m-1", work + "/dest");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInternal);
  CHECK(contains(r.status().message(), "models:/m-1"));
  CHECK(contains(r.status().message(), "unsafe artifact path"));
  check_only(work, {});
  check_only(tmp.path(), {"work"});
}

TEST_CASE(
    "fetch_model: an MLmodel pointing outside the model is refused and nothing is installed") {
  FakeServer s;
  s.serve(R"({"files":[{"path":"MLmodel","is_dir":false,"file_size":1}]})", [](const std::string&) {
    return respond(200,
                   "flavors:\n  libtorch:\n    architecture: a\n    input_shape: [1]\n"
                   "    weights_file: ../../../etc/passwd\n");
  });
  testing::TempDir tmp;
  auto r = fetch_model(s.client, "models:/m-1", tmp.path() + "/dest");
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(r.status().message(), "MLmodel 'models:/m-1'"));
  check_only(tmp.path(), {});
}

TEST_CASE("fetch_model: a failed download leaves no partial model and keeps the earlier one") {
  FakeServer s;
  s.serve(R"({"files":[{"path":"MLmodel","is_dir":false,"file_size":1},)"
          R"({"path":"model.pt","is_dir":false,"file_size":1}]})",
          [](const std::string& name) {
            if (name == "MLmodel") {
              return respond(200, mlmodel_yaml(
                                      [] {
                                        LibtorchFlavor f;
                                        f.architecture = "small_cnn";
                                        f.input_shape = {1, 28, 28};
                                        return f;
                                      }(),
                                      "m-1", "", ""));
            }
            return respond(500, R"({"error_code":"INTERNAL_ERROR","message":"disk on fire"})");
          });
  testing::TempDir tmp;
  const std::string dest = tmp.path() + "/dest";
  auto fresh = fetch_model(s.client, "models:/m-1", dest);
  CHECK_FALSE(fresh.ok());
  CHECK(contains(fresh.status().message(), "fetching model 'models:/m-1'"));
  check_only(tmp.path(), {});

  testing::write_file(dest + "/MLmodel", "old");
  testing::write_file(dest + "/model.pt", "old weights");
  auto again = fetch_model(s.client, "models:/m-1", dest);
  CHECK_FALSE(again.ok());
  check_only(tmp.path(), {"dest"});
  CHECK(testing::read_file(dest + "/model.pt") == "old weights");

  // A directory that holds something else is never replaced.
  const std::string other = tmp.path() + "/other";
  testing::write_file(other + "/notes.txt", "mine");
  auto refused = fetch_model(s.client, "models:/m-1", other);
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(testing::read_file(other + "/notes.txt") == "mine");
}

TEST_CASE("fetch_model: malformed model URIs are refused before anything is sent") {
  FakeServer s;
  testing::TempDir tmp;
  for (const std::string uri : {"models:/", "models:/a/b/c", "models:/@alias", "models:/name@",
                                "models:/name/", "runs:/", "runs:/'x/model"}) {
    CAPTURE(uri);
    auto r = fetch_model(s.client, uri, tmp.path() + "/dest");
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(contains(r.status().message(), uri));
  }
  CHECK(s.transport->requests().empty());
  check_only(tmp.path(), {});
}

TEST_CASE(
    "log_libtorch_model: a failed upload finalizes the model as failed and returns the error") {
  FakeServer s;
  std::vector<std::string> finalized;
  s.transport->set_handler([&finalized](const HttpRequest& r) -> StatusOr<HttpResponse> {
    const std::string model =
        R"({"model":{"info":{"model_id":"m-9","experiment_id":"1","name":"model","status":"PENDING",)"
        R"("source_run_id":"r1","artifact_uri":"mlflow-artifacts:/1/models/m-9/artifacts"}}})";
    if (r.method == "PUT") {
      return respond(500, R"({"error_code":"INTERNAL_ERROR","message":"disk on fire"})");
    }
    if (r.method == "PATCH") {
      finalized.push_back(json::parse(r.body).value("status", ""));
      return respond(200, model);
    }
    if (r.url.find("/logged-models") != std::string::npos) return respond(200, model);
    return respond(200, "{}");  // runs/outputs
  });
  testing::TempDir tmp;
  testing::write_file(tmp.path() + "/w.pt", "weights");
  auto r = log_libtorch_model(s.client, "1", "r1", "model", sample_flavor(), tmp.path() + "/w.pt");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.status().message(), "logging model 'model' (m-9)"));
  CHECK(contains(r.status().message(), "disk on fire"));
  CHECK(finalized == std::vector<std::string>{"LOGGED_MODEL_UPLOAD_FAILED"});
  bool linked = false;
  for (const auto& req : s.transport->requests()) {
    if (req.url.find("/runs/outputs") != std::string::npos) {
      linked = json::parse(req.body)["models"][0]["model_id"] == "m-9";
    }
  }
  CHECK(linked);
}

TEST_CASE("log_libtorch_model: local problems are reported before anything is created") {
  FakeServer s;
  testing::TempDir tmp;
  auto missing =
      log_libtorch_model(s.client, "1", "r1", "model", sample_flavor(), tmp.path() + "/none.pt");
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(contains(missing.status().message(), tmp.path() + "/none.pt"));
  auto a_dir = log_libtorch_model(s.client, "1", "r1", "model", sample_flavor(), tmp.path());
  CHECK(a_dir.status().code() == StatusCode::kInvalidArgument);
  testing::write_file(tmp.path() + "/w.pt", "weights");
  LibtorchFlavor bad = sample_flavor();
  bad.input_shape = {};
  auto bad_flavor = log_libtorch_model(s.client, "1", "r1", "model", bad, tmp.path() + "/w.pt");
  CHECK(bad_flavor.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(bad_flavor.status().message(), "input_shape"));
  auto no_name = log_libtorch_model(s.client, "1", "r1", "", sample_flavor(), tmp.path() + "/w.pt");
  CHECK(no_name.status().code() == StatusCode::kInvalidArgument);
  for (const char* clash : {"data/model.pt", "MLmodel"}) {
    auto extra = log_libtorch_model(s.client, "1", "r1", "model", sample_flavor(),
                                    tmp.path() + "/w.pt", {}, 0, {{clash, "{}"}});
    CHECK(extra.status().message() ==
          std::string("logging LibTorch model 'model': the extra file '") + clash +
              "' would replace the model's own");
  }
  auto no_onnx =
      log_libtorch_model(s.client, "1", "r1", "model", sample_flavor(), tmp.path() + "/w.pt", {}, 0,
                         {}, ModelExtras{{"model.onnx", "1.12.0"}, ""});
  CHECK(
      no_onnx.status().message() ==
      "logging LibTorch model 'model': the ONNX file 'model.onnx' is not among the model's files");
  auto bad_example = log_libtorch_model(s.client, "1", "r1", "model", sample_flavor(),
                                        tmp.path() + "/w.pt", {}, 0, {}, ModelExtras{{}, "{}"});
  CHECK(bad_example.status().code() == StatusCode::kInvalidArgument);
  CHECK(contains(bad_example.status().message(), "input example must be a JSON array"));
  CHECK(s.transport->requests().empty());
}

}  // namespace
}  // namespace mlflow::libtorch

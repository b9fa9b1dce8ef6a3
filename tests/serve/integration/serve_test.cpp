// SPDX-License-Identifier: Apache-2.0
// The built fmnist_serve against the test server, serving a model this test trains and registers:
// the protocols checked by real Python clients, the page in a real browser, a bad model URI, and
// following the alias under load (a good version swapped in, a broken one refused) with zero
// failed requests.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/test_support.h"

namespace {

using mlflow::testing::BackgroundProcess;
using mlflow::testing::run_process;
using mlflow::testing::server_env;
using mlflow::testing::TempDir;
using mlflow::testing::unique_name;
using Json = nlohmann::json;

const std::string kVenvPython = std::string(MLFLOW_CPP_SOURCE_DIR) + "/mlflow/.venv/bin/python";

// Trains a small SmallCNN for one epoch and registers it as NAME@champion (version 1).
std::string train_and_register(const std::string& name) {
  const auto t =
      run_process(FMNIST_TRAIN_PATH,
                  {"--experiment", unique_name("serve"), "--train_limit", "3000", "--max_epochs",
                   "1", "--threads", "2", "--quiet", "--register", name, "--alias", "champion"},
                  server_env());
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  return t.out.substr(0, t.out.find('\n'));
}

// fmnist_serve on a free port; waits for its "serving ... on http://HOST:PORT/" line.
struct ServeProcess {
  TempDir dir;
  std::unique_ptr<BackgroundProcess> process;
  std::string url;
  int port = 0;

  explicit ServeProcess(std::vector<std::string> args) {
    args.insert(args.end(), {"--port", "0", "--threads", "1"});
    process = std::make_unique<BackgroundProcess>(FMNIST_SERVE_PATH, args, server_env(),
                                                  dir.path() + "/serve.log");
    const std::regex line(R"(on http://([0-9.]+):([0-9]+)/)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::smatch m;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto out = process->output();
      if (std::regex_search(out, m, line)) {
        port = std::stoi(m[2]);
        url = "http://127.0.0.1:" + m[2].str();
        return;
      }
      REQUIRE_MESSAGE(process->running(), "fmnist_serve exited: " << out);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL("fmnist_serve did not start: " << process->output());
  }
};

Json get_json(const std::string& base, const std::string& path) {
  httplib::Client client(base);
  auto res = client.Get(path);
  REQUIRE(res);
  return Json::parse(res->body);
}

std::string one_image_request() {
  Json flat = Json::array();
  for (int i = 0; i < 784; ++i) flat.push_back((i % 28) / 28.0);
  return Json{{"inputs", Json::array({flat})}}.dump();
}

}  // namespace

TEST_CASE(
    "fmnist_serve: MLflow's scoring client, the documented payloads, Open Inference "
    "Protocol v2, bad input and overload, for a model the test trained and registered") {
  const std::string name = unique_name("serve-protocols");
  train_and_register(name);
  ServeProcess serve({"--model", "models:/" + name + "@champion"});
  const auto check = run_process(kVenvPython, {std::string(MLFLOW_CPP_SOURCE_DIR) +
                                                   "/tests/serve/integration/protocol_check.py",
                                               serve.url, name, "1"});
  INFO(check.out);
  INFO(check.err);
  CHECK(check.exit_code == 0);
  CHECK(serve.process->running());

  // Overload: a tiny queue and few requests in flight; 40 requests of 64 images at once get 200,
  // 429 or 503 with a JSON error, and the server keeps serving.
  ServeProcess tight({"--model", "models:/" + name + "@champion", "--max-batch", "1", "--max-queue",
                      "64", "--max-in-flight", "4", "--http-threads", "48"});
  Json many = Json::array();
  for (int i = 0; i < 64; ++i) many.push_back(Json::parse(one_image_request())["inputs"][0]);
  const std::string heavy = Json{{"inputs", many}}.dump();
  std::vector<int> statuses(40, 0);
  std::vector<std::string> codes(40);
  {
    std::vector<std::thread> burst;
    for (std::size_t i = 0; i < statuses.size(); ++i) {
      burst.emplace_back([&, i] {
        httplib::Client http(tight.url);
        auto res = http.Post("/invocations", heavy, "application/json");
        if (!res) return;
        statuses[i] = res->status;
        if (res->status != 200) codes[i] = Json::parse(res->body).value("error_code", "");
      });
    }
    for (auto& t : burst) t.join();
  }
  int answered = 0;
  int refused = 0;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    INFO("request " << i << ": HTTP " << statuses[i] << " " << codes[i]);
    CHECK((statuses[i] == 200 || statuses[i] == 429 || statuses[i] == 503));
    if (statuses[i] == 200) ++answered;
    if (statuses[i] == 429) CHECK(codes[i] == "RESOURCE_EXHAUSTED");
    if (statuses[i] == 503) CHECK(codes[i] == "TEMPORARILY_UNAVAILABLE");
    if (statuses[i] == 429 || statuses[i] == 503) ++refused;
  }
  MESSAGE("overload burst: ", answered, " answered, ", refused, " refused");
  CHECK(answered >= 1);
  CHECK(refused >= 1);
  httplib::Client after(tight.url);
  auto res = after.Post("/invocations", one_image_request(), "application/json");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(tight.process->running());
  // SIGTERM ends it cleanly.
  const int status = serve.process->stop();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE(
    "fmnist_serve: the page in headless Chromium shows the model, classifies an uploaded test "
    "image and a drawing, and shows a bad upload's error") {
  const std::string name = unique_name("serve-page");
  train_and_register(name);
  ServeProcess serve({"--model", "models:/" + name + "@champion"});
  // page_test.py leaves its screenshots in build/test-artifacts/page/fmnist_serve/ (page.png: the
  // page after the upload, 1280x800).
  const auto page =
      run_process(MLFLOW_CPP_PAGE_TEST_PYTHON,
                  {std::string(MLFLOW_CPP_SOURCE_DIR) + "/tests/serve/page_test.py", "--url",
                   serve.url, "--fmnist-test-image", "0", "--expect-name", name, "--expect-version",
                   "1", "--expect-alias", "champion", "--screenshot",
                   std::string(MLFLOW_CPP_PAGE_ARTIFACTS) + "/fmnist_serve/page.png"});
  INFO(page.out);
  INFO(page.err);
  CHECK(page.exit_code == 0);
  CHECK(serve.process->running());
}

TEST_CASE(
    "fmnist_serve: drift is watched against the model's own reference: clean test windows pass, "
    "inverted images alert, in /health, /metrics and the MLflow monitoring run") {
  const std::string name = unique_name("serve-drift");
  train_and_register(name);
  const std::string experiment = unique_name("serve-monitoring");
  ServeProcess serve(
      {"--model", "models:/" + name + "@champion", "--monitor-experiment", experiment});
  const auto check =
      run_process(kVenvPython,
                  {std::string(MLFLOW_CPP_SOURCE_DIR) + "/tests/serve/integration/drift_check.py",
                   serve.url, experiment},
                  server_env());
  INFO(check.out);
  INFO(check.err);
  CHECK(check.exit_code == 0);
  MESSAGE(check.out);
}

TEST_CASE(
    "fmnist_serve: a model URI that does not resolve exits 2 naming it, and --help says it "
    "listens on loopback unless asked") {
  const std::string missing = "models:/" + unique_name("no-such-model") + "@champion";
  const auto r = run_process(FMNIST_SERVE_PATH, {"--model", missing, "--port", "0"}, server_env());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(missing) != std::string::npos);
  const auto bad_flag = run_process(FMNIST_SERVE_PATH, {"--max-batch", "0"}, server_env());
  CHECK(bad_flag.exit_code == 2);
  const auto help = run_process(FMNIST_SERVE_PATH, {"--help"}, {});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("127.0.0.1") != std::string::npos);
}

TEST_CASE(
    "fmnist_serve: follows the alias under load: a new version swaps in and a broken one is "
    "refused, with zero failed requests") {
  const std::string name = unique_name("serve-follow");
  const std::string run_id = train_and_register(name);
  auto client = mlflow::testing::test_client();
  auto v1 = client.get_model_version(name, "1");
  REQUIRE(v1.ok());
  ServeProcess serve({"--model", "models:/" + name + "@champion", "--poll-seconds", "0.3"});

  // Two clients send requests back to back for the whole test and count failures.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::string> versions_seen[2];
  std::vector<std::thread> load;
  // Joined on every way out, a failed REQUIRE included.
  struct JoinAll {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinAll() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_all{stop, load};
  const std::string body = one_image_request();
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&, t] {
      httplib::Client http(serve.url);
      while (!stop) {
        auto res = http.Post("/v2/models/" + name + "/infer",
                             Json{{"inputs",
                                   {{{"name", "images"},
                                     {"shape", {1, 784}},
                                     {"datatype", "FP32"},
                                     {"data", Json::parse(body)["inputs"][0]}}}}}
                                 .dump(),
                             "application/json");
        if (res && res->status == 200) {
          ++ok;
          const auto v = Json::parse(res->body)["model_version"].get<std::string>();
          if (versions_seen[t].empty() || versions_seen[t].back() != v) {
            versions_seen[t].push_back(v);
          }
        } else {
          ++failed;
        }
      }
    });
  }
  auto wait_for = [&](auto&& done, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(get_json(serve.url, "/health"))) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL("timed out waiting for " << what << ": " << get_json(serve.url, "/health").dump());
  };

  // Version 2 (the same logged model registered again) becomes the champion.
  const std::string model_id =
      v1->model_id.empty() ? v1->source.substr(std::string("models:/").size()) : v1->model_id;
  auto v2 = client.create_model_version({name, v1->source, run_id, model_id, "", {}});
  REQUIRE_MESSAGE(v2.ok(), v2.status().to_string());
  REQUIRE(client.set_registered_model_alias(name, "champion", v2->version).ok());
  wait_for([](const Json& h) { return h["model"]["version"] == "2"; }, "version 2");

  // Version 3 is not a LibTorch model: it fails to load and version 2 keeps serving.
  REQUIRE(client.log_artifact_bytes(run_id, "flavors:\n  python_function: {}\n", "broken/MLmodel")
              .ok());
  auto v3 = client.create_model_version({name, "runs:/" + run_id + "/broken", run_id, "", "", {}});
  REQUIRE_MESSAGE(v3.ok(), v3.status().to_string());
  REQUIRE(client.set_registered_model_alias(name, "champion", v3->version).ok());
  wait_for([](const Json& h) { return h["reload"]["failed_version"] == "3"; }, "the failure");
  // Requests keep flowing a little longer after the failure.
  const int ok_at_failure = ok.load();
  while (ok.load() < ok_at_failure + 50) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& t : load) t.join();

  const auto health = get_json(serve.url, "/health");
  CHECK(health["model"]["version"] == "2");
  CHECK(health["reload"]["last_error"].get<std::string>().find("version 3") != std::string::npos);
  httplib::Client http(serve.url);
  auto metrics = http.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("fmnist_serve_reloads_total{result=\"failed\"} 1") != std::string::npos);
  CHECK(metrics->body.find("fmnist_serve_reloads_total{result=\"ok\"} 1") != std::string::npos);
  CHECK(metrics->body.find("fmnist_serve_model_version 2") != std::string::npos);
  MESSAGE(ok.load(), " requests answered across the swap, ", failed.load(), " failed");
  CHECK(failed.load() == 0);
  CHECK(ok.load() > 100);
  for (const auto& seen : versions_seen) {
    CHECK(seen == std::vector<std::string>{"1", "2"});
  }
}

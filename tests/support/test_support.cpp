// SPDX-License-Identifier: Apache-2.0
// Test helpers.
#include "support/test_support.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base64.h"

namespace mlflow::testing {

namespace fs = std::filesystem;

std::string server_url() {
  const char* file = std::getenv("MLFLOW_CPP_TEST_SERVER_FILE");
  REQUIRE_MESSAGE(file != nullptr,
                  "MLFLOW_CPP_TEST_SERVER_FILE is not set: run integration tests through ctest, "
                  "which starts the MLflow server fixture");
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  REQUIRE_MESSAGE(!url.empty(), "no server URL in " << file << ": did mlflow_server_start fail?");
  return url;
}

std::string base64(const std::string& bytes) { return detail::base64_encode(bytes); }

std::vector<std::string> server_env() { return {"MLFLOW_TRACKING_URI=" + server_url()}; }

ClientOptions test_options(const std::string& url) {
  ClientOptions o;
  o.tracking_uri = url;
  o.retry.max_retries = 3;
  o.retry.backoff_factor = std::chrono::milliseconds(100);
  o.retry.backoff_jitter = std::chrono::milliseconds(50);
  o.retry.request_timeout = std::chrono::seconds(60);
  return o;
}

MlflowClient test_client() {
  auto c = MlflowClient::make(test_options(server_url()));
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  return *c;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const auto salt = std::random_device{}();
  std::ostringstream s;
  s << prefix << "-" << ::getpid() << "-" << counter++ << "-" << std::hex << salt;
  return s.str();
}

RunRef new_run(MlflowClient& client, const std::string& prefix) {
  auto exp = client.get_or_create_experiment(unique_name(prefix));
  REQUIRE_MESSAGE(exp.ok(), exp.status().to_string());
  auto run = client.create_run({*exp, prefix, std::nullopt, {}});
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  return {*exp, run->info.run_id};
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "mlflow-cpp-test-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

unsigned file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void FakeTransport::push(int status, std::string body, Headers headers) {
  std::lock_guard<std::mutex> lock(mu_);
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  queue_.emplace_back(std::move(r));
}

void FakeTransport::push_error(StatusCode code, std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.emplace_back(Status(code, std::move(message)));
}

void FakeTransport::set_handler(std::function<StatusOr<HttpResponse>(const HttpRequest&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

StatusOr<HttpResponse> FakeTransport::send(const HttpRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(request);
  if (handler_) return handler_(request);
  if (queue_.empty())
    return Status(StatusCode::kUnavailable, "FakeTransport: no scripted response");
  auto r = std::move(queue_.front());
  queue_.pop_front();
  return r;
}

std::vector<HttpRequest> FakeTransport::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

}  // namespace mlflow::testing

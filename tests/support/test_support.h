// SPDX-License-Identifier: Apache-2.0
// Test helpers: the real test server's client, unique names, and fakes for transport and time.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "mlflow/http.h"

namespace mlflow::testing {

/// URL of the MLflow server started by the CTest fixture (read from $MLFLOW_CPP_TEST_SERVER_FILE).
/// Fails the current test (never skips) when the fixture did not run.
std::string server_url();

/// {"MLFLOW_TRACKING_URI=<server_url()>"}: the environment for a program under test (run_process).
std::vector<std::string> server_env();

/// Options for `url` with small retry settings so failures surface quickly.
ClientOptions test_options(const std::string& url);

/// A client for server_url() with test_options().
MlflowClient test_client();

/// "prefix-<pid>-<counter>-<salt>": unique across test processes sharing one server.
std::string unique_name(const std::string& prefix);

/// `bytes` in base64 by the library's own encoder (the one behind Authorization: Basic), for tests
/// that look for leaked credentials.
std::string base64(const std::string& bytes);

/// A run created directly with the client in a fresh experiment named after `prefix`.
struct RunRef {
  std::string experiment_id;
  std::string run_id;
};
RunRef new_run(MlflowClient& client, const std::string& prefix);

/// A fresh temporary directory, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Writes `content` to `path`, creating parent directories.
void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);
/// The permission bits of `path` (e.g. 0600); fails the test when it cannot be stat()ed.
unsigned file_mode(const std::string& path);

/// Scripted transport: answers from a queue (a response or a transport error) and records requests.
class FakeTransport final : public HttpTransport {
 public:
  void push(int status, std::string body, Headers headers = {});
  void push_error(StatusCode code, std::string message);
  /// Answer every request with this function instead of the queue.
  void set_handler(std::function<StatusOr<HttpResponse>(const HttpRequest&)> handler);
  StatusOr<HttpResponse> send(const HttpRequest& request) override;
  std::vector<HttpRequest> requests() const;

 private:
  mutable std::mutex mu_;
  std::deque<StatusOr<HttpResponse>> queue_;
  std::vector<HttpRequest> requests_;
  std::function<StatusOr<HttpResponse>(const HttpRequest&)> handler_;
};

/// Clock whose sleep_for only advances time and records the waits.
class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return now_; }
  void sleep_for(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    now_ += d;
  }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  std::chrono::steady_clock::time_point now_{};
};

}  // namespace mlflow::testing

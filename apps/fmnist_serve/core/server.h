// SPDX-License-Identifier: Apache-2.0
// The HTTP side of fmnist_serve (cpp-httplib): the routes of MLflow's scoring protocol, Open
// Inference Protocol v2, the projects' /classes and /predict, /metrics and the page, with the
// limits that keep an overloaded server answering: body size, requests in flight, queue depth.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "batcher.h"
#include "image_input.h"
#include "model_holder.h"
#include "serve_metrics.h"

namespace mlflow::serve {

/// Where and how the server listens.
struct ServerOptions {
  std::string host = "127.0.0.1";                      ///< loopback unless asked otherwise
  int port = 8080;                                     ///< 0: any free port (see Server::bind)
  std::size_t max_body_bytes = std::size_t{16} << 20;  ///< larger bodies get 413
  int http_threads = 16;                               ///< connections served at once
  int max_in_flight = 256;                             ///< inference requests at once; more get 503
  std::chrono::seconds request_timeout{30};            ///< an answer not ready by then gets 503
  std::string version;      ///< mlflow-cpp's version, for GET /version and GET /v2
  ImageInputOptions image;  ///< limits and rules for POST /predict uploads
};

/// Everything the routes read besides the request. The references must outlive the Server.
struct ServeContext {
  const ModelHolder& models;
  Batcher& batcher;
  ServeMetrics& metrics;
  /// Extra JSON for GET /health (reload and drift state); may be empty.
  std::function<nlohmann::json()> health_details;
};

/// The routes. Handlers are public so unit tests can call them with hand-made requests.
class Server {
 public:
  Server(ServerOptions options, ServeContext context);

  /// Binds options.host:options.port (port 0: a free one). Returns the port, or kUnavailable
  /// naming the address when it cannot be bound.
  StatusOr<int> bind();
  /// Serves until stop(); call after bind().
  void listen();
  void stop();

  void ping(const httplib::Request& req, httplib::Response& res) const;
  void health(const httplib::Request& req, httplib::Response& res) const;
  void version(const httplib::Request& req, httplib::Response& res) const;
  void invocations(const httplib::Request& req, httplib::Response& res);
  void v2_server(const httplib::Request& req, httplib::Response& res) const;
  void v2_live(const httplib::Request& req, httplib::Response& res) const;
  void v2_ready(const httplib::Request& req, httplib::Response& res) const;
  /// /v2/models/{name}[/versions/{v}] (metadata) and .../ready.
  void v2_model(const httplib::Request& req, httplib::Response& res) const;
  void v2_infer(const httplib::Request& req, httplib::Response& res);
  void classes(const httplib::Request& req, httplib::Response& res) const;
  /// An uploaded image (multipart field "file", or the raw bytes with an image/* content type)
  /// classified: {"class", "class_name", "probabilities", "top", "model", "input"}.
  void predict(const httplib::Request& req, httplib::Response& res);
  void metrics(const httplib::Request& req, httplib::Response& res) const;
  /// GET /: the page to try the model (page.h).
  void page(const httplib::Request& req, httplib::Response& res) const;

  /// The route label of `path` in the metrics (a fixed set, so labels stay few).
  static std::string route_of(const std::string& path);

 private:
  /// Runs `n` images through the batcher; fills `res` with an error and returns null on failure.
  /// `oip` selects the Open Inference Protocol's error body ({"error": ...}).
  std::unique_ptr<BatchResult> infer(std::vector<float> images, std::int64_t n,
                                     httplib::Response& res, bool oip);
  /// Null with a 404 in `res` when the name (and version, when given) is not the served model's.
  std::shared_ptr<Predictor> model_named(const httplib::Request& req, httplib::Response& res) const;

  ServerOptions options_;
  ServeContext context_;
  std::atomic<int> in_flight_{0};
  httplib::Server http_;
};

/// Writes an MLflow-style JSON error {"error_code", "message"} with `status`.
void json_error(httplib::Response& res, int status, const std::string& error_code,
                const std::string& message);

}  // namespace mlflow::serve

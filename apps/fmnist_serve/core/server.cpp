// SPDX-License-Identifier: Apache-2.0
#include "server.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "page.h"
#include "tensor_payload.h"

namespace mlflow::serve {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
// MLflow's scoring server names its JSON content type and allows only charset=utf-8 with it.
constexpr const char* kModelPattern = R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)";

// The request's arrival, set before routing (httplib serves a request on one thread).
thread_local Clock::time_point request_start;

void oip_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(Json{{"error", message}}.dump(), kJson);
}

// HTTP status and MLflow error code of a Status from parsing or the batcher.
std::pair<int, const char*> http_of(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return {400, "BAD_REQUEST"};
    case StatusCode::kResourceExhausted:
      return {429, "RESOURCE_EXHAUSTED"};
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return {503, "TEMPORARILY_UNAVAILABLE"};
    default:
      return {500, "INTERNAL_ERROR"};
  }
}

// "application/json" or "application/json; charset=utf-8" (any case), as MLflow accepts.
bool is_json_content_type(const std::string& content_type) {
  auto lower = content_type;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  lower.erase(std::remove(lower.begin(), lower.end(), ' '), lower.end());
  return lower == "application/json" || lower == "application/json;charset=utf-8";
}

Json model_json(const ModelInfo& info) {
  return {{"name", info.name},
          {"version", info.version},
          {"alias", info.alias},
          {"uri", info.uri},
          {"model_id", info.model_id},
          {"run_id", info.run_id},
          {"architecture", info.architecture}};
}

}  // namespace

void json_error(httplib::Response& res, int status, const std::string& error_code,
                const std::string& message) {
  res.status = status;
  res.set_content(Json{{"error_code", error_code}, {"message", message}}.dump(), kJson);
}

Server::Server(ServerOptions options, ServeContext context)
    : options_(std::move(options)), context_(std::move(context)) {
  const int threads = std::max(1, options_.http_threads);
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_payload_max_length(options_.max_body_bytes);
  // httplib sends headers and body separately: without this, Nagle's algorithm holds the body of
  // back-to-back answers on a keep-alive connection until the client's delayed ACK (40 ms).
  http_.set_tcp_nodelay(true);
  http_.set_keep_alive_timeout(5);
  http_.set_read_timeout(10);
  http_.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    context_.metrics.record_request(route_of(req.path), res.status, Clock::now() - request_start);
  });
  // httplib's own refusals (413, 404, 400 on a bad request line) get a JSON body too.
  http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message =
        res.status == 413   ? "the request body is larger than the server's limit"
        : res.status == 404 ? "no route " + req.method + " " + req.path
                            : "the request was refused (HTTP " + std::to_string(res.status) + ")";
    json_error(res, res.status, res.status == 404 ? "ENDPOINT_NOT_FOUND" : "BAD_REQUEST", message);
  });
  http_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
        json_error(res, 500, "INTERNAL_ERROR", "the server failed on this request");
      });

  http_.Get("/ping", [this](const auto& q, auto& s) { ping(q, s); });
  http_.Get("/health", [this](const auto& q, auto& s) { health(q, s); });
  http_.Get("/version", [this](const auto& q, auto& s) { version(q, s); });
  http_.Post("/invocations", [this](const auto& q, auto& s) { invocations(q, s); });
  http_.Get("/v2", [this](const auto& q, auto& s) { v2_server(q, s); });
  http_.Get("/v2/health/live", [this](const auto& q, auto& s) { v2_live(q, s); });
  http_.Get("/v2/health/ready", [this](const auto& q, auto& s) { v2_ready(q, s); });
  http_.Get(kModelPattern, [this](const auto& q, auto& s) { v2_model(q, s); });
  http_.Get(std::string(kModelPattern) + "/ready",
            [this](const auto& q, auto& s) { v2_model(q, s); });
  http_.Post(std::string(kModelPattern) + "/infer",
             [this](const auto& q, auto& s) { v2_infer(q, s); });
  http_.Get("/classes", [this](const auto& q, auto& s) { classes(q, s); });
  http_.Post("/predict", [this](const auto& q, auto& s) { predict(q, s); });
  http_.Get("/metrics", [this](const auto& q, auto& s) { metrics(q, s); });
  http_.Get("/", [this](const auto& q, auto& s) { page(q, s); });
}

StatusOr<int> Server::bind() {
  const bool any = options_.port == 0;
  const int port = any ? http_.bind_to_any_port(options_.host)
                       : (http_.bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port <= 0) {
    return Status(StatusCode::kUnavailable,
                  fmt::format("cannot listen on {}:{} (in use, or not an address of this host)",
                              options_.host, options_.port));
  }
  return port;
}

void Server::listen() { http_.listen_after_bind(); }
void Server::stop() { http_.stop(); }

std::string Server::route_of(const std::string& path) {
  if (path.rfind("/v2/models/", 0) == 0) {
    if (path.size() >= 6 && path.compare(path.size() - 6, 6, "/infer") == 0) return "/v2/infer";
    return "/v2/models";
  }
  for (const char* known :
       {"/ping", "/health", "/version", "/invocations", "/v2", "/v2/health/live",
        "/v2/health/ready", "/classes", "/predict", "/metrics", "/"}) {
    if (path == known) return known;
  }
  return "other";
}

void Server::ping(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  // As MLflow's scoring server: 200 with a newline once the model is loaded.
  res.status = context_.models.current() ? 200 : 503;
  res.set_content("\n", kJson);
}

void Server::health(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  auto model = context_.models.current();
  Json body{{"status", model ? "ok" : "loading"}};
  if (model) body["model"] = model_json(model->info());
  body["queued_images"] = context_.batcher.queued_images();
  if (context_.health_details) body.update(context_.health_details());
  res.status = model ? 200 : 503;
  res.set_content(body.dump(), kJson);
}

void Server::version(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  res.set_content(options_.version, "text/plain");
}

std::unique_ptr<BatchResult> Server::infer(std::vector<float> images, std::int64_t n,
                                           httplib::Response& res, bool oip) {
  auto fail = [&](int status, const char* code, const std::string& message) {
    if (oip) {
      oip_error(res, status, message);
    } else {
      json_error(res, status, code, message);
    }
    return nullptr;
  };
  // Counted for the whole wait, so a flood of slow requests is refused before it queues.
  const int now_in_flight = ++in_flight_;
  struct Leave {
    std::atomic<int>& count;
    ~Leave() { --count; }
  } leave{in_flight_};
  if (now_in_flight > options_.max_in_flight) {
    return fail(503, "TEMPORARILY_UNAVAILABLE",
                fmt::format("the server is overloaded: more than {} requests in flight; retry "
                            "later",
                            options_.max_in_flight));
  }
  auto future = context_.batcher.submit(std::move(images), n);
  context_.metrics.set_queued(context_.batcher.queued_images());
  if (!future.ok()) {
    auto [status, code] = http_of(future.status());
    return fail(status, code, future.status().message());
  }
  if (future->wait_for(options_.request_timeout) != std::future_status::ready) {
    return fail(503, "TEMPORARILY_UNAVAILABLE",
                fmt::format("no answer within {} s; the server is overloaded",
                            options_.request_timeout.count()));
  }
  auto result = std::make_unique<BatchResult>(future->get());
  if (!result->status.ok()) {
    auto [status, code] = http_of(result->status);
    return fail(status, code, result->status.message());
  }
  return result;
}

void Server::invocations(const httplib::Request& req, httplib::Response& res) {
  res.status = 200;
  const auto content_type = req.get_header_value("Content-Type");
  if (!is_json_content_type(content_type)) {
    json_error(res, 415, "BAD_REQUEST",
               fmt::format("this server takes Content-Type application/json (charset utf-8); "
                           "got '{}'",
                           content_type));
    return;
  }
  auto batch = parse_scoring_request(req.body);
  if (!batch.ok()) {
    json_error(res, 400, "BAD_REQUEST", batch.status().message());
    return;
  }
  const auto n = batch->n;
  auto result = infer(std::move(batch->images), n, res, false);
  if (result) res.set_content(scoring_response(result->probabilities, n), kJson);
}

void Server::v2_server(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  res.set_content(
      Json{{"name", "fmnist_serve"}, {"version", options_.version}, {"extensions", Json::array()}}
          .dump(),
      kJson);
}

void Server::v2_live(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  res.set_content(Json{{"live", true}}.dump(), kJson);
}

void Server::v2_ready(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  const bool ready = context_.models.current() != nullptr;
  res.status = ready ? 200 : 503;
  res.set_content(Json{{"ready", ready}}.dump(), kJson);
}

std::shared_ptr<Predictor> Server::model_named(const httplib::Request& req,
                                               httplib::Response& res) const {
  auto model = context_.models.current();
  if (!model) {
    oip_error(res, 503, "no model is loaded yet");
    return nullptr;
  }
  const std::string name = req.matches.size() > 1 ? req.matches[1].str() : "";
  const std::string version = req.matches.size() > 2 ? req.matches[2].str() : "";
  const auto& info = model->info();
  if (name != info.name) {
    oip_error(res, 404,
              fmt::format("unknown model '{}'; this server serves '{}'", name, info.name));
    return nullptr;
  }
  if (!version.empty() && version != info.version) {
    oip_error(res, 404,
              fmt::format("model '{}' has no version '{}' here; version '{}' is served", name,
                          version, info.version));
    return nullptr;
  }
  return model;
}

void Server::v2_model(const httplib::Request& req, httplib::Response& res) const {
  res.status = 200;
  auto model = model_named(req, res);
  if (!model) return;
  const auto& info = model->info();
  if (req.path.size() >= 6 && req.path.compare(req.path.size() - 6, 6, "/ready") == 0) {
    res.set_content(Json{{"name", info.name}, {"ready", true}}.dump(), kJson);
    return;
  }
  Json versions = Json::array();
  if (!info.version.empty()) versions.push_back(info.version);
  res.set_content(Json{{"name", info.name},
                       {"versions", versions},
                       {"platform", "libtorch"},
                       {"inputs", Json::array({Json{{"name", "images"},
                                                    {"datatype", "FP32"},
                                                    {"shape", {-1, 1, kImageSide, kImageSide}}}})},
                       {"outputs", Json::array({Json{{"name", "probabilities"},
                                                     {"datatype", "FP32"},
                                                     {"shape", {-1, info.class_names.size()}}}})}}
                      .dump(),
                  kJson);
}

void Server::v2_infer(const httplib::Request& req, httplib::Response& res) {
  res.status = 200;
  auto model = model_named(req, res);
  if (!model) return;
  auto batch = parse_inference_request(req.body);
  if (!batch.ok()) {
    oip_error(res, 400, batch.status().message());
    return;
  }
  const auto n = batch->n;
  auto result = infer(std::move(batch->images), n, res, true);
  if (!result) return;
  const auto& info = result->model->info();
  res.set_content(inference_response(result->probabilities, n, info.name, info.version, batch->id),
                  kJson);
}

void Server::classes(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  auto model = context_.models.current();
  if (!model) {
    json_error(res, 503, "TEMPORARILY_UNAVAILABLE", "no model is loaded yet");
    return;
  }
  res.set_content(Json{{"classes", model->info().class_names}}.dump(), kJson);
}

void Server::predict(const httplib::Request& req, httplib::Response& res) {
  res.status = 200;
  std::string_view bytes;
  if (req.is_multipart_form_data()) {
    if (!req.has_file("file")) {
      json_error(res, 400, "BAD_REQUEST", "the form has no field \"file\" holding the image");
      return;
    }
    bytes = req.files.find("file")->second.content;
  } else {
    const auto type = req.get_header_value("Content-Type");
    if (type.rfind("image/", 0) != 0 && type != "application/octet-stream") {
      json_error(res, 415, "BAD_REQUEST",
                 fmt::format("POST /predict takes an image: multipart/form-data with a field "
                             "\"file\", or the bytes with Content-Type image/png or image/jpeg; "
                             "got '{}'",
                             type));
      return;
    }
    bytes = req.body;
  }
  auto input = image_to_input(bytes, options_.image);
  if (!input.ok()) {
    json_error(res, 400, "BAD_REQUEST", input.status().message());
    return;
  }
  auto result = infer(std::move(input->pixels), 1, res, false);
  if (!result) return;
  const auto& info = result->model->info();
  const auto& p = result->probabilities;
  std::vector<std::size_t> order(p.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&p](std::size_t a, std::size_t b) { return p[a] > p[b]; });
  auto name_of = [&info](std::size_t k) {
    return k < info.class_names.size() ? info.class_names[k] : std::to_string(k);
  };
  Json top = Json::array();
  for (std::size_t i = 0; i < std::min<std::size_t>(3, order.size()); ++i) {
    top.push_back(
        {{"class", order[i]}, {"class_name", name_of(order[i])}, {"probability", p[order[i]]}});
  }
  res.set_content(
      Json{{"class", order.front()},
           {"class_name", name_of(order.front())},
           {"probabilities", p},
           {"top", top},
           {"model", {{"name", info.name}, {"version", info.version}, {"alias", info.alias}}},
           {"input",
            {{"width", input->width}, {"height", input->height}, {"inverted", input->inverted}}}}
          .dump(),
      kJson);
}

void Server::metrics(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  context_.metrics.set_queued(context_.batcher.queued_images());
  res.set_content(context_.metrics.text(), "text/plain; version=0.0.4");
}

void Server::page(const httplib::Request&, httplib::Response& res) const {
  res.status = 200;
  // Revalidated on every visit, so a browser never keeps a page older than the server it talks to.
  res.set_header("Cache-Control", "no-cache");
  const std::string_view html = index_page();
  res.set_content(html.data(), html.size(), "text/html; charset=utf-8");
}

}  // namespace mlflow::serve

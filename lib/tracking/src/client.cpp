// SPDX-License-Identifier: Apache-2.0
// MlflowClient construction and the shared request path (auth, retries, error mapping).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>

#include "base64.h"
#include "client_impl.h"
#include "errors.h"
#include "retry.h"
#include "url.h"

namespace mlflow {

namespace {

UniformRandom default_random() {
  auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return [gen, mu] {
    std::lock_guard<std::mutex> lock(*mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(*gen);
  };
}

}  // namespace

Status require_nonempty(const std::string& what, const std::string& value) {
  if (value.empty()) return Status(StatusCode::kInvalidArgument, what + " must not be empty");
  return Status();
}

StatusOr<MlflowClient> MlflowClient::make(const ClientOptions& options, ClientDeps deps) {
  auto parsed = detail::parse_url(options.tracking_uri);
  if (!parsed.ok()) return parsed.status();
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    return Status(
        StatusCode::kInvalidArgument,
        fmt::format("unsupported tracking URI scheme '{}' in '{}': MlflowClient needs "
                    "http:// or https:// (use mlflow::connect() for sqlite:/// local mode)",
                    parsed->scheme, detail::redact_url(options.tracking_uri)));
  }
  if (parsed->host.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "tracking URI '" + detail::redact_url(options.tracking_uri) + "' has no host");
  }
  if (options.retry.max_retries < 0 || options.retry.max_retries > 10) {
    return Status(StatusCode::kInvalidArgument, "retry.max_retries must be in [0, 10]");
  }
  auto impl = std::make_shared<Impl>();
  impl->options = options;
  impl->host_port = parsed->authority();
  std::string prefix = parsed->path;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  impl->base_url = parsed->scheme + "://" + impl->host_port + prefix;
  impl->options.tracking_uri = impl->base_url;

  std::string user = options.username, pass = options.password;
  if (user.empty() && pass.empty() && !parsed->userinfo.empty()) {
    auto c = parsed->userinfo.find(':');
    user = parsed->userinfo.substr(0, c);
    pass = c == std::string::npos ? "" : parsed->userinfo.substr(c + 1);
  }
  if (!user.empty() && !pass.empty()) {
    impl->auth_headers.emplace_back("Authorization",
                                    "Basic " + detail::base64_encode(user + ":" + pass));
  } else if (!options.token.empty()) {
    impl->auth_headers.emplace_back("Authorization", "Bearer " + options.token);
  }
  impl->auth_headers.emplace_back("User-Agent", "mlflow-cpp/0.1");
  impl->transport = deps.transport
                        ? std::move(deps.transport)
                        : make_curl_transport({options.insecure_tls, options.server_cert_path,
                                               options.client_cert_path});
  impl->clock = deps.clock ? std::move(deps.clock) : system_clock();
  impl->random = deps.random ? std::move(deps.random) : default_random();
  return MlflowClient(std::move(impl));
}

MlflowClient::MlflowClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
const std::string& MlflowClient::tracking_uri() const { return impl_->base_url; }
const std::string& MlflowClient::store_uri() const {
  return impl_->store_uri.empty() ? impl_->base_url : impl_->store_uri;
}
const ClientOptions& MlflowClient::options() const { return impl_->options; }

MlflowClient detail::ClientAccess::with_store(const MlflowClient& client, std::string store_uri) {
  auto impl = std::make_shared<MlflowClient::Impl>(*client.impl_);
  impl->store_uri = std::move(store_uri);
  return MlflowClient(std::move(impl));
}

MlflowClient MlflowClient::derive(
    const RetryOptions& retry,
    const std::function<std::shared_ptr<HttpTransport>(std::shared_ptr<HttpTransport>)>&
        wrap_transport) const {
  auto impl = std::make_shared<Impl>(*impl_);
  impl->options.retry = retry;
  if (wrap_transport) impl->transport = wrap_transport(impl->transport);
  return MlflowClient(std::move(impl));
}

std::string MlflowClient::run_ui_url(const std::string& experiment_id,
                                     const std::string& run_id) const {
  // MLflow 3.x's UI is a hash router: the query goes after the route, inside the fragment. Without
  // it the UI follows its global GenAI / model-training switch, GenAI by default.
  return impl_->base_url + "/#/experiments/" + experiment_id + "/runs/" + run_id +
         "?workflowType=machine_learning";
}

StatusOr<HttpResponse> MlflowClient::Impl::exchange(const std::string& method,
                                                    const std::string& path_and_query,
                                                    std::string body, Headers headers,
                                                    bool absolute_url,
                                                    bool fresh_connection) const {
  return send(request(method, path_and_query, std::move(body), std::move(headers), absolute_url,
                      fresh_connection));
}

HttpRequest MlflowClient::Impl::request(const std::string& method,
                                        const std::string& path_and_query, std::string body,
                                        Headers headers, bool absolute_url,
                                        bool fresh_connection) const {
  HttpRequest req;
  req.method = method;
  req.fresh_connection = fresh_connection;
  req.url = absolute_url ? path_and_query : base_url + path_and_query;
  req.headers = auth_headers;
  for (auto& h : headers) req.headers.push_back(std::move(h));
  req.body = std::move(body);
  return req;
}

StatusOr<HttpResponse> MlflowClient::Impl::send(HttpRequest req) const {
  const std::string method = req.method, url = req.url;
  auto result = detail::send_with_retry(*transport, *clock, random, options.retry, std::move(req));
  return answer(method, url, std::move(result.response), result.attempts, result.elapsed);
}

StatusOr<HttpResponse> MlflowClient::Impl::answer(const std::string& method, const std::string& url,
                                                  StatusOr<HttpResponse> last, int attempts,
                                                  std::chrono::milliseconds elapsed) const {
  std::string path = detail::redact_url(url);
  if (auto p = detail::parse_url(path); p.ok()) path = p->path;
  if (!last.ok()) {
    // Marked here, for any transport: callers must tell "no answer" from an answer that refuses
    // (both can be kFailedPrecondition without an HTTP status, e.g. a TLS failure and a deleted
    // experiment), and the code alone cannot.
    const Status& st = last.status();
    if (st.code() == StatusCode::kFailedPrecondition) {  // TLS / URL problems: not transient
      return Status(st.code(),
                    fmt::format("{} {} on {}: {}", method, path, host_port, st.message()), 0,
                    kTransportErrorCode);
    }
    return Status(
        st.code(),
        fmt::format("cannot reach MLflow server at {} ({} {}): {}; {} attempt{} in {:.1f} s",
                    host_port, method, path, st.message(), attempts, attempts == 1 ? "" : "s",
                    std::chrono::duration<double>(elapsed).count()),
        0, kTransportErrorCode);
  }
  HttpResponse& resp = *last;
  if (resp.status < 200 || resp.status >= 300) {
    const bool sent_credentials =
        std::any_of(auth_headers.begin(), auth_headers.end(),
                    [](const auto& h) { return h.first == "Authorization"; });
    Status st = detail::status_from_response(method, path, resp, host_port, sent_credentials);
    if (detail::is_retryable_http_status(resp.status) && attempts > 1) {
      return st.with_context(fmt::format("after {} attempts in {:.1f} s", attempts,
                                         std::chrono::duration<double>(elapsed).count()));
    }
    return st;
  }
  return std::move(resp);
}

HttpRequest MlflowClient::Impl::json_request(const std::string& method, const std::string& endpoint,
                                             const detail::json& body, const QueryParams& query,
                                             bool fresh_connection) const {
  std::string target = endpoint;
  if (!query.empty()) target += "?" + detail::build_query(query);
  std::string payload;
  Headers headers;
  if (method != "GET") {
    payload = body.dump(-1, ' ', false, detail::json::error_handler_t::replace);
    headers.emplace_back("Content-Type", "application/json");
  }
  return request(method, target, std::move(payload), std::move(headers), /*absolute_url=*/false,
                 fresh_connection);
}

StatusOr<detail::json> MlflowClient::Impl::call(const std::string& method,
                                                const std::string& endpoint,
                                                const detail::json& body, const QueryParams& query,
                                                bool fresh_connection) const {
  return json_answer(method, endpoint,
                     send(json_request(method, endpoint, body, query, fresh_connection)));
}

StatusOr<detail::json> MlflowClient::Impl::json_answer(const std::string& method,
                                                       const std::string& endpoint,
                                                       StatusOr<HttpResponse> resp) const {
  if (!resp.ok()) return resp.status();
  auto j = detail::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !(j.is_object() || j.is_array())) {
    // A 200 with such a body (an HTML page from a proxy, a cut-off reply) is not retried: the
    // request may have been applied, and sending it again would not change the answer.
    std::string ex = resp->body.substr(0, 120);
    for (auto& c : ex) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    if (resp->body.size() > ex.size()) ex += "...";
    const auto type = resp->header("content-type");
    return Status(StatusCode::kInternal,
                  fmt::format("malformed response from {} {} on {} (HTTP {}{}): expected a JSON "
                              "object, {}: '{}'",
                              method, endpoint, host_port, resp->status,
                              type ? ", Content-Type " + *type : std::string(),
                              j.is_discarded() ? "but the body is not valid JSON"
                                               : "got JSON " + std::string(j.type_name()),
                              ex),
                  resp->status);
  }
  return j;
}

}  // namespace mlflow

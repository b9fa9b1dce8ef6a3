// SPDX-License-Identifier: Apache-2.0
// MlflowClient's shared state and the request helpers every endpoint file uses (private).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "json_codec.h"
#include "mlflow/client.h"

namespace mlflow {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct MlflowClient::Impl {
  ClientOptions options;
  std::string base_url;   ///< scheme://host[:port][/prefix], no trailing '/', no credentials
  std::string host_port;  ///< for messages
  std::string store_uri;  ///< MlflowClient::store_uri(); empty: base_url
  Headers auth_headers;   ///< never logged or put into a message
  std::shared_ptr<HttpTransport> transport;
  std::shared_ptr<Clock> clock;
  UniformRandom random;

  /// One HTTP exchange with retries. `path_and_query` starts with '/' and is appended to base_url,
  /// unless `absolute_url` is set. Non-2xx responses become a Status; unreachable servers give
  /// kUnavailable naming host:port, attempts and elapsed time.
  StatusOr<HttpResponse> exchange(const std::string& method, const std::string& path_and_query,
                                  std::string body, Headers headers, bool absolute_url = false,
                                  bool fresh_connection = false) const;

  /// The pieces of exchange() and call(), for loops that spend one retry budget on several kinds of
  /// request (create_idempotently): the request as exchange() sends it (no timeout yet) and as
  /// call() sends it; the request sent with retries and read; a last answer read as exchange() does
  /// (`attempts` and `elapsed` go into the message), and as call() reads it. Only send() retries.
  HttpRequest request(const std::string& method, const std::string& path_and_query,
                      std::string body, Headers headers, bool absolute_url,
                      bool fresh_connection) const;
  HttpRequest json_request(const std::string& method, const std::string& endpoint,
                           const detail::json& body, const QueryParams& query,
                           bool fresh_connection) const;
  StatusOr<HttpResponse> send(HttpRequest request) const;
  StatusOr<HttpResponse> answer(const std::string& method, const std::string& url,
                                StatusOr<HttpResponse> last, int attempts,
                                std::chrono::milliseconds elapsed) const;
  StatusOr<detail::json> json_answer(const std::string& method, const std::string& endpoint,
                                     StatusOr<HttpResponse> response) const;

  /// How create_idempotently finds what a create request made: a JSON API request, as call()
  /// takes it, and `pick`, which returns the entity in the create response's shape from its
  /// answer (nullopt: not there).
  struct Lookup {
    std::string method;
    std::string endpoint;
    detail::json body = detail::json::object();
    QueryParams query;
    std::function<std::optional<detail::json>(const detail::json& answer)> pick;
  };

  /// POSTs `body` (which carries a client token, see idempotent_create.h) to `endpoint` without
  /// ever creating the entity twice. The request is sent once, on a fresh connection; an answer,
  /// success or a definite error (4xx), is returned as call() returns it. After a failure that
  /// leaves open whether the server created it (is_transient: no answer, 408/429/5xx) and the
  /// wait options.retry prescribes, `lookup` runs: the entity it finds is the result; when there
  /// is none, the request is sent again at once. A lookup failing transiently is followed by the
  /// next wait and another lookup. Lookups and creates are attempts of one RetryBudget.
  /// `may_exist`: look up before the first create too (an earlier call, e.g. a crashed process,
  /// may have created it).
  StatusOr<detail::json> create_idempotently(const std::string& endpoint, const detail::json& body,
                                             const Lookup& lookup, bool may_exist) const;

  /// A JSON API call: GET sends `query`, others send `body` as JSON. The response must be JSON.
  /// `fresh_connection`: see HttpRequest (for requests that must not be applied twice).
  StatusOr<detail::json> call(const std::string& method, const std::string& endpoint,
                              const detail::json& body, const QueryParams& query = {},
                              bool fresh_connection = false) const;
  StatusOr<detail::json> post(const std::string& endpoint, const detail::json& body) const {
    return call("POST", endpoint, body);
  }
  StatusOr<detail::json> get(const std::string& endpoint, const QueryParams& query) const {
    return call("GET", endpoint, detail::json::object(), query);
  }

  /// Follows the pages of a tracking-API artifact listing (GET endpoint with `query`, the directory
  /// in the `dir_param` field), checks every listed path stays under `dir`, and sorts by path.
  StatusOr<std::vector<FileInfo>> list_artifact_pages(const std::string& endpoint,
                                                      QueryParams query, const char* dir_param,
                                                      const std::string& dir) const;
};

namespace detail {

struct ClientAccess {
  /// A copy of `client` whose runs live in `store_uri` (local mode: its sqlite:/// database).
  static MlflowClient with_store(const MlflowClient& client, std::string store_uri);
  /// MlflowClient::create_run, looking the run up by its key tag (kRunKeyTag, which `create`
  /// carries) before creating it when `may_exist` (see Impl::create_idempotently).
  static StatusOr<Run> create_run(const MlflowClient& client, const MlflowClient::RunCreate& create,
                                  bool may_exist);
};

}  // namespace detail

/// The API prefix every tracking and registry route uses.
inline constexpr const char* kApi = "/api/2.0/mlflow";

/// Status(kInvalidArgument) naming `what` when `value` is empty.
Status require_nonempty(const std::string& what, const std::string& value);

}  // namespace mlflow

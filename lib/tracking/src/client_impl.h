// SPDX-License-Identifier: Apache-2.0
// MlflowClient's shared state and the request helpers every endpoint file uses (private).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "json_codec.h"
#include "mlflow/client.h"

namespace mlflow {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct MlflowClient::Impl {
  ClientOptions options;
  std::string base_url;  ///< scheme://host[:port][/prefix], no trailing '/', no credentials
  std::string host_port; ///< for messages
  std::string store_uri; ///< MlflowClient::store_uri(); empty: base_url
  Headers auth_headers;  ///< never logged or put into a message
  std::shared_ptr<HttpTransport> transport;
  std::shared_ptr<Clock> clock;
  UniformRandom random;

  /// One HTTP exchange with retries. `path_and_query` starts with '/' and is appended to base_url,
  /// unless `absolute_url` is set. Non-2xx responses become a Status; unreachable servers give
  /// kUnavailable naming host:port, attempts and elapsed time.
  StatusOr<HttpResponse> exchange(const std::string& method, const std::string& path_and_query,
                                  std::string body, Headers headers,
                                  bool absolute_url = false, bool fresh_connection = false) const;

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

  /// Follows the pages of a tracking-API artifact listing (GET endpoint with `query`, the directory in
  /// the `dir_param` field), checks every listed path stays under `dir`, and sorts by path.
  StatusOr<std::vector<FileInfo>> list_artifact_pages(const std::string& endpoint, QueryParams query,
                                                      const char* dir_param,
                                                      const std::string& dir) const;
};

namespace detail {

struct ClientAccess {
  /// A copy of `client` whose runs live in `store_uri` (local mode: its sqlite:/// database).
  static MlflowClient with_store(const MlflowClient& client, std::string store_uri);
};

}  // namespace detail

/// The API prefix every tracking and registry route uses.
inline constexpr const char* kApi = "/api/2.0/mlflow";

/// Status(kInvalidArgument) naming `what` when `value` is empty.
Status require_nonempty(const std::string& what, const std::string& value);

}  // namespace mlflow

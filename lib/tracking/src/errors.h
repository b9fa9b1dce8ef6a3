// SPDX-License-Identifier: Apache-2.0
// Mapping MLflow error bodies and HTTP statuses to Status (private).
#pragma once

#include <string>

#include "mlflow/http.h"
#include "mlflow/status.h"

namespace mlflow::detail {

/// StatusCode for an MLflow error_code such as "RESOURCE_DOES_NOT_EXIST".
StatusCode code_from_error_code(const std::string& error_code);

/// StatusCode for an HTTP status when the body carries no MLflow error.
StatusCode code_from_http_status(int status);

/// The Status for a non-2xx response to `method` on `url_path` (no host, no query, no credentials):
/// MLflow's error_code and message when the body is MLflow error JSON, otherwise a message naming
/// method, path, `server` (host:port, when given) and status with a short, single-line excerpt of
/// the body. A 401 says whether the credentials were rejected (`sent_credentials`) or missing.
Status status_from_response(const std::string& method, const std::string& url_path,
                            const HttpResponse& response, const std::string& server = {},
                            bool sent_credentials = false);

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// Mapping MLflow error bodies and HTTP statuses to Status.
#include "errors.h"

#include <map>
#include <nlohmann/json.hpp>

namespace mlflow::detail {

StatusCode code_from_error_code(const std::string& e) {
  // Never destroyed: the process hooks deliver from std::exit, possibly after static destructors.
  static const auto& table = *new std::map<std::string, StatusCode>{
      {"INVALID_PARAMETER_VALUE", StatusCode::kInvalidArgument},
      {"BAD_REQUEST", StatusCode::kInvalidArgument},
      {"MALFORMED_REQUEST", StatusCode::kInvalidArgument},
      {"INVALID_STATE", StatusCode::kFailedPrecondition},
      {"RESOURCE_ALREADY_EXISTS", StatusCode::kAlreadyExists},
      {"ALREADY_EXISTS", StatusCode::kAlreadyExists},
      {"RESOURCE_DOES_NOT_EXIST", StatusCode::kNotFound},
      {"NOT_FOUND", StatusCode::kNotFound},
      {"ENDPOINT_NOT_FOUND", StatusCode::kNotFound},
      {"CUSTOMER_UNAUTHORIZED", StatusCode::kUnauthenticated},
      {"UNAUTHENTICATED", StatusCode::kUnauthenticated},
      {"PERMISSION_DENIED", StatusCode::kPermissionDenied},
      {"ABORTED", StatusCode::kAborted},
      {"RESOURCE_CONFLICT", StatusCode::kAborted},
      {"REQUEST_LIMIT_EXCEEDED", StatusCode::kResourceExhausted},
      {"RESOURCE_EXHAUSTED", StatusCode::kResourceExhausted},
      {"CANCELLED", StatusCode::kCancelled},
      {"NOT_IMPLEMENTED", StatusCode::kUnimplemented},
      {"TEMPORARILY_UNAVAILABLE", StatusCode::kUnavailable},
      {"DEADLINE_EXCEEDED", StatusCode::kDeadlineExceeded},
      {"INTERNAL_ERROR", StatusCode::kInternal},
      {"DATA_LOSS", StatusCode::kInternal},
  };
  auto it = table.find(e);
  return it == table.end() ? StatusCode::kInternal : it->second;
}

StatusCode code_from_http_status(int s) {
  switch (s) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 408:
      return StatusCode::kDeadlineExceeded;
    case 409:
      return StatusCode::kAborted;
    case 429:
      return StatusCode::kResourceExhausted;
    case 501:
      return StatusCode::kUnimplemented;
    case 502:
    case 503:
    case 504:
      return StatusCode::kUnavailable;
    default:
      return s >= 400 && s < 500 ? StatusCode::kInvalidArgument : StatusCode::kInternal;
  }
}

namespace {
// Server messages can span lines and carry SQLAlchemy's statement dump; keep the first, useful part
// on one line.
std::string tidy_message(std::string msg) {
  for (const char* noise : {"\n[SQL:", "\n(Background on this error"}) {
    auto at = msg.find(noise);
    if (at != std::string::npos) msg.erase(at);
  }
  for (auto& c : msg) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (msg.size() > 1000) msg = msg.substr(0, 1000) + "...";
  return msg;
}

// A short excerpt of a non-JSON body (HTML from a proxy, text from an auth layer) on one line.
std::string excerpt(const std::string& body) {
  std::string out;
  bool in_tag = false;
  for (char c : body) {
    if (c == '<') {
      in_tag = true;
      continue;
    }
    if (c == '>') {
      in_tag = false;
      out += ' ';
      continue;
    }
    if (in_tag) continue;
    char d = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (d == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += d;
    if (out.size() >= 200) {
      out += "...";
      break;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}
}  // namespace

Status status_from_response(const std::string& method, const std::string& url_path,
                            const HttpResponse& r, const std::string& server,
                            bool sent_credentials) {
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error_code") && j["error_code"].is_string()) {
    std::string code = j["error_code"].get<std::string>();
    std::string msg = j.contains("message") && j["message"].is_string()
                          ? tidy_message(j["message"].get<std::string>())
                          : std::string("(no message)");
    return Status(code_from_error_code(code), msg + " [" + method + " " + url_path + "]", r.status,
                  code);
  }
  std::string what = "HTTP " + std::to_string(r.status) + " from " + method + " " + url_path;
  if (!server.empty()) what += " on " + server;
  if (r.status == 401) {
    what += sent_credentials
                ? " (authentication failed: the server rejected the credentials; check "
                  "MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN)"
                : " (authentication required: set MLFLOW_TRACKING_USERNAME/PASSWORD or "
                  "MLFLOW_TRACKING_TOKEN)";
  }
  if (r.status == 403) what += " (permission denied for these credentials)";
  std::string ex = excerpt(r.body);
  if (!ex.empty()) what += ": " + ex;
  return Status(code_from_http_status(r.status), what, r.status);
}

}  // namespace mlflow::detail

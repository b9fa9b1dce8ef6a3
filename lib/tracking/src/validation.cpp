// SPDX-License-Identifier: Apache-2.0
// MLflow's key and value rules (mlflow/utils/validation.py), applied before sending.
#include "mlflow/validation.h"

#include <cctype>

namespace mlflow {

namespace {
Status invalid(std::string msg) { return Status(StatusCode::kInvalidArgument, std::move(msg)); }

bool key_char_ok(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == ' ' || c == '/' || c == ':';
}

std::string shown(const std::string& key) {
  return key.size() > 60 ? "'" + key.substr(0, 60) + "...'" : "'" + key + "'";
}
}  // namespace

Status validate_key(const char* kind, const std::string& key) {
  if (key.empty()) return invalid(std::string(kind) + " key must not be empty");
  if (key.size() > kMaxKeyLength) {
    return invalid(std::string(kind) + " key " + shown(key) + " is " + std::to_string(key.size()) +
                   " characters long; MLflow allows at most " + std::to_string(kMaxKeyLength));
  }
  for (char c : key) {
    if (!key_char_ok(c)) {
      return invalid(std::string(kind) + " key " + shown(key) + " contains '" +
                     (std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : "\\x??") +
                     "'; only letters, digits, '_', '-', '.', ' ', '/' and ':' are allowed");
    }
  }
  bool bad_path = key == "." || key.front() == '/' || key.rfind("..", 0) == 0 ||
                  key.find("//") != std::string::npos || key.find("/./") != std::string::npos ||
                  key.find("/../") != std::string::npos || key.back() == '/' ||
                  (key.size() >= 2 && key.compare(key.size() - 2, 2, "/.") == 0) ||
                  (key.size() >= 3 && key.compare(key.size() - 3, 3, "/..") == 0);
  if (bad_path) {
    return invalid(std::string(kind) + " key " + shown(key) +
                   " is not a normalised relative path (no leading '/' or '..', no '//', '/./', "
                   "trailing '/')");
  }
  return Status();
}

Status validate_param(const std::string& key, const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("param", key));
  if (value.size() > kMaxParamValueLength) {
    return invalid("param " + shown(key) + " value is " + std::to_string(value.size()) +
                   " characters long; MLflow allows at most " + std::to_string(kMaxParamValueLength));
  }
  return Status();
}

Status validate_tag(const std::string& key, const std::string& value) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("tag", key));
  if (value.size() > kMaxTagValueLength) {
    return invalid("tag " + shown(key) + " value is " + std::to_string(value.size()) +
                   " characters long; MLflow allows at most " + std::to_string(kMaxTagValueLength));
  }
  return Status();
}

Status validate_metric(const std::string& key, long long timestamp_ms) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_key("metric", key));
  if (timestamp_ms < 0) return invalid("metric " + shown(key) + " has a negative timestamp");
  return Status();
}

Status validate_experiment_name(const std::string& name) {
  if (name.empty()) return invalid("experiment name must not be empty");
  if (name.size() > kMaxExperimentNameLength) {
    return invalid("experiment name is " + std::to_string(name.size()) +
                   " characters long; MLflow allows at most " +
                   std::to_string(kMaxExperimentNameLength));
  }
  return Status();
}

Status validate_artifact_path(const std::string& path) {
  if (path.empty()) return Status();
  if (path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos || (path.size() > 1 && path[1] == ':')) {
    return invalid("artifact path '" + path + "' must be relative (no leading '/', no drive, no '\\')");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    std::string part = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part == "..") return invalid("artifact path '" + path + "' must not contain '..'");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return Status();
}

}  // namespace mlflow

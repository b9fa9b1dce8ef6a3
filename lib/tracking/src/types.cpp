// SPDX-License-Identifier: Apache-2.0
// Enum names and small helpers for the entity types.
#include "mlflow/types.h"

#include <chrono>

namespace mlflow {

TimestampMs now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const char* to_string(RunStatus status) noexcept {
  switch (status) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kScheduled:
      return "SCHEDULED";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "RUNNING";
}

std::optional<RunStatus> parse_run_status(const std::string& name) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kScheduled, RunStatus::kFinished,
                      RunStatus::kFailed, RunStatus::kKilled}) {
    if (name == to_string(s)) return s;
  }
  return std::nullopt;
}

const char* to_string(ViewType view) noexcept {
  switch (view) {
    case ViewType::kActiveOnly:
      return "ACTIVE_ONLY";
    case ViewType::kDeletedOnly:
      return "DELETED_ONLY";
    case ViewType::kAll:
      return "ALL";
  }
  return "ACTIVE_ONLY";
}

const char* to_string(LoggedModelStatus status) noexcept {
  switch (status) {
    case LoggedModelStatus::kUnspecified:
      return "LOGGED_MODEL_STATUS_UNSPECIFIED";
    case LoggedModelStatus::kPending:
      return "LOGGED_MODEL_PENDING";
    case LoggedModelStatus::kReady:
      return "LOGGED_MODEL_READY";
    case LoggedModelStatus::kUploadFailed:
      return "LOGGED_MODEL_UPLOAD_FAILED";
  }
  return "LOGGED_MODEL_STATUS_UNSPECIFIED";
}

std::optional<std::string> find_value(const std::vector<KeyValue>& kvs, const std::string& key) {
  std::optional<std::string> found;
  for (const auto& kv : kvs) {
    if (kv.key == key) found = kv.value;
  }
  return found;
}

}  // namespace mlflow

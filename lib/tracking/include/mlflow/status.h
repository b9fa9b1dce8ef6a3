// SPDX-License-Identifier: Apache-2.0
/// \file
/// Status and StatusOr<T>: how every fallible mlflow-cpp call reports failure without throwing.
#pragma once

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace mlflow {

/// Canonical error classes (a subset of the gRPC set). Retry decisions and exit codes key off
/// these.
enum class StatusCode {
  kOk = 0,
  kCancelled,
  kInvalidArgument,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kUnavailable,
  kUnimplemented,
  kInternal,
  kDataLoss,  ///< stored data is unreadable (a corrupt spool or state file)
  kUnknown,
};

/// Name of a code, e.g. "INVALID_ARGUMENT".
const char* status_code_name(StatusCode code) noexcept;

/// The error_code() MlflowClient gives a request that got no HTTP response at all (connection
/// refused or reset, timeout, TLS handshake, malformed URL), whatever its code: such a failure says
/// nothing about what was sent. Any failure with another error_code() got an answer or was caught
/// before sending.
inline constexpr const char* kTransportErrorCode = "TRANSPORT_ERROR";

/// Outcome of an operation: a code, a message, and for server errors the HTTP status and MLflow's
/// error_code. Thread-safety: a value type; distinct objects may be used concurrently.
class [[nodiscard]] Status {
 public:
  Status() = default;
  /// A failure (or, with kOk, success); `http_status` and `error_code` as the accessors below say.
  Status(StatusCode code, std::string message, int http_status = 0, std::string error_code = {})
      : code_(code),
        message_(std::move(message)),
        http_status_(http_status),
        error_code_(std::move(error_code)) {}

  /// True for kOk.
  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  /// The error class.
  StatusCode code() const noexcept { return code_; }
  /// What went wrong, for people.
  const std::string& message() const noexcept { return message_; }
  /// HTTP status of the failed response, 0 when no response was received.
  int http_status() const noexcept { return http_status_; }
  /// MLflow's error_code, e.g. "INVALID_PARAMETER_VALUE"; empty when the server sent none;
  /// kTransportErrorCode when no response arrived.
  const std::string& error_code() const noexcept { return error_code_; }
  /// True when the request got no HTTP response (error_code() is kTransportErrorCode).
  bool transport_failure() const noexcept { return error_code_ == kTransportErrorCode; }

  /// One line for people: "INVALID_PARAMETER_VALUE (HTTP 400): Changing param values is not allowed
  /// ...".
  std::string to_string() const;

  /// A copy with `context + ": "` put in front of the message (an ok Status is returned as it is).
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int http_status_ = 0;
  std::string error_code_;
};

/// The ok Status.
inline Status ok_status() { return Status(); }

/// Thrown only by StatusOr<T>::value() and Status-checking helpers for callers who prefer
/// exceptions.
class StatusError : public std::runtime_error {
 public:
  /// Wraps `status` (not ok); what() is status.to_string().
  explicit StatusError(Status status)
      : std::runtime_error(status.to_string()), status_(std::move(status)) {}
  /// The Status thrown.
  const Status& status() const noexcept { return status_; }

 private:
  Status status_;
};

/// Throws StatusError if `status` is not ok.
inline void throw_if_error(const Status& status) {
  if (!status.ok()) throw StatusError(status);
}

/// A T or the Status saying why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  /// Holds `value`.
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  /// Holds the failure `status`; an ok `status` becomes kInternal (there is no value to hold).
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) {
      v_ = Status(StatusCode::kInternal, "StatusOr constructed from an ok Status without a value");
    }
  }

  /// True when a value is held.
  bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  /// ok().
  explicit operator bool() const noexcept { return ok(); }

  /// The failure; an ok Status when a value is held. The reference lives as long as this object.
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }

  /// The value; throws StatusError when there is none.
  T& value() & {
    check();
    return std::get<T>(v_);
  }
  /// The value; throws StatusError when there is none.
  const T& value() const& {
    check();
    return std::get<T>(v_);
  }
  /// The value, moved out; throws StatusError when there is none.
  T&& value() && {
    check();
    return std::get<T>(std::move(v_));
  }

  /// value().
  T& operator*() & { return value(); }
  /// value().
  const T& operator*() const& { return value(); }
  /// value(), moved out.
  T&& operator*() && { return std::move(*this).value(); }
  /// &value().
  T* operator->() { return &value(); }
  /// &value().
  const T* operator->() const { return &value(); }

 private:
  void check() const {
    if (!ok()) throw StatusError(std::get<Status>(v_));
  }
  std::variant<Status, T> v_;
};

}  // namespace mlflow

/// Returns early from a function returning Status or StatusOr when `expr` (a Status) is not ok.
#define MLFLOW_CPP_RETURN_IF_ERROR(expr)             \
  do {                                               \
    ::mlflow::Status mlflow_cpp_st_ = (expr);        \
    if (!mlflow_cpp_st_.ok()) return mlflow_cpp_st_; \
  } while (false)

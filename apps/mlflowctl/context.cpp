// SPDX-License-Identifier: Apache-2.0
// Connecting the client, mapping failures to exit codes, and the input checks commands share.
#include "context.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "mlflow/local_server.h"
#include "mlflow/options.h"
#include "mlflow/validation.h"

namespace mlflowctl {

namespace {

/// Client-side validation messages already say what is wrong; server errors keep their error_code.
std::string describe(const mlflow::Status& status) {
  if (status.code() == mlflow::StatusCode::kInvalidArgument && status.http_status() == 0) {
    return status.message();
  }
  return status.to_string();
}

}  // namespace

void usage_error(const std::string& message) { throw CliError(kExitUsage, message); }

void check(const mlflow::Status& status, const std::string& what) {
  if (status.ok()) return;
  throw CliError(exit_code_for(status),
                 what.empty() ? describe(status) : what + ": " + describe(status));
}

mlflow::MlflowClient& Context::client() {
  if (client_) return *client_;
  mlflow::ClientOptions options = unwrap(mlflow::ClientOptions::from_env(), "");
  if (!global.tracking_uri.empty()) options.tracking_uri = global.tracking_uri;
  if (global.max_retries >= 0) options.retry.max_retries = global.max_retries;
  // connect() and MlflowClient::make() redact credentials from the URI in their messages.
  client_ = unwrap(mlflow::connect(options), "cannot connect to the tracking server");
  return *client_;
}

void on_selected(CLI::App& sub, Context& ctx, std::function<void()> run) {
  sub.callback([&ctx, run = std::move(run)] { ctx.action = run; });
}

mlflow::KeyValue parse_key_value(const std::string& text, const std::string& option) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    usage_error(option + " expects KEY=VALUE, got '" + text + "'");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

mlflow::Tags parse_tags(const std::vector<std::string>& texts, const std::string& option) {
  mlflow::Tags tags;
  for (const auto& t : texts) {
    tags.push_back(parse_key_value(t, option));
    check(mlflow::validate_tag(tags.back().key, tags.back().value), option);
  }
  return tags;
}

double parse_metric_value(const std::string& text, const std::string& what) {
  if (text == "nan" || text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "inf" || text == "+inf" || text == "Infinity")
    return std::numeric_limits<double>::infinity();
  if (text == "-inf" || text == "-Infinity") return -std::numeric_limits<double>::infinity();
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  // strtod alone would accept "12abc", "0x1p3", " 1" and spellings like "infinity"; keep to
  // decimals.
  bool decimal = !text.empty() && text.find_first_not_of("0123456789+-.eE") == std::string::npos;
  if (!decimal || end != begin + text.size()) {
    usage_error(what + " must be a number, got '" + text + "'");
  }
  if (errno == ERANGE || !std::isfinite(v)) {
    usage_error(what + " '" + text + "' is out of the range of a double");
  }
  return v;
}

void add_view_option(CLI::App& sub, std::string& view) {
  sub.add_option("--view", view, "Lifecycle stage to include: active, deleted or all")
      ->check(CLI::IsMember({"active", "deleted", "all"}))
      ->capture_default_str();
}

mlflow::ViewType parse_view(const std::string& view) {
  if (view == "deleted") return mlflow::ViewType::kDeletedOnly;
  if (view == "all") return mlflow::ViewType::kAll;
  return mlflow::ViewType::kActiveOnly;
}

void require_nonempty(const std::string& value, const std::string& what) {
  if (value.empty()) usage_error(what + " must not be empty");
}

void require_artifact_path(const std::string& path) {
  check(mlflow::validate_artifact_path(path), "");
}

}  // namespace mlflowctl

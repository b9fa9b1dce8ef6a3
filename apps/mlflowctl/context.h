// SPDX-License-Identifier: Apache-2.0
// What mlflowctl commands share: global options, the lazy client, errors and exit codes.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "app_support.h"
#include "mlflow/client.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace CLI {
class App;
}

namespace mlflowctl {

/// Process exit codes, the contract scripts rely on (the apps' table, apps/support/app_support.h).
using mlflow::apps::exit_code_for;
using mlflow::apps::kExitOk;
using mlflow::apps::kExitUsage;
inline constexpr int kExitServer = mlflow::apps::kExitFailed;  ///< server, network or MLflow error

/// A failure that ends the command with `exit_code` and one line on stderr.
class CliError : public std::runtime_error {
 public:
  CliError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

/// Throws CliError(kExitUsage, message).
[[noreturn]] void usage_error(const std::string& message);

/// Throws CliError for a failed `status`, its message prefixed with `what` (e.g. "get run 'abc'").
void check(const mlflow::Status& status, const std::string& what);

/// The value of `result`, or throws as check() does.
template <typename T>
T unwrap(mlflow::StatusOr<T> result, const std::string& what) {
  if (!result.ok()) check(result.status(), what);
  return std::move(result).value();
}

/// Options given before or after the command.
struct GlobalOptions {
  std::string tracking_uri;  ///< overrides MLFLOW_TRACKING_URI when set
  bool json = false;         ///< machine-readable output
  int max_retries = -1;      ///< overrides MLFLOW_HTTP_REQUEST_MAX_RETRIES when >= 0
};

/// State shared by all commands of one invocation. Not thread-safe (one command per process).
class Context {
 public:
  GlobalOptions global;
  /// The command the parser selected; run after parsing succeeds.
  std::function<void()> action;

  /// The client, connected on first use: options from the environment, then the global flags.
  mlflow::MlflowClient& client();

 private:
  std::optional<mlflow::MlflowClient> client_;
};

/// Registers the leaf command `sub` so that choosing it makes `run` the context's action.
void on_selected(CLI::App& sub, Context& ctx, std::function<void()> run);

// ---- input checks shared by commands (all throw CliError with kExitUsage) ----------------------

/// "KEY=VALUE" → KeyValue; `option` names the flag in the error.
mlflow::KeyValue parse_key_value(const std::string& text, const std::string& option);
/// Every "KEY=VALUE" of a repeated option.
mlflow::Tags parse_tags(const std::vector<std::string>& texts, const std::string& option);
/// A metric value: a decimal or "nan"/"inf"/"-inf"; `what` names it in the error.
double parse_metric_value(const std::string& text, const std::string& what);
/// Adds "--view active|deleted|all" (default active) to a search command.
void add_view_option(CLI::App& sub, std::string& view);
/// The ViewType for a --view value the parser accepted.
mlflow::ViewType parse_view(const std::string& view);
/// Fails when `value` is empty; `what` names the argument.
void require_nonempty(const std::string& value, const std::string& what);
/// Fails unless `path` is a relative artifact path without '..'.
void require_artifact_path(const std::string& path);

/// Collects up to `max` items from a paged search. `fetch(page_token, page_size)` returns one page.
template <typename T, typename Fetch>
std::vector<T> collect_pages(int max, int page_limit, Fetch fetch, const std::string& what) {
  std::vector<T> out;
  std::string token;
  while (static_cast<int>(out.size()) < max) {
    int want = max - static_cast<int>(out.size());
    mlflow::Page<T> page = unwrap(fetch(token, want < page_limit ? want : page_limit), what);
    for (auto& item : page.items) {
      if (static_cast<int>(out.size()) >= max) break;
      out.push_back(std::move(item));
    }
    if (page.next_page_token.empty() || page.items.empty()) break;
    token = page.next_page_token;
  }
  return out;
}

}  // namespace mlflowctl

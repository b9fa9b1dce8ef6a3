// SPDX-License-Identifier: Apache-2.0
// mlflowctl entry point: global options, command groups, errors turned into exit codes.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "context.h"

namespace {

constexpr const char* kFooter =
    "Global options (--tracking-uri, --json, --max-retries) may also follow the command.\n"
    "Connection settings come from MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN,\n"
    "MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_HTTP_REQUEST_*;\n"
    "flags override them. With no tracking URI, a local server over ./mlflow.db is used.\n"
    "Exit codes: 0 ok, 1 server or network error, 2 bad usage or bad input.";

/// The deepest command parsed so far, and its path ("mlflowctl runs log-param") to point at --help.
const CLI::App* deepest_command(const CLI::App& app, std::string& path) {
  path = app.get_name();
  const CLI::App* current = &app;
  for (auto subs = current->get_subcommands(); !subs.empty(); subs = current->get_subcommands()) {
    current = subs.front();
    path += " " + current->get_name();
  }
  return current;
}

/// One line for a parse error. CLI11 reports a mistyped command as "A subcommand is required", so
/// name the word that was not understood instead.
std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e) {
  std::string path;
  const CLI::App* command = deepest_command(app, path);
  std::string where = command == &app ? "" : path.substr(app.get_name().size() + 1) + ": ";
  std::vector<std::string> extras = app.remaining(true);
  std::string what = e.what();
  if (!command->get_subcommands({}).empty() && !extras.empty()) {
    what = fmt::format("unknown command '{}'", extras.front());
  }
  return fmt::format("{}{} (see '{} --help')", where, what, path);
}

/// Errors are one line so scripts can capture them; server messages sometimes span several
/// (SQL details), so line breaks become spaces.
void print_error(const std::string& message) {
  std::string line;
  for (char c : message) {
    bool is_break = c == '\n' || c == '\r';
    if (is_break && !line.empty() && line.back() != ' ') line += ' ';
    if (!is_break) line += c;
  }
  fmt::print(stderr, "mlflowctl: error: {}\n", line);
  std::fflush(stderr);
}

}  // namespace

// An exception that still escapes (e.g. from building the CLI::App) ends the program through
// std::terminate, which is the right outcome for a bug there.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  mlflowctl::Context ctx;
  CLI::App app{"Inspect and update an MLflow tracking server from the command line.", "mlflowctl"};
  try {
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("mlflowctl ") + MLFLOWCTL_VERSION);
    app.require_subcommand(1);
    // Subcommands inherit fallthrough, so the global options below work after the command too.
    app.fallthrough();
    app.add_option("--tracking-uri", ctx.global.tracking_uri,
                   "Tracking server, e.g. http://localhost:5000 (overrides MLFLOW_TRACKING_URI)");
    app.add_flag("--json", ctx.global.json, "Print machine-readable JSON instead of tables");
    app.add_option("--max-retries", ctx.global.max_retries,
                   "Retries per request (overrides MLFLOW_HTTP_REQUEST_MAX_RETRIES)")
        ->check(CLI::Range(0, 10));
    mlflowctl::add_experiments_commands(app, ctx);
    mlflowctl::add_runs_commands(app, ctx);
    mlflowctl::add_artifacts_commands(app, ctx);
    mlflowctl::add_models_commands(app, ctx);
    mlflowctl::add_sync_command(app, ctx);

    app.parse(argc, argv);
    if (!ctx.action) throw mlflowctl::CliError(mlflowctl::kExitUsage, "no command given");
    ctx.action();
    std::fflush(stdout);
    return mlflowctl::kExitOk;
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(parse_error_message(app, e));
    return mlflowctl::kExitUsage;
  } catch (const mlflowctl::CliError& e) {
    std::fflush(stdout);
    print_error(e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    print_error(e.what());
    return mlflowctl::kExitServer;
  }
}

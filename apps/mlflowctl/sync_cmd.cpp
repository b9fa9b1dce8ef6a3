// SPDX-License-Identifier: Apache-2.0
// `mlflowctl sync PATH --to URI`: replays an offline or left-over spool into a server.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "mlflow/spool_sync.h"
#include "output.h"

namespace mlflowctl {

namespace {

struct SyncArgs {
  std::string path;
  std::string to;
  bool force = false;
};

/// Records the server refused are listed up to this many; all of them are in the rejected file.
constexpr std::size_t kRejectedShown = 10;

void run_sync(Context& ctx, const SyncArgs& a) {
  if (!a.to.empty()) ctx.global.tracking_uri = a.to;
  auto& client = ctx.client();
  const std::string target = client.tracking_uri();  // without credentials
  std::uint64_t last_shown = 0;
  mlflow::SyncOptions options;
  options.force = a.force;
  options.on_progress = [&](std::uint64_t records) {
    if (records - last_shown >= 50'000) {
      fmt::print(stderr, "mlflowctl: sync: {} records delivered so far\n", records);
      last_shown = records;
    }
  };
  auto report = mlflow::sync_spool(a.path, client, options);
  if (!report.ok()) {
    const auto code = report.status().code();
    if (code == mlflow::StatusCode::kNotFound || code == mlflow::StatusCode::kDataLoss) {
      usage_error("sync " + a.path + ": " + report.status().message());
    }
    check(report.status(), fmt::format("sync {} (what was delivered is recorded; run the same "
                                       "command again to continue)",
                                       a.path));
  }
  std::string notes;
  if (report->sessions_skipped) {
    notes += fmt::format("; {} session(s) skipped: in use by a running process",
                         report->sessions_skipped);
  }
  if (!report->refused.empty()) {
    notes += fmt::format("; {} session(s) refused: their runs live on another server",
                         report->refused.size());
  }
  fmt::print("synced {} session(s), {} records, {} run(s) created into {}{}\n",
             report->sessions_synced, report->records, report->run_ids.size(), target, notes);
  std::fflush(stdout);
  const auto& rejected = report->rejected;
  for (std::size_t i = 0; i < rejected.size() && i < kRejectedShown; ++i) {
    const auto& r = rejected[i];
    fmt::print(stderr, "mlflowctl: sync: rejected {} '{}' of run {}: {}\n", r.kind, r.key, r.run,
               r.reason);
  }
  if (rejected.size() > kRejectedShown) {
    fmt::print(stderr, "mlflowctl: sync: ... and {} more rejected\n",
               rejected.size() - kRejectedShown);
  }
  for (const auto& f : report->rejected_files) {
    fmt::print(stderr, "mlflowctl: sync: kept {} rejected record(s) with their reasons in {}\n",
               f.records, f.path);
  }
  auto server_name = [](const std::string& s) {
    return s.empty() ? std::string("a server this spool did not record") : s;
  };
  for (const auto& r : report->refused) {
    fmt::print(stderr, "mlflowctl: sync: refused {}: its runs live on {}, not on {}\n", r.session,
               server_name(r.server), target);
  }
  std::fflush(stderr);
  if (!report->refused.empty()) {
    const std::string& owner = report->refused.front().server;
    throw CliError(
        kExitUsage,
        fmt::format("sync {}: {} session(s) hold runs of {}, not of {}, and were left as they are: "
                    "{}pass --force to send them to {} anyway (what it refuses is kept in a "
                    "rejected-*.jsonl file)",
                    a.path, report->refused.size(), server_name(owner), target,
                    owner.empty() ? "" : "sync them with --to " + owner + ", or ", target));
  }
  // Also after a rerun that only wrote the file for refusals an interrupted run had recorded.
  std::uint64_t kept = 0;
  for (const auto& f : report->rejected_files) kept += f.records;
  if (!rejected.empty() || kept > 0) {
    const auto& files = report->rejected_files;
    throw CliError(kExitServer,
                   fmt::format("{} record(s) were rejected by the server (kept in {})",
                               std::max<std::uint64_t>(kept, rejected.size()),
                               files.size() == 1 ? files.front().path : "the files listed above"));
  }
}

}  // namespace

void add_sync_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<SyncArgs>();
  auto* cmd = app.add_subcommand(
      "sync",
      "Replay a spool directory (an offline:PATH logger's, or what crashed processes left) into a "
      "server. Safe to interrupt and run again: nothing is lost or logged twice.");
  cmd->add_option("PATH", args->path, "Spool directory (the PATH of offline:PATH)")->required();
  cmd->add_option("--to", args->to,
                  "Tracking server to replay into (default: --tracking-uri / "
                  "MLFLOW_TRACKING_URI)");
  cmd->add_flag("--force", args->force,
                "Also replay sessions whose runs already have ids on another server (a crashed "
                "online logger's, or one partly synced elsewhere); without it they are refused "
                "(exit 2) and left as they are");
  cmd->footer(
      "Records the server refuses are written with its reasons to PATH/rejected-<session>.jsonl "
      "(one JSON object a line) before their session is removed; what it took is not sent again.");
  on_selected(*cmd, ctx, [&ctx, args] { run_sync(ctx, *args); });
}

}  // namespace mlflowctl

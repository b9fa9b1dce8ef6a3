// SPDX-License-Identifier: Apache-2.0
// `mlflowctl sync PATH --to URI`: replays an offline or left-over spool into a server.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
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
};

void run_sync(Context& ctx, const SyncArgs& a) {
  if (!a.to.empty()) ctx.global.tracking_uri = a.to;
  auto& client = ctx.client();
  std::uint64_t last_shown = 0;
  auto report = mlflow::sync_spool(a.path, client, [&](std::uint64_t records) {
    if (records - last_shown >= 50'000) {
      fmt::print(stderr, "mlflowctl: sync: {} records delivered so far\n", records);
      last_shown = records;
    }
  });
  if (!report.ok()) {
    const auto code = report.status().code();
    if (code == mlflow::StatusCode::kNotFound || code == mlflow::StatusCode::kDataLoss) {
      usage_error("sync " + a.path + ": " + report.status().message());
    }
    check(report.status(), fmt::format("sync {} (what was delivered is recorded; run the same "
                                       "command again to continue)",
                                       a.path));
  }
  fmt::print("synced {} session(s), {} records, {} run(s) created into {}{}\n",
             report->sessions_synced, report->records, report->run_ids.size(),
             client.tracking_uri(),
             report->sessions_skipped
                 ? fmt::format("; {} session(s) skipped: in use by a running process",
                               report->sessions_skipped)
                 : std::string());
  for (const auto& r : report->rejected) {
    fmt::print(stderr, "mlflowctl: sync: rejected {} '{}' of run {}: {}\n", r.kind, r.key, r.run,
               r.reason);
  }
  if (!report->rejected.empty()) {
    throw CliError(kExitServer,
                   fmt::format("{} record(s) were rejected by the server (listed above)",
                               report->rejected.size()));
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
  cmd->add_option("--to", args->to, "Tracking server to replay into (default: --tracking-uri / "
                                    "MLFLOW_TRACKING_URI)");
  on_selected(*cmd, ctx, [&ctx, args] { run_sync(ctx, *args); });
}

}  // namespace mlflowctl

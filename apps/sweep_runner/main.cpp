// SPDX-License-Identifier: Apache-2.0
// sweep_runner: runs a sweep spec's trials as nested MLflow runs and registers the best (see
// --help).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "app_support.h"
#include "console_observer.h"
#include "mlflow/local_server.h"
#include "mlflow/sweep/program_check.h"
#include "mlflow/sweep/runner.h"
#include "outcome.h"
#include "programs.h"

namespace {

namespace sw = mlflow::sweep;

using mlflow::apps::kExitFailed;
using mlflow::apps::kExitInterrupted;
using mlflow::apps::kExitOk;
using mlflow::apps::kExitTrialsFailed;
using mlflow::apps::kExitUsage;
const mlflow::apps::ErrorExit fail{"sweep_runner"};

// What the user must fix exits 2; the server failing exits 1 (failed trials: 3, decided in main).
int exit_code_for(const mlflow::Status& s) {
  switch (s.code()) {
    case mlflow::StatusCode::kInvalidArgument:
    case mlflow::StatusCode::kFailedPrecondition:
      return kExitUsage;
    case mlflow::StatusCode::kCancelled:
      return kExitInterrupted;
    default:
      return kExitFailed;
  }
}

}  // namespace

// An exception that still escapes (an allocation failure, a bug) ends the program through
// std::terminate, which names it: what we want. Errors a user can cause become exit codes below.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{
      "Runs a hyper-parameter sweep (a YAML spec, see sweeps/README.md) as nested MLflow runs: one "
      "parent run per\n"
      "sweep, one child run per trial. Running the same spec again resumes it: finished trials are "
      "skipped, failed,\n"
      "killed and orphaned ones run again. At the end the best trial is selected by the spec's "
      "metric and registered\n"
      "(the alias moves only if it beats the current holder).",
      "sweep_runner"};
  std::string spec_path;
  sw::RunnerOptions options;
  std::string shard_text;
  int shards = 0;
  int stale_after_s = 300;
  app.add_option("spec", spec_path, "the sweep spec, e.g. sweeps/batch_size.yaml");
  app.add_option("-j,--parallel", options.parallel,
                 "trial processes at once on this machine; each gets cores/N threads")
      ->check(CLI::Range(1, 256))
      ->default_val(1);
  app.add_option("--cores", options.cores, "cores to share among parallel trials (default: all)")
      ->check(CLI::Range(1, 4096));
  app.add_option(
      "--shard", shard_text,
      "run only shard K of N (trials i with i % N == K), e.g. 0/2 and 1/2 on two machines");
  app.add_option("--shards", shards,
                 "N shards, the index from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX (Slurm "
                 "arrays, Kubernetes "
                 "Indexed Jobs)")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--dry-run", options.dry_run,
               "print the expanded trials and what would be skipped; start nothing");
  app.add_flag("--no-deps", options.no_deps,
               "do not run the specs this one needs (from_sweep, a models:/NAME@ALIAS it uses); "
               "fail instead");
  app.add_option("--log-dir", options.log_dir,
                 "where trial output files go (default: a folder in the temp dir)");
  app.add_option(
         "--stale-after", stale_after_s,
         "seconds without heartbeat after which another machine's RUNNING trial counts as dead")
      ->default_val(300);
  CLI::App* finalize =
      app.add_subcommand("finalize",
                         "select the best trial and register it (what the last worker "
                         "does automatically)");
  finalize->add_option("spec", spec_path, "the sweep spec")->required();
  app.footer(
      "Where runs go: MLFLOW_TRACKING_URI (unset: local mode over ./mlflow.db with the MLflow "
      "server started for the\n"
      "sweep). Trials get MLFLOW_RUN_ID, MLFLOW_TRACKING_URI and MLFLOW_EXPERIMENT_ID.\n"
      "Before anything is created, every value of the grid is checked against what its program "
      "accepts\n"
      "(PROGRAM --describe-params; see sweeps/README.md). Trials end with sweep_runner, even when "
      "it is killed.\n"
      "Exit codes: 0 every trial finished (or the rest belongs to other shards), 1 the server or "
      "sweep_runner\n"
      "failed, 2 bad spec or usage (nothing is created), 3 trials failed (each is listed with why "
      "and the end\n"
      "of its output) or none logged the metric, 130 interrupted (running trials and the sweep end "
      "KILLED).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail(kExitUsage, std::string(e.what()) + " (see 'sweep_runner --help')");
  }
  if (spec_path.empty())
    return fail(kExitUsage, "no sweep spec given, e.g. sweep_runner sweeps/batch_size.yaml");
  options.stale_after = std::chrono::seconds(stale_after_s);

  if (!shard_text.empty()) {
    if (shards > 0) return fail(kExitUsage, "give --shard K/N or --shards N, not both");
    auto shard = sw::parse_shard(shard_text);
    if (!shard.ok()) return fail(kExitUsage, shard.status().message());
    options.shard = *shard;
  } else {
    auto shard = sw::shard_from_env([](const char* n) { return std::getenv(n); }, shards);
    if (!shard.ok()) return fail(kExitUsage, shard.status().message());
    options.shard = *shard;
  }

  // Everything about the spec and its dependencies is checked before anything is created: the
  // specs, then every value of their grids against what their programs accept.
  const sw::ProgramTable programs = sweep_programs(argv[0]);
  auto catalog = sw::SpecCatalog::load(spec_path, programs);
  if (!catalog.ok()) return fail(kExitUsage, catalog.status().message());
  const auto describe = [](const sw::ProgramDef& def) {
    return sw::describe_program(def, std::chrono::seconds(30));
  };
  const auto warn = [](const std::string& text) {
    fmt::print(stderr, "sweep_runner: warning: {}\n", text);
  };
  if (auto checked = sw::check_programs(*catalog, describe, warn); !checked.ok()) {
    return fail(exit_code_for(checked), checked.message());
  }

  auto client = mlflow::connect_from_env();
  if (!client.ok()) return fail(kExitFailed, "cannot reach MLflow: " + client.status().to_string());

  // The runner stops its trials itself (SIGKILL after a grace period), so a second Ctrl-C changes
  // nothing.
  mlflow::apps::catch_interrupts(/*second_kills=*/false);
  options.interrupted = mlflow::apps::interrupted;

  ConsoleObserver console(stdout, ::isatty(STDOUT_FILENO) == 1, options.dry_run);
  if (options.shard.sharded()) {
    fmt::print("shard {}/{}: runs trials i with i % {} == {}\n", options.shard.index,
               options.shard.count, options.shard.count, options.shard.index);
  }
  console.show_run_metric("test_accuracy", [&client](const std::string& run_id) {
    return run_metric(*client, run_id, "test_accuracy");
  });
  auto report = finalize->parsed()
                    ? sw::finalize_sweep(*client, *catalog, catalog->root(), options, console)
                    : sw::run_sweep(*client, *catalog, catalog->root(), options, console);
  if (!report.ok()) return fail(exit_code_for(report.status()), report.status().to_string());
  if (report->interrupted)
    return fail(kExitInterrupted, "interrupted; run the same command again to resume");
  if (options.dry_run) return kExitOk;
  if (report->finalized || report->complete) print_outcome(stdout, *client, *report);
  // This worker's trials decide its exit code (another shard's failures are that shard's).
  if (print_failures(stderr, *report, [&](const sw::Trial& t) { return options.shard.owns(t); }) >
      0) {
    return kExitTrialsFailed;
  }
  if (report->finalized && !report->best) {
    return fail(kExitTrialsFailed,
                fmt::format("no trial logged the metric '{}'", report->spec->metric.name));
  }
  return kExitOk;
}

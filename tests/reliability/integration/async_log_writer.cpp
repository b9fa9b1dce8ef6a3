// SPDX-License-Identifier: Apache-2.0
// A program that logs through AsyncLogger, for tests that need separate processes: several at once
// (load), killed with SIGKILL (crash), SIGTERM/SIGINT or an uncaught exception (lifecycle).
//
// async_log_writer --uri URI --spool DIR --experiment NAME --prefix P --runs N --metrics M
//                  [--nested] [--hold] [--wait-spooled] [--throw] [--hooks] [--close-ms T]
//                  [--hook-ms T] [--max-retries N] [--request-timeout-ms T] [--exit]
//                  [--cwd DIR] [--wait-file PATH]
// Run i (0-based) logs metric "m" with value i*M+j at step j for j in [0, M), param "run_index"=i
// and tag "writer"=P. --nested puts the runs under a parent "P-parent". Prints "RUN <name> <key>"
// per run and "READY" once everything is logged (then "SPOOLED" with --wait-spooled, once all of it
// is in the spool); --hold then waits to be signalled; --throw then throws; --exit then calls
// std::exit(0) with the logger still open (held here, so never destroyed). --hooks installs the
// process hooks with --hook-ms (default 20000) as their timeout. --max-retries N (default 1),
// --request-timeout-ms (default 10000). --cwd runs it in DIR (local mode: --uri "" is
// DIR/mlflow.db). --wait-file prints "OPENED" once the logger is open, then waits for PATH to exist
// before it logs anything. Otherwise closes (--close-ms, default 60000) and prints "CLOSED
// complete=<0|1> <counters>".
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mlflow/async_logger.h"

int main(int argc, char** argv) {
  std::string uri, spool, experiment = "async-writer", prefix = "w", cwd, wait_file;
  int runs = 1, metrics = 100;
  long close_ms = 60000, hook_ms = 20000, request_timeout_ms = 10000;
  bool nested = false, hold = false, throw_at_end = false, hooks = false, wait_spooled = false,
       exit_at_end = false;
  int max_retries = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "async_log_writer: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--uri")
      uri = next();
    else if (a == "--spool")
      spool = next();
    else if (a == "--experiment")
      experiment = next();
    else if (a == "--prefix")
      prefix = next();
    else if (a == "--runs")
      runs = std::atoi(next().c_str());
    else if (a == "--metrics")
      metrics = std::atoi(next().c_str());
    else if (a == "--close-ms")
      close_ms = std::atol(next().c_str());
    else if (a == "--hook-ms")
      hook_ms = std::atol(next().c_str());
    else if (a == "--request-timeout-ms")
      request_timeout_ms = std::atol(next().c_str());
    else if (a == "--nested")
      nested = true;
    else if (a == "--hold")
      hold = true;
    else if (a == "--throw")
      throw_at_end = true;
    else if (a == "--exit")
      exit_at_end = true;
    else if (a == "--hooks")
      hooks = true;
    else if (a == "--wait-spooled")
      wait_spooled = true;
    else if (a == "--max-retries")
      max_retries = std::atoi(next().c_str());
    else if (a == "--cwd")
      cwd = next();
    else if (a == "--wait-file")
      wait_file = next();
    else {
      std::fprintf(stderr, "async_log_writer: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
    std::fprintf(stderr, "async_log_writer: cannot change to %s: %s\n", cwd.c_str(),
                 std::strerror(errno));
    return 2;
  }
  mlflow::AsyncLoggerOptions options;
  options.spool_dir = spool;
  options.probe_interval = std::chrono::milliseconds(500);
  options.retry.max_retries = max_retries;
  options.retry.request_timeout = std::chrono::milliseconds(request_timeout_ms);
  auto logger = mlflow::AsyncLogger::open_uri(uri, options);
  if (!logger.ok()) {
    std::fprintf(stderr, "async_log_writer: %s\n", logger.status().message().c_str());
    return 2;
  }
  if (hooks) mlflow::AsyncLogger::install_process_hooks(std::chrono::milliseconds(hook_ms));
  if (!wait_file.empty()) {
    std::printf("OPENED\n");
    std::fflush(stdout);
    while (::access(wait_file.c_str(), F_OK) != 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  mlflow::RunOptions base;
  base.experiment_name = experiment;
  std::vector<mlflow::AsyncRun> handles;
  std::optional<mlflow::AsyncRun> parent;
  if (nested) {
    mlflow::RunOptions p = base;
    p.run_name = prefix + "-parent";
    auto r = (*logger)->start_run(p);
    if (!r.ok()) return 2;
    parent.emplace(std::move(*r));
    std::printf("RUN %s %s\n", p.run_name.c_str(), parent->key().c_str());
  }
  for (int i = 0; i < runs; ++i) {
    mlflow::RunOptions o = base;
    o.run_name = prefix + "-" + std::to_string(i);
    auto r = parent ? parent->start_child(o) : (*logger)->start_run(o);
    if (!r.ok()) {
      std::fprintf(stderr, "async_log_writer: %s\n", r.status().message().c_str());
      return 2;
    }
    std::printf("RUN %s %s\n", o.run_name.c_str(), r->key().c_str());
    (void)r->log_param("run_index", std::to_string(i));
    (void)r->set_tag("writer", prefix);
    handles.push_back(std::move(*r));
  }
  std::fflush(stdout);
  // Round-robin over the runs, as a sweep's trials or a trainer's several runs would interleave.
  for (int j = 0; j < metrics; ++j) {
    for (int i = 0; i < runs; ++i) {
      (void)handles[static_cast<std::size_t>(i)].log_metric(
          "m", static_cast<double>(i) * metrics + j, j);
    }
  }
  std::printf("READY\n");
  std::fflush(stdout);
  if (wait_spooled) {
    // The server is away: wait until everything logged is on disk (the crash test kills us then).
    for (;;) {
      auto c = (*logger)->counters();
      if (c.spooled >= c.queued) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::printf("SPOOLED\n");
    std::fflush(stdout);
  }
  if (hold) {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (throw_at_end) throw std::runtime_error("training failed (test)");
  if (exit_at_end) std::exit(0);
  for (auto& h : handles) h.end();
  if (parent) parent->end();
  auto report = (*logger)->close(std::chrono::milliseconds(close_ms));
  const auto& c = report.counters;
  std::printf("CLOSED complete=%d queued=%llu sent=%llu spooled=%llu rejected=%llu\n",
              report.complete ? 1 : 0, static_cast<unsigned long long>(c.queued),
              static_cast<unsigned long long>(c.sent), static_cast<unsigned long long>(c.spooled),
              static_cast<unsigned long long>(c.rejected));
  return report.complete ? 0 : 3;
}

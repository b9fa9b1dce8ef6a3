// SPDX-License-Identifier: Apache-2.0
// A worker's trials: planned from what the server says, started as child runs and processes (cores
// shared among them), supervised (heartbeats, status, Ctrl-C) and completed.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "mlflow/system_tags.h"
#include "sweep_run.h"

namespace mlflow::sweep::detail {

namespace fs = std::filesystem;

namespace {

// The CPUs this process may run on (Slurm's cpus-per-task, taskset, cgroup cpusets), not the
// node's.
int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

Liveness SweepRun::liveness() const {
  return {host_name(), process_alive, clock().wall_ms(), options_.stale_after, process_start_time};
}

// Reads what the server has, marks dead RUNNING attempts FAILED, and queues this worker's trials.
Status SweepRun::plan() {
  auto latest = latest_attempts(client_, report_.experiment_id, report_.parent_run_id);
  if (!latest.ok()) return latest.status();
  const Liveness live = liveness();
  std::vector<TrialState> states;
  for (const Trial& t : trials_) {
    auto it = latest->find(t.config_hash);
    const Run* attempt = it == latest->end() ? nullptr : &it->second;
    TrialState state = classify_attempt(attempt, live);
    if (options_.shard.owns(t)) {
      if (state == TrialState::kRunningStale && !options_.dry_run) {
        const std::string why =
            fmt::format("its process died (host {}, pid {})", tag_value(*attempt, kTagHost),
                        tag_value(*attempt, kTagTrialPid));
        MLFLOW_CPP_RETURN_IF_ERROR(client_.set_tag(attempt->info.run_id, kTagError, why));
        auto failed =
            client_.update_run(attempt->info.run_id, RunStatus::kFailed, clock().wall_ms());
        if (!failed.ok()) return failed.status().with_context("marking a dead trial FAILED");
        observer_.message(fmt::format("trial {} was left RUNNING: {}; marked FAILED, it runs again",
                                      t.index, why));
      }
      if (state == TrialState::kPending || state == TrialState::kFailed ||
          state == TrialState::kRunningStale) {
        queue_.push_back(&t);
      }
    }
    states.push_back(state);
  }
  auto results = detail::collect_results(client_, spec_, trials_, report_.experiment_id,
                                         report_.parent_run_id);
  if (!results.ok()) return results.status();
  report_.trials = std::move(*results);
  observer_.planned(report_, states, static_cast<int>(queue_.size()));
  return ok_status();
}

// Cores split among the trials that will run alongside this one: `parallel` of them while the queue
// is long, fewer at the tail (the last trial of three with --parallel 2 gets every core).
int SweepRun::threads_per_trial(std::size_t running) const {
  const int cores = options_.cores > 0 ? options_.cores : usable_cores();
  const std::size_t alongside = std::min<std::size_t>(
      static_cast<std::size_t>(std::max(1, options_.parallel)), running + queue_.size() + 1);
  return std::max(1, cores / static_cast<int>(alongside));
}

std::string SweepRun::log_dir() const {
  if (!options_.log_dir.empty()) return options_.log_dir;
  return (fs::temp_directory_path() / fmt::format("mlflow-cpp-sweep-{}", ::getpid())).string();
}

// Another worker may have taken the trial since the plan was made (two unsharded workers).
StatusOr<bool> SweepRun::still_to_run(const Trial& t) {
  auto latest = latest_attempts(client_, report_.experiment_id, report_.parent_run_id);
  if (!latest.ok()) return latest.status();
  auto it = latest->find(t.config_hash);
  const TrialState state =
      classify_attempt(it == latest->end() ? nullptr : &it->second, liveness());
  return state != TrialState::kFinished && state != TrialState::kRunning;
}

StatusOr<std::optional<SweepRun::Active>> SweepRun::start(const Trial& t, std::size_t running) {
  auto wanted = still_to_run(t);
  if (!wanted.ok()) return wanted.status();
  if (!*wanted) {
    observer_.message(
        fmt::format("trial {} was taken by another worker meanwhile: skipped", t.index));
    return std::optional<Active>();
  }
  MlflowClient::RunCreate create;
  create.experiment_id = report_.experiment_id;
  create.run_name = fmt::format("{}-{}", spec_.name, t.index);
  create.tags = mlflow::system_tags("sweep_runner");
  create.tags.push_back({"mlflow.parentRunId", report_.parent_run_id});
  create.tags.push_back({kTagSweepName, spec_.name});
  create.tags.push_back({kTagTrial, std::to_string(t.index)});
  create.tags.push_back({kTagConfigHash, t.config_hash});
  create.tags.push_back({kTagHost, host_name()});
  create.tags.push_back({kTagRunnerPid, process_identity(::getpid())});
  create.tags.push_back({kTagHeartbeat, std::to_string(clock().wall_ms())});
  auto run = client_.create_run(create);
  if (!run.ok())
    return run.status().with_context(fmt::format("creating the run of trial {}", t.index));
  const std::string run_id = run->info.run_id;
  if (!spec_.program.def.logs_params) {
    // A program that logs its settings itself logs every effective one; others get the trial's
    // here.
    std::vector<Param> params;
    for (const auto& [k, v] : t.params) params.push_back({k, v});
    MLFLOW_CPP_RETURN_IF_ERROR(
        client_.log_batch(run_id, {}, params).with_context("logging trial params"));
  }
  const int threads = threads_per_trial(running);
  std::error_code ec;
  fs::create_directories(log_dir(), ec);
  const std::string log_file =
      (fs::path(log_dir()) / fmt::format("{}-trial-{}-{}.log", spec_.name, t.index, run_id))
          .string();
  std::map<std::string, std::string> env{{"MLFLOW_RUN_ID", run_id},
                                         {"MLFLOW_TRACKING_URI", client_.tracking_uri()},
                                         {"MLFLOW_EXPERIMENT_ID", report_.experiment_id},
                                         {"OMP_NUM_THREADS", std::to_string(threads)}};
  // With --parallel above 1, OpenMP's default spin-waiting burns cores the other trials need (the
  // batch_size sweep took 1.44-1.53x as long with --parallel 2 on 2 cores); passive waiting does
  // not change results, but slows a trial running alone, so --parallel 1 keeps the default. A
  // user's own setting wins.
  if (options_.parallel > 1 && std::getenv("OMP_WAIT_POLICY") == nullptr)
    env["OMP_WAIT_POLICY"] = "PASSIVE";
  auto process = TrialProcess::spawn(
      spec_.program.def.trial_command(t.params, spec_.experiment, threads), env, log_file);
  if (!process.ok()) {
    (void)client_.set_tag(run_id, kTagError, process.status().message());
    (void)client_.update_run(run_id, RunStatus::kFailed, clock().wall_ms());
    return process.status();
  }
  (void)client_.set_tag(run_id, kTagTrialPid, process_identity(process->pid()));
  TrialResult shown{t, run_id, RunStatus::kRunning, {}, 0, true, {}, {}};
  observer_.trial_started(spec_, shown, threads);
  return std::optional<Active>(Active{&t, run_id, log_file, std::move(*process), clock().now()});
}

// The process has ended: make sure the run says how, keep its output, report it.
void SweepRun::complete(Active& a) {
  const ProcessExit& exit = a.process.exit();
  TrialResult r;
  r.trial = *a.trial;
  r.run_id = a.run_id;
  r.ran_now = true;
  r.log_file = a.log_file;
  r.seconds = std::chrono::duration<double>(clock().now() - a.started).count();
  // The process is gone, so the run holds everything it will log.
  if (auto run = client_.get_run(a.run_id); run.ok()) {
    r.status = run->info.status;
    r.metric = metric_value(*run, spec_.metric.name);
    if (run->info.status == RunStatus::kRunning) {  // the program did not end its run
      // Stopped by us (Ctrl-C, SIGTERM, or SIGKILL after the grace period) counts as KILLED.
      const bool stopped = exit.interrupted() || report_.interrupted;
      r.status = exit.ok() ? RunStatus::kFinished
                 : stopped ? RunStatus::kKilled
                           : RunStatus::kFailed;
      (void)client_.update_run(a.run_id, *r.status, clock().wall_ms());
    }
  }
  if (!exit.ok()) {
    const std::string last = last_line(a.log_file, 300);
    r.note = exit.describe() + (last.empty() ? "" : ": " + last);
    (void)client_.set_tag(a.run_id, kTagError, r.note);
  }
  (void)client_.log_artifact(a.run_id, a.log_file, "sweep");
  for (auto& t : report_.trials) {
    if (t.trial.index == r.trial.index) t = r;
  }
  observer_.trial_finished(spec_, r);
}

Status SweepRun::execute() {
  std::vector<Active> active;
  detail::SupervisionTimers timers(options_, clock().now());
  Status error;
  while ((!queue_.empty() && error.ok() && !is_interrupted(options_)) || !active.empty()) {
    while (error.ok() && !is_interrupted(options_) && !queue_.empty() &&
           static_cast<int>(active.size()) < std::max(1, options_.parallel)) {
      const Trial& next = *queue_.front();
      queue_.pop_front();
      auto started = start(next, active.size());
      if (!started.ok()) {
        error = started.status();
        break;
      }
      if (*started) active.push_back(std::move(**started));
    }
    if (is_interrupted(options_) && !report_.interrupted) {
      report_.interrupted = true;
      observer_.message("interrupted: stopping the running trials (they end KILLED)");
      for (auto& a : active) a.process.signal(SIGINT);
      timers.interrupted(clock().now());
    }
    if (timers.kill_due(clock().now())) {
      for (auto& a : active) a.process.signal(SIGKILL);
    }
    for (auto it = active.begin(); it != active.end();) {
      if (it->process.poll()) {
        complete(*it);
        it = active.erase(it);
      } else {
        ++it;
      }
    }
    const auto now = clock().now();
    if (timers.heartbeat_due(now)) {
      for (auto& a : active)
        (void)client_.set_tag(a.run_id, kTagHeartbeat, std::to_string(clock().wall_ms()));
    }
    if (timers.status_due(now) && !active.empty()) {
      std::vector<RunningTrial> running;
      running.reserve(active.size());
      for (auto& a : active) {
        running.push_back({a.trial, a.run_id,
                           std::chrono::duration<double>(now - a.started).count(),
                           last_line(a.log_file)});
      }
      observer_.tick(spec_, running);
    }
    if (!active.empty() || (!queue_.empty() && error.ok()))
      clock().sleep_for(options_.poll_interval);
  }
  return error;
}

}  // namespace mlflow::sweep::detail

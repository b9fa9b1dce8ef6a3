// SPDX-License-Identifier: Apache-2.0
// The sweep engine: dependencies, the parent run, scheduling trial processes, resume and sharding.
#include "mlflow/sweep/runner.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "mlflow/registry.h"
#include "mlflow/sweep/trial_process.h"
#include "pacing.h"
#include "sweep_internal.h"

namespace mlflow::sweep {

namespace fs = std::filesystem;
using detail::Deadline;
using detail::wait_a_while;

int SweepReport::failed() const {
  return static_cast<int>(std::count_if(trials.begin(), trials.end(), [](const TrialResult& r) {
    return r.status == RunStatus::kFailed || r.status == RunStatus::kKilled;
  }));
}

namespace detail {

StatusOr<std::optional<std::string>> dependency_value(MlflowClient& client, const Dependency& dep) {
  if (dep.kind == Dependency::Kind::kModelAlias) {
    auto v = find_version_by_alias(client, dep.model_name, dep.alias);
    if (!v.ok()) return v.status();
    if (!*v) return std::optional<std::string>();
    return std::optional<std::string>((*v)->version);
  }
  const SweepSpec& producer = *dep.producer;
  auto experiment = client.get_experiment_by_name(producer.experiment);
  if (!experiment.ok()) {
    if (experiment.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return experiment.status();
  }
  auto parent = find_parent_run(client, experiment->experiment_id, producer);
  if (!parent.ok()) return parent.status();
  if (!*parent) return std::optional<std::string>();
  const std::string best = tag_value(**parent, kTagBestRunId);
  if (best.empty()) return std::optional<std::string>();
  auto run = client.get_run(best);
  if (!run.ok()) return run.status().with_context("reading the best trial of sweep '" + producer.name + "'");
  auto value = param_value(*run, dep.parameter->from_parameter);
  if (!value) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("{}: the best trial of sweep '{}' (run {}) has no param '{}'",
                              dep.parameter->where.to_string(), producer.name, best, dep.parameter->from_parameter));
  }
  return std::optional<std::string>(*value);
}

}  // namespace detail

namespace {

using detail::dependency_value;

// The CPUs this process may run on (Slurm's cpus-per-task, taskset, cgroup cpusets), not the node's.
int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

bool is_interrupted(const RunnerOptions& o) { return o.interrupted && o.interrupted(); }

class SweepRun {
 public:
  SweepRun(MlflowClient& client, const SpecCatalog& catalog, const SweepSpec& spec, const RunnerOptions& options,
           SweepObserver& observer)
      : client_(client), catalog_(catalog), spec_(spec), options_(options), observer_(observer) {
    report_.spec = &spec;
  }

  SweepClock& clock() const { return detail::clock_of(options_); }

  StatusOr<SweepReport> run() {
    ResolvedValues resolved;
    MLFLOW_CPP_RETURN_IF_ERROR(resolve_dependencies(resolved));
    if (report_.interrupted) return report_;
    auto trials = expand_trials(spec_, resolved);
    if (!trials.ok()) return trials.status();
    trials_ = std::move(*trials);
    MLFLOW_CPP_RETURN_IF_ERROR(attach_parent());
    if (report_.interrupted) return report_;
    if (report_.parent_run_id.empty()) {  // dry run of a sweep never started
      for (const Trial& t : trials_) report_.trials.push_back(TrialResult{t, {}, {}, {}, 0, false, {}, {}});
      observer_.planned(report_, std::vector<TrialState>(trials_.size(), TrialState::kPending),
                        owned_count());
      return report_;
    }
    MLFLOW_CPP_RETURN_IF_ERROR(after_start(plan()));
    if (options_.dry_run) return report_;
    MLFLOW_CPP_RETURN_IF_ERROR(after_start(execute()));
    if (report_.interrupted) {
      // A sharded worker leaves the shared parent to the others: its own trials say KILLED.
      if (!options_.shard.sharded()) {
        auto ended = client_.update_run(report_.parent_run_id, RunStatus::kKilled, clock().wall_ms());
        if (!ended.ok()) observer_.message("could not mark the parent run KILLED: " + ended.status().to_string());
      }
      auto results = detail::collect_results(client_, spec_, trials_, report_.experiment_id, report_.parent_run_id);
      if (results.ok()) merge(std::move(*results));
      observer_.finished(report_);
      return report_;
    }
    MLFLOW_CPP_RETURN_IF_ERROR(after_start(conclude()));
    observer_.finished(report_);
    return report_;
  }

  // Once the parent run exists, a failure ends it FAILED (with the reason) and is no longer a usage
  // error: sweep_runner exits 1, and the next invocation resumes.
  Status after_start(Status s) {
    if (s.ok() || options_.dry_run) return s;
    (void)client_.set_tag(report_.parent_run_id, kTagError, s.to_string().substr(0, 5000));
    if (!options_.shard.sharded()) (void)client_.update_run(report_.parent_run_id, RunStatus::kFailed, clock().wall_ms());
    return Status(StatusCode::kAborted, s.message(), s.http_status(), s.error_code());
  }

  StatusOr<SweepReport> finalize_only() {
    ResolvedValues resolved;
    for (const Dependency& d : catalog_.dependencies(spec_)) {
      if (d.kind != Dependency::Kind::kBestTrial) continue;
      auto value = dependency_value(client_, d);
      if (!value.ok()) return value.status();
      if (!*value) return missing(d, "");
      resolved[d.parameter->name] = **value;
    }
    auto trials = expand_trials(spec_, resolved);
    if (!trials.ok()) return trials.status();
    trials_ = std::move(*trials);
    auto experiment = client_.get_experiment_by_name(spec_.experiment);
    if (!experiment.ok()) return experiment.status().with_context("sweep '" + spec_.name + "' has not run");
    report_.experiment_id = experiment->experiment_id;
    auto parent = find_parent_run(client_, report_.experiment_id, spec_);
    if (!parent.ok()) return parent.status();
    if (!*parent) {
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("{}: sweep '{}' has no parent run in experiment '{}' yet: run it first", spec_.file,
                                spec_.name, spec_.experiment));
    }
    report_.parent_run_id = (*parent)->info.run_id;
    report_.ui_link = client_.run_ui_url(report_.experiment_id, report_.parent_run_id);
    auto results = detail::collect_results(client_, spec_, trials_, report_.experiment_id, report_.parent_run_id);
    if (!results.ok()) return results.status();
    report_.trials = std::move(*results);
    std::vector<std::string> open;
    for (const auto& r : report_.trials) {
      if (!r.ended()) {
        open.push_back(std::to_string(r.trial.index));
      }
    }
    if (!open.empty()) {
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("sweep '{}': trials {} have not ended yet; finalize when every trial has run",
                                spec_.name, fmt::join(open, ", ")));
    }
    report_.complete = true;
    MLFLOW_CPP_RETURN_IF_ERROR(detail::finalize(client_, spec_, report_, observer_));
    observer_.finished(report_);
    return report_;
  }

 private:
  Status missing(const Dependency& d, const std::string& advice) const {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("{}: parameter '{}' needs {}, which does not exist yet{}", d.parameter->where.to_string(),
                              d.parameter->name, d.describe(), advice));
  }

  // Runs (or, in a dry run, describes) the specs producing what this one needs; fills from_sweep values.
  Status resolve_dependencies(ResolvedValues& resolved) {
    for (const Dependency& d : catalog_.dependencies(spec_)) {
      auto value = dependency_value(client_, d);
      if (!value.ok()) return value.status();
      if (!*value) {
        if (d.producer == nullptr) {
          return missing(d, fmt::format(" and no spec in {} registers it", fs::path(spec_.file).parent_path().string()));
        }
        if (options_.no_deps) {
          return missing(d, fmt::format("; run `sweep_runner {}` first, or drop --no-deps", d.producer->file));
        }
        if (options_.dry_run) {
          observer_.message(fmt::format("sweep '{}' needs {}: it would run {} first", spec_.name, d.describe(),
                                        d.producer->file));
          auto sub = SweepRun(client_, catalog_, *d.producer, options_, observer_).run();
          if (!sub.ok()) return sub.status();
          if (d.kind == Dependency::Kind::kBestTrial) resolved[d.parameter->name] = "<best of " + d.producer->name + ">";
          continue;
        }
        observer_.message(fmt::format("sweep '{}' needs {}: running {} first", spec_.name, d.describe(), d.producer->file));
        auto sub = SweepRun(client_, catalog_, *d.producer, options_, observer_).run();
        if (!sub.ok()) return sub.status();
        if (sub->interrupted) {
          report_.interrupted = true;
          return ok_status();
        }
        MLFLOW_CPP_RETURN_IF_ERROR(wait_for(d, value));
        if (report_.interrupted) return ok_status();
        if (!*value) {
          return Status(StatusCode::kFailedPrecondition,
                        fmt::format("{}: {} ran but did not produce {} (see its failed trials)",
                                    d.parameter->where.to_string(), d.producer->file, d.describe()));
        }
      }
      if (d.kind == Dependency::Kind::kBestTrial) resolved[d.parameter->name] = **value;
    }
    return ok_status();
  }

  // Another shard may still be producing the dependency: wait for it (unsharded: look once).
  Status wait_for(const Dependency& d, StatusOr<std::optional<std::string>>& value) {
    const Deadline deadline(options_, options_.wait_timeout);
    bool told = false;
    while (true) {
      value = dependency_value(client_, d);
      if (!value.ok()) return value.status();
      if (*value || !options_.shard.sharded()) return ok_status();
      if (deadline.passed()) {
        return Status(StatusCode::kDeadlineExceeded, fmt::format("waited {} s for {} from the other shards",
                                                                 options_.wait_timeout.count() / 1000, d.describe()));
      }
      if (!told) observer_.message(fmt::format("waiting for the other shards to finish {}", d.describe()));
      told = true;
      if (!wait_a_while(options_, options_.dependency_poll)) {
        report_.interrupted = true;
        return ok_status();
      }
    }
  }

  int owned_count() const {
    return static_cast<int>(std::count_if(trials_.begin(), trials_.end(), [&](const Trial& t) { return options_.shard.owns(t); }));
  }

  // Finds the sweep's parent run, or creates it (shard 0 only: the other shards wait for it).
  Status attach_parent() {
    if (options_.dry_run) {
      auto experiment = client_.get_experiment_by_name(spec_.experiment);
      if (!experiment.ok()) {
        if (experiment.status().code() == StatusCode::kNotFound) return ok_status();
        return experiment.status();
      }
      report_.experiment_id = experiment->experiment_id;
    } else {
      auto experiment = client_.get_or_create_experiment(spec_.experiment);
      if (!experiment.ok()) return experiment.status().with_context("experiment '" + spec_.experiment + "'");
      report_.experiment_id = *experiment;
    }
    const Deadline deadline(options_, options_.wait_timeout);
    bool told = false;
    while (true) {
      auto parent = find_parent_run(client_, report_.experiment_id, spec_);
      if (!parent.ok()) return parent.status();
      if (*parent) {
        report_.parent_run_id = (*parent)->info.run_id;
        const bool ended = (*parent)->info.status != RunStatus::kRunning;
        if (ended && !options_.dry_run) {
          auto resumed = client_.update_run(report_.parent_run_id, RunStatus::kRunning);
          if (!resumed.ok()) return resumed.status().with_context("resuming the parent run");
        }
        break;
      }
      if (options_.dry_run) return ok_status();
      if (!options_.shard.sharded() || options_.shard.index == 0) {
        MLFLOW_CPP_RETURN_IF_ERROR(create_parent());
        break;
      }
      if (deadline.passed()) {
        return Status(StatusCode::kDeadlineExceeded,
                      fmt::format("shard {}/{}: shard 0 did not create the parent run of sweep '{}' within {} s",
                                  options_.shard.index, options_.shard.count, spec_.name,
                                  options_.wait_timeout.count() / 1000));
      }
      if (!told) observer_.message(fmt::format("waiting for shard 0 to create the parent run of sweep '{}'", spec_.name));
      told = true;
      if (!wait_a_while(options_, options_.parent_poll)) {
        report_.interrupted = true;
        return ok_status();
      }
    }
    report_.ui_link = client_.run_ui_url(report_.experiment_id, report_.parent_run_id);
    return ok_status();
  }

  Status create_parent() {
    MlflowClient::RunCreate create;
    create.experiment_id = report_.experiment_id;
    create.run_name = spec_.name;
    create.tags = system_tags();
    create.tags.push_back({kTagSweepName, spec_.name});
    create.tags.push_back({kTagSpecHash, spec_.hash});
    create.tags.push_back({kTagSpecFile, fs::path(spec_.file).filename().string()});
    if (!spec_.description.empty()) create.tags.push_back({"mlflow.note.content", spec_.description});
    auto run = client_.create_run(create);
    if (!run.ok()) return run.status().with_context("creating the parent run of sweep '" + spec_.name + "'");
    report_.parent_run_id = run->info.run_id;
    std::vector<Param> params = {{"method", spec_.method},
                                 {"metric", spec_.metric.name},
                                 {"goal", spec_.metric.maximize ? "maximize" : "minimize"},
                                 {"trials", std::to_string(trials_.size())},
                                 {"program", spec_.program.label()}};
    MLFLOW_CPP_RETURN_IF_ERROR(client_.log_batch(report_.parent_run_id, {}, params).with_context("logging the sweep"));
    return client_.log_artifact(report_.parent_run_id, spec_.file, "").with_context("logging the spec file");
  }

  static Tags system_tags() {
    const char* user = std::getenv("USER");
    return {{"mlflow.user", user ? user : "unknown"},
            {"mlflow.source.name", "sweep_runner"},
            {"mlflow.source.type", "LOCAL"}};
  }

  void merge(std::vector<TrialResult> results) {
    for (auto& r : results) {
      for (const TrialResult& old : report_.trials) {
        if (old.trial.index == r.trial.index && old.ran_now) {
          r.ran_now = true;
          r.log_file = old.log_file;
        }
      }
    }
    report_.trials = std::move(results);
  }

  Liveness liveness() const {
    return {host_name(), process_alive, clock().wall_ms(), options_.stale_after.count(), process_start_time};
  }

  // Reads what the server has, marks dead RUNNING attempts FAILED, and queues this worker's trials.
  Status plan() {
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
          const std::string why = fmt::format("its process died (host {}, pid {})", tag_value(*attempt, kTagHost),
                                              tag_value(*attempt, kTagTrialPid));
          MLFLOW_CPP_RETURN_IF_ERROR(client_.set_tag(attempt->info.run_id, kTagError, why));
          auto failed = client_.update_run(attempt->info.run_id, RunStatus::kFailed, clock().wall_ms());
          if (!failed.ok()) return failed.status().with_context("marking a dead trial FAILED");
          observer_.message(fmt::format("trial {} was left RUNNING: {}; marked FAILED, it runs again", t.index, why));
        }
        if (state == TrialState::kPending || state == TrialState::kFailed || state == TrialState::kRunningStale) {
          queue_.push_back(&t);
        }
      }
      states.push_back(state);
    }
    auto results = detail::collect_results(client_, spec_, trials_, report_.experiment_id, report_.parent_run_id);
    if (!results.ok()) return results.status();
    report_.trials = std::move(*results);
    observer_.planned(report_, states, static_cast<int>(queue_.size()));
    return ok_status();
  }

  struct Active {
    const Trial* trial;
    std::string run_id;
    std::string log_file;
    TrialProcess process;
    SweepClock::time_point started;
  };

  // Cores split among the trials that will run alongside this one: `parallel` of them while the queue
  // is long, fewer at the tail (the last trial of three with --parallel 2 gets every core).
  int threads_per_trial(std::size_t running) const {
    const int cores = options_.cores > 0 ? options_.cores : usable_cores();
    const std::size_t alongside = std::min<std::size_t>(static_cast<std::size_t>(std::max(1, options_.parallel)),
                                                        running + queue_.size() + 1);
    return std::max(1, cores / static_cast<int>(alongside));
  }

  std::string log_dir() const {
    if (!options_.log_dir.empty()) return options_.log_dir;
    return (fs::temp_directory_path() / fmt::format("mlflow-cpp-sweep-{}", ::getpid())).string();
  }

  // Another worker may have taken the trial since the plan was made (two unsharded workers).
  StatusOr<bool> still_to_run(const Trial& t) {
    auto latest = latest_attempts(client_, report_.experiment_id, report_.parent_run_id);
    if (!latest.ok()) return latest.status();
    auto it = latest->find(t.config_hash);
    const TrialState state = classify_attempt(it == latest->end() ? nullptr : &it->second, liveness());
    return state != TrialState::kFinished && state != TrialState::kRunning;
  }

  StatusOr<std::optional<Active>> start(const Trial& t, std::size_t running) {
    auto wanted = still_to_run(t);
    if (!wanted.ok()) return wanted.status();
    if (!*wanted) {
      observer_.message(fmt::format("trial {} was taken by another worker meanwhile: skipped", t.index));
      return std::optional<Active>();
    }
    MlflowClient::RunCreate create;
    create.experiment_id = report_.experiment_id;
    create.run_name = fmt::format("{}-{}", spec_.name, t.index);
    create.tags = system_tags();
    create.tags.push_back({"mlflow.parentRunId", report_.parent_run_id});
    create.tags.push_back({kTagSweepName, spec_.name});
    create.tags.push_back({kTagTrial, std::to_string(t.index)});
    create.tags.push_back({kTagConfigHash, t.config_hash});
    create.tags.push_back({kTagHost, host_name()});
    create.tags.push_back({kTagRunnerPid, process_identity(::getpid())});
    create.tags.push_back({kTagHeartbeat, std::to_string(clock().wall_ms())});
    auto run = client_.create_run(create);
    if (!run.ok()) return run.status().with_context(fmt::format("creating the run of trial {}", t.index));
    const std::string run_id = run->info.run_id;
    if (!spec_.program.def.logs_params) {
      // A program that logs its settings itself logs every effective one; others get the trial's here.
      std::vector<Param> params;
      for (const auto& [k, v] : t.params) params.push_back({k, v});
      MLFLOW_CPP_RETURN_IF_ERROR(client_.log_batch(run_id, {}, params).with_context("logging trial params"));
    }
    const int threads = threads_per_trial(running);
    std::error_code ec;
    fs::create_directories(log_dir(), ec);
    const std::string log_file = (fs::path(log_dir()) / fmt::format("{}-trial-{}-{}.log", spec_.name, t.index, run_id)).string();
    std::map<std::string, std::string> env{{"MLFLOW_RUN_ID", run_id},
                                           {"MLFLOW_TRACKING_URI", client_.tracking_uri()},
                                           {"MLFLOW_EXPERIMENT_ID", report_.experiment_id},
                                           {"OMP_NUM_THREADS", std::to_string(threads)}};
    // With --parallel above 1, OpenMP's default spin-waiting burns cores the other trials need (the
    // batch_size sweep took 1.44-1.53x as long with --parallel 2 on 2 cores); passive waiting does not
    // change results, but slows a trial running alone, so --parallel 1 keeps the default. A user's own
    // setting wins.
    if (options_.parallel > 1 && std::getenv("OMP_WAIT_POLICY") == nullptr) env["OMP_WAIT_POLICY"] = "PASSIVE";
    auto process = TrialProcess::spawn(spec_.program.def.trial_command(t.params, spec_.experiment, threads), env,
                                       log_file);
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
  void complete(Active& a) {
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
        r.status = exit.ok() ? RunStatus::kFinished : stopped ? RunStatus::kKilled : RunStatus::kFailed;
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

  Status execute() {
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
        for (auto& a : active) (void)client_.set_tag(a.run_id, kTagHeartbeat, std::to_string(clock().wall_ms()));
      }
      if (timers.status_due(now) && !active.empty()) {
        std::vector<RunningTrial> running;
        for (auto& a : active) {
          running.push_back({a.trial, a.run_id, std::chrono::duration<double>(now - a.started).count(),
                             last_line(a.log_file)});
        }
        observer_.tick(spec_, running);
      }
      if (!active.empty() || (!queue_.empty() && error.ok())) clock().sleep_for(options_.poll_interval);
    }
    return error;
  }

  // Every worker that sees the sweep complete may finalize; a claim on the parent run picks one. The
  // claim is a tag (identity@ms): a worker that finds another's fresh claim leaves it the job; one that
  // writes its claim looks again a second later and goes on only if the claim is still its own, so of
  // two claiming at once the later writer wins. Nobody is left out: a claim is written by a worker that
  // is about to finalize and removed when it is done, and a stale one (a crashed worker) is taken over.
  StatusOr<bool> claim_finalize() {
    const std::string me = process_identity(::getpid()) + "/" + host_name();
    auto parent = client_.get_run(report_.parent_run_id);
    if (!parent.ok()) return parent.status().with_context("reading the parent run");
    if (detail::others_claim_is_fresh(tag_value(*parent, kTagFinalizer), me, clock().wall_ms(), options_.claim_fresh)) {
      return false;
    }
    MLFLOW_CPP_RETURN_IF_ERROR(client_.set_tag(report_.parent_run_id, kTagFinalizer, me + "@" + std::to_string(clock().wall_ms())));
    clock().sleep_for(options_.claim_settle);
    auto again = client_.get_run(report_.parent_run_id);
    if (!again.ok()) return again.status().with_context("reading the parent run");
    return tag_value(*again, kTagFinalizer).rfind(me + "@", 0) == 0;
  }

  // Every trial ended (by any worker)? Then one worker finalizes.
  Status conclude() {
    auto results = detail::collect_results(client_, spec_, trials_, report_.experiment_id, report_.parent_run_id);
    if (!results.ok()) return results.status();
    merge(std::move(*results));
    report_.complete =
        std::all_of(report_.trials.begin(), report_.trials.end(), [](const TrialResult& r) { return r.ended(); });
    if (report_.complete) {
      auto mine = claim_finalize();
      if (!mine.ok()) return mine.status();
      if (!*mine) {
        report_.best = best_trial(report_.trials, spec_.metric.maximize);
        observer_.message(fmt::format("sweep '{}': another worker is selecting and registering", spec_.name));
        return ok_status();
      }
    }
    if (!report_.complete) {
      report_.best = best_trial(report_.trials, spec_.metric.maximize);
      observer_.message(fmt::format(
          "sweep '{}': trials of other workers are still pending or running; the last worker to finish selects and "
          "registers (or run `sweep_runner finalize {}`)",
          spec_.name, spec_.file));
      return ok_status();
    }
    MLFLOW_CPP_RETURN_IF_ERROR(detail::finalize(client_, spec_, report_, observer_));
    (void)client_.delete_tag(report_.parent_run_id, kTagFinalizer);  // done: a later run may finalize again
    return ok_status();
  }

  MlflowClient& client_;
  const SpecCatalog& catalog_;
  const SweepSpec& spec_;
  const RunnerOptions& options_;
  SweepObserver& observer_;
  SweepReport report_;
  std::vector<Trial> trials_;
  std::deque<const Trial*> queue_;
};

}  // namespace

StatusOr<SweepReport> run_sweep(MlflowClient& client, const SpecCatalog& catalog, const SweepSpec& spec,
                                const RunnerOptions& options, SweepObserver& observer) {
  return SweepRun(client, catalog, spec, options, observer).run();
}

StatusOr<SweepReport> finalize_sweep(MlflowClient& client, const SpecCatalog& catalog, const SweepSpec& spec,
                                     const RunnerOptions& options, SweepObserver& observer) {
  return SweepRun(client, catalog, spec, options, observer).finalize_only();
}

}  // namespace mlflow::sweep

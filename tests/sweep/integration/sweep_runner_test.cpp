// SPDX-License-Identifier: Apache-2.0
// sweep_runner against the real server: chaining with fmnist_train on the smoke spec, resume after
// kill -9, two shards at once, the champion/challenger gate both ways, Ctrl-C, SIGTERM and SIGKILL
// of the runner, failed trials and their summary, bad input and grids the program refuses.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mlflow/sweep/program_check.h"
#include "mlflow/sweep/spec.h"
#include "mlflow/sweep/sweep_state.h"
#include "mlflow/sweep/trial_process.h"
#include "support/process.h"
#include "support/test_support.h"

using mlflow::RunStatus;
using mlflow::sweep::tag_value;
using mlflow::testing::ProcessResult;
using mlflow::testing::run_process;
using mlflow::testing::server_env;
using mlflow::testing::server_url;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;

namespace {

ProcessResult sweep(const std::vector<std::string>& args) {
  return run_process(SWEEP_RUNNER_PATH, args, server_env());
}

// sweep_runner in the background, its output in `log`.
mlflow::sweep::TrialProcess start_sweep(const std::vector<std::string>& args,
                                        const std::string& log) {
  std::vector<std::string> argv = {SWEEP_RUNNER_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = mlflow::sweep::TrialProcess::spawn(argv, {{"MLFLOW_TRACKING_URI", server_url()}}, log);
  REQUIRE(p.ok());
  return std::move(*p);
}

bool wait_until(const std::function<bool()>& done,
                std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int wait_exit(mlflow::sweep::TrialProcess& p) {
  REQUIRE(wait_until([&] { return p.poll(); }, std::chrono::seconds(240)));
  return p.exit().signal ? 128 + p.exit().signal : p.exit().code;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// A spec over the fake trainer; `params` is the YAML of the parameters block (indented two spaces).
std::string fake_spec(const std::string& name, const std::string& experiment,
                      const std::string& params, const std::string& model = {},
                      const std::string& goal = "maximize") {
  std::string s = "name: " + name + "\nexperiment: " + experiment +
                  "\nprogram: " + FAKE_TRAINER_PATH + "\nmetric: {name: score, goal: " + goal +
                  "}\nparameters:\n" + params;
  if (!model.empty()) s += "register: {model_name: " + model + "}\n";
  return s;
}

// A sweep over the fake trainer whose trials wait for the file `hold`, started in the background
// (spec DIR/NAME.yaml, output DIR/NAME.log); returned once its first trial runs, with that trial's
// pid.
struct HeldSweep {
  mlflow::sweep::TrialProcess runner;
  long trial_pid = 0;
};

HeldSweep start_held_sweep(const TempDir& dir, const std::string& name,
                           const std::string& experiment, const std::string& scores,
                           const std::string& hold) {
  const std::string started = dir.path() + "/started";
  write_file(dir.path() + "/" + name + ".yaml",
             fake_spec(name, experiment,
                       "  score: {values: " + scores + "}\n  hold: {value: \"" + hold +
                           "\"}\n  started: {value: \"" + started + "\"}\n"));
  HeldSweep held{start_sweep({dir.path() + "/" + name + ".yaml"}, dir.path() + "/" + name + ".log"),
                 0};
  REQUIRE(wait_until([&] { return exists(started); }));
  std::ifstream(started) >> held.trial_pid;
  REQUIRE(held.trial_pid > 0);
  return held;
}

struct SweepRuns {
  mlflow::Run parent;
  std::vector<mlflow::Run> children;
};

SweepRuns sweep_runs(mlflow::MlflowClient& client, const std::string& experiment,
                     const std::string& sweep_name) {
  auto exp = client.get_experiment_by_name(experiment);
  REQUIRE(exp.ok());
  mlflow::SearchOptions search;
  search.filter = "tags.`sweep.name` = '" + sweep_name + "' and tags.`sweep.spec_hash` != ''";
  auto parents = client.search_runs({exp->experiment_id}, search);
  REQUIRE(parents.ok());
  SweepRuns out;
  int parent_count = 0;
  for (auto& r : parents->items) {
    if (tag_value(r, "mlflow.parentRunId").empty()) {
      out.parent = r;
      ++parent_count;
    }
  }
  REQUIRE(parent_count == 1);
  search.filter = "tags.mlflow.parentRunId = '" + out.parent.info.run_id + "'";
  auto children = client.search_runs({exp->experiment_id}, search);
  REQUIRE(children.ok());
  out.children = children->items;
  return out;
}

std::string param(const mlflow::Run& run, const std::string& key) {
  return mlflow::sweep::param_value(run, key).value_or("<none>");
}

}  // namespace

#ifdef SWEEP_HAS_FMNIST_TRAIN  // not in a build without LibTorch (e.g. the TSan one): no
                               // fmnist_train to run
TEST_CASE(
    "sweep_runner: a chained smoke sweep runs its dependency first, logs nested runs, and "
    "resumes") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-smoke");
  const std::string model = unique_name("smoke-model");
  std::ifstream in(std::string(MLFLOW_CPP_SOURCE_DIR) + "/sweeps/smoke.yaml");
  std::string smoke((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  smoke.replace(smoke.find("experiment: sweep-smoke"), 23, "experiment: " + experiment);
  smoke.replace(smoke.find("model_name: fmnist-smoke"), 24, "model_name: " + model);
  write_file(dir.path() + "/smoke.yaml", smoke);
  write_file(dir.path() + "/smoke_seed.yaml",
             "name: smoke_seed\nexperiment: " + experiment +
                 "\nmetric: {name: best_val_accuracy}\nparameters:\n  model: {value: small_cnn}\n"
                 "  train_limit: {value: 1000}\n  max_epochs: {value: 1}\n  batch_size: "
                 "{from_sweep: smoke}\n"
                 "  seed: {values: [1, 2]}\nregister: {model_name: " +
                 model + "}\n");

  // --no-deps refuses, and a dry run starts nothing: no experiment appears.
  auto refused = sweep({dir.path() + "/smoke_seed.yaml", "--no-deps"});
  CAPTURE(refused.err);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("smoke_seed.yaml:8:15:") != std::string::npos);
  CHECK(refused.err.find("--no-deps") != std::string::npos);
  auto dry = sweep({dir.path() + "/smoke_seed.yaml", "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("would run") != std::string::npos);
  CHECK(dry.out.find("<best of smoke>") != std::string::npos);
  auto client = test_client();
  CHECK_FALSE(client.get_experiment_by_name(experiment).ok());

  auto r = sweep({dir.path() + "/smoke_seed.yaml", "--parallel", "2"});
  CAPTURE(r.out);
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("running " + dir.path() + "/smoke.yaml first") != std::string::npos);

  const SweepRuns first = sweep_runs(client, experiment, "smoke");
  CHECK(first.parent.info.status == RunStatus::kFinished);
  REQUIRE(first.children.size() == 2);
  std::set<std::string> batch_sizes;
  for (const auto& c : first.children) {
    CHECK(c.info.status == RunStatus::kFinished);
    batch_sizes.insert(param(c, "batch_size"));
    CHECK(param(c, "max_epochs") == "1");  // fmnist_train logged its settings
    CHECK(!tag_value(c, "sweep.config_hash").empty());
    CHECK(mlflow::sweep::metric_value(c, "best_val_accuracy").has_value());
  }
  CHECK(batch_sizes == std::set<std::string>{"32", "64"});
  const std::string best_run = tag_value(first.parent, "sweep.best_run_id");
  REQUIRE(!best_run.empty());
  auto best = client.get_run(best_run);
  REQUIRE(best.ok());
  CHECK(mlflow::sweep::metric_value(first.parent, "best_best_val_accuracy") ==
        mlflow::sweep::metric_value(*best, "best_val_accuracy"));
  auto artifacts = client.list_artifacts(first.parent.info.run_id, "");
  REQUIRE(artifacts.ok());
  std::set<std::string> files;
  for (const auto& f : *artifacts) files.insert(f.path);
  CHECK(files.count("smoke.yaml") == 1);
  CHECK(files.count("sweep_results.md") == 1);
  CHECK(files.count("sweep_results.json") == 1);

  // The chained sweep used the best batch size of the first one.
  const SweepRuns second = sweep_runs(client, experiment, "smoke_seed");
  CHECK(second.parent.info.status == RunStatus::kFinished);
  REQUIRE(second.children.size() == 2);
  for (const auto& c : second.children) CHECK(param(c, "batch_size") == param(*best, "batch_size"));
  auto champion = client.get_model_version_by_alias(model, "champion");
  REQUIRE(champion.ok());

  // Again: everything is skipped, no run is added.
  auto again = sweep({dir.path() + "/smoke_seed.yaml"});
  CAPTURE(again.out);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("finished: skipped") != std::string::npos);
  CHECK(again.out.find("started") == std::string::npos);
  CHECK(sweep_runs(client, experiment, "smoke_seed").children.size() == 2);
  CHECK(sweep_runs(client, experiment, "smoke").children.size() == 2);
}
#endif

TEST_CASE(
    "sweep_runner: after kill -9 of the runner and its trial, the next run marks the orphan FAILED "
    "and redoes it") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-kill");
  const std::string hold = dir.path() + "/hold";
  HeldSweep held = start_held_sweep(dir, "kill", experiment, "[0.1, 0.2, 0.3]", hold);
  auto& runner = held.runner;
  const long trial_pid = held.trial_pid;
  // Both die without a word. The runner is stopped first: killed first, its death would send the
  // trial SIGTERM (PR_SET_PDEATHSIG), which a loaded machine may let the trial act on (ending its
  // run KILLED) before the trial's SIGKILL; the trial killed first, a running runner would see it
  // die and end its run FAILED itself.
  ::kill(static_cast<pid_t>(runner.pid()), SIGSTOP);
  ::kill(static_cast<pid_t>(trial_pid), SIGKILL);
  ::kill(static_cast<pid_t>(runner.pid()), SIGKILL);
  wait_exit(runner);
  REQUIRE(wait_until([&] { return !mlflow::sweep::process_alive(trial_pid); }));

  auto client = test_client();
  {
    const SweepRuns orphaned = sweep_runs(client, experiment, "kill");
    REQUIRE(orphaned.children.size() == 1);
    CHECK(orphaned.children[0].info.status == RunStatus::kRunning);  // nobody ended it
  }
  write_file(hold, "go");
  auto r = sweep({dir.path() + "/kill.yaml"});
  CAPTURE(r.out);
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("marked FAILED") != std::string::npos);
  const SweepRuns after = sweep_runs(client, experiment, "kill");
  REQUIRE(after.children.size() == 4);  // the dead attempt and three finished ones
  std::map<std::string, std::vector<RunStatus>> by_trial;
  for (const auto& c : after.children)
    by_trial[tag_value(c, "sweep.trial")].push_back(c.info.status);
  CHECK(by_trial.size() == 3);
  CHECK(by_trial["0"].size() == 2);
  int failed = 0, finished = 0;
  for (const auto& [trial, statuses] : by_trial) {
    for (RunStatus s : statuses) {
      failed += s == RunStatus::kFailed;
      finished += s == RunStatus::kFinished;
    }
  }
  CHECK(failed == 1);
  CHECK(finished == 3);
  CHECK(after.parent.info.status == RunStatus::kFinished);
}

TEST_CASE(
    "sweep_runner: a trial killed with kill -9 ends FAILED, the others go on, and the next run "
    "redoes it") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-kill9");
  const std::string hold = dir.path() + "/hold";
  HeldSweep held = start_held_sweep(dir, "k9", experiment, "[0.1, 0.2]", hold);
  auto& runner = held.runner;
  const long trial_pid = held.trial_pid;
  ::kill(static_cast<pid_t>(trial_pid), SIGKILL);
  write_file(hold, "go");         // lets the second trial finish
  CHECK(wait_exit(runner) == 3);  // trials failed
  const std::string output = mlflow::testing::read_file(dir.path() + "/k9.log");
  CAPTURE(output);
  // The summary names the failed trial, why, and where its output is.
  CHECK(output.find("failed trials of sweep k9:") != std::string::npos);
  CHECK(output.find("trial 0 (score=0.1): FAILED, killed by signal 9 (Killed)") !=
        std::string::npos);
  CHECK(output.find("  trial 1 (score=0.2): ") == std::string::npos);  // it finished
  CHECK(output.find("k9-trial-0-") != std::string::npos);
  auto client = test_client();
  const SweepRuns first = sweep_runs(client, experiment, "k9");
  std::map<std::string, RunStatus> status;
  for (const auto& c : first.children) status[tag_value(c, "sweep.trial")] = c.info.status;
  REQUIRE(status.size() == 2);
  CHECK(status["0"] == RunStatus::kFailed);
  CHECK(status["1"] == RunStatus::kFinished);
  CHECK(first.parent.info.status == RunStatus::kFailed);
  for (const auto& c : first.children) {
    if (tag_value(c, "sweep.trial") == "0")
      CHECK(tag_value(c, "sweep.error").find("signal 9") != std::string::npos);
  }

  auto again = sweep({dir.path() + "/k9.yaml"});
  CAPTURE(again.out);
  CHECK(again.exit_code == 0);
  const SweepRuns second = sweep_runs(client, experiment, "k9");
  CHECK(second.children.size() == 3);
  CHECK(second.parent.info.status == RunStatus::kFinished);
}

TEST_CASE("sweep_runner: two workers with shards 0/2 and 1/2 at once run exactly the grid, once") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-shards");
  const std::string model = unique_name("shard-model");
  write_file(dir.path() + "/shards.yaml",
             fake_spec("shards", experiment,
                       "  batch_size: {values: [16, 32, 64]}\n  seed: {values: [1, 2]}\n", model));
  auto w0 = start_sweep({dir.path() + "/shards.yaml", "--shard", "0/2"}, dir.path() + "/w0.log");
  auto w1 = start_sweep({dir.path() + "/shards.yaml", "--shard", "1/2"}, dir.path() + "/w1.log");
  const int rc0 = wait_exit(w0), rc1 = wait_exit(w1);
  CAPTURE(mlflow::testing::read_file(dir.path() + "/w0.log"));
  CAPTURE(mlflow::testing::read_file(dir.path() + "/w1.log"));
  CHECK(rc0 == 0);
  CHECK(rc1 == 0);
  auto client = test_client();
  const SweepRuns runs = sweep_runs(client, experiment, "shards");
  REQUIRE(runs.children.size() == 6);
  std::set<std::string> hashes, trials;
  std::set<std::string> runners;
  for (const auto& c : runs.children) {
    CHECK(c.info.status == RunStatus::kFinished);
    hashes.insert(tag_value(c, "sweep.config_hash"));
    trials.insert(tag_value(c, "sweep.trial"));
    runners.insert(tag_value(c, "sweep.runner_pid"));
  }
  CHECK(hashes.size() == 6);
  CHECK(trials == std::set<std::string>{"0", "1", "2", "3", "4", "5"});
  CHECK(runners.size() == 2);  // both workers did their share
  CHECK(runs.parent.info.status == RunStatus::kFinished);
  CHECK(tag_value(runs.parent, "sweep.best_trial") == "5");  // batch 64, seed 2 scores highest
  mlflow::SearchOptions search;
  search.filter = "name = '" + model + "'";
  auto versions = client.search_model_versions(search);
  REQUIRE(versions.ok());
  CHECK(versions->items.size() == 1);  // one worker finalized
}

TEST_CASE(
    "sweep_runner: trials side by side wait passively in OpenMP, a lone trial as OpenMP defaults") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-omp");
  write_file(dir.path() + "/side.yaml",
             fake_spec("side", experiment, "  score: {values: [0.1, 0.2]}\n"));
  write_file(dir.path() + "/alone.yaml",
             fake_spec("alone", experiment, "  score: {values: [0.3]}\n"));
  auto side = sweep({dir.path() + "/side.yaml", "--parallel", "2", "--cores", "2"});
  CAPTURE(side.out);
  REQUIRE(side.exit_code == 0);
  auto alone = sweep({dir.path() + "/alone.yaml"});
  CAPTURE(alone.out);
  REQUIRE(alone.exit_code == 0);
  auto client = test_client();
  const SweepRuns side_runs = sweep_runs(client, experiment, "side");
  REQUIRE(side_runs.children.size() == 2);
  for (const auto& c : side_runs.children) CHECK(tag_value(c, "fake.omp_wait_policy") == "PASSIVE");
  const SweepRuns alone_runs = sweep_runs(client, experiment, "alone");
  REQUIRE(alone_runs.children.size() == 1);
  CHECK(tag_value(alone_runs.children[0], "fake.omp_wait_policy") == "unset");
}

TEST_CASE("sweep_runner: the alias moves only to a better model (champion/challenger)") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-gate");
  const std::string model = unique_name("gate-model");
  write_file(dir.path() + "/a.yaml",
             fake_spec("gate_a", experiment, "  score: {values: [0.5, 0.7]}\n", model));
  write_file(dir.path() + "/b.yaml",
             fake_spec("gate_b", experiment, "  score: {values: [0.6]}\n", model));
  write_file(dir.path() + "/c.yaml",
             fake_spec("gate_c", experiment, "  score: {values: [0.9]}\n", model));
  auto client = test_client();
  auto alias_version = [&] {
    auto v = client.get_model_version_by_alias(model, "champion");
    REQUIRE(v.ok());
    return v->version;
  };

  auto a = sweep({dir.path() + "/a.yaml"});
  CAPTURE(a.out);
  REQUIRE(a.exit_code == 0);
  CHECK(alias_version() == "1");
  auto v1 = client.get_model_version(model, "1");
  REQUIRE(v1.ok());
  CHECK(v1->description.find("gate_a") != std::string::npos);

  auto b = sweep({dir.path() + "/b.yaml"});
  CAPTURE(b.out);
  REQUIRE(b.exit_code == 0);
  CHECK(b.out.find("@champion stays on version 1") != std::string::npos);
  CHECK(alias_version() == "1");
  CHECK(client.get_model_version(model, "2").ok());  // registered all the same

  auto c = sweep({dir.path() + "/c.yaml"});
  CAPTURE(c.out);
  REQUIRE(c.exit_code == 0);
  CHECK(c.out.find("beats version 1") != std::string::npos);
  CHECK(alias_version() == "3");
}

TEST_CASE(
    "sweep_runner: Ctrl-C ends the running trial and the sweep KILLED and keeps what was logged") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-int");
  HeldSweep held = start_held_sweep(dir, "int", experiment, "[1, 2]", dir.path() + "/never");
  auto& runner = held.runner;
  ::kill(static_cast<pid_t>(runner.pid()), SIGINT);
  const int rc = wait_exit(runner);
  CAPTURE(mlflow::testing::read_file(dir.path() + "/int.log"));
  CHECK(rc == 130);
  auto client = test_client();
  const SweepRuns runs = sweep_runs(client, experiment, "int");
  REQUIRE(runs.children.size() == 1);  // the second trial never started
  CHECK(runs.children[0].info.status == RunStatus::kKilled);
  CHECK(runs.parent.info.status == RunStatus::kKilled);
  CHECK(param(runs.children[0], "score") == "1");
}

TEST_CASE("sweep_runner: bad input exits 2 with file:line:col and creates nothing") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-bad");
  write_file(dir.path() + "/bad.yaml",
             "name: bad\nexperiment: " + experiment +
                 "\nmetric: {name: score}\nparameters:\n  lr: {values: []}\n");
  auto r = sweep({dir.path() + "/bad.yaml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.yaml:5:") != std::string::npos);
  CHECK(r.err.find("must not be empty") != std::string::npos);
  auto missing = sweep({dir.path() + "/nope.yaml"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("nope.yaml") != std::string::npos);
  auto flag = sweep({"--bogus"});
  CHECK(flag.exit_code == 2);
  auto help = sweep({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--parallel") != std::string::npos);
  CHECK(help.out.find("finalize") != std::string::npos);
  auto client = test_client();
  CHECK_FALSE(client.get_experiment_by_name(experiment).ok());
}

TEST_CASE(
    "sweep_runner: failed trials exit 3 with a summary naming each, its exit code and the end of "
    "its output") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-fail");
  write_file(dir.path() + "/fail.yaml",
             fake_spec("fail", experiment, "  fail: {values: [false, true, 1]}\n"));
  auto r = sweep({dir.path() + "/fail.yaml", "--log-dir", dir.path() + "/logs"});
  CAPTURE(r.out);
  CAPTURE(r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("failed trials of sweep fail:") != std::string::npos);
  CHECK(r.err.find("  trial 0 (fail=false): ") == std::string::npos);  // it finished
  for (const char* trial :
       {"trial 1 (fail=true): FAILED, exit 1", "trial 2 (fail=1): FAILED, exit 1"}) {
    CHECK(r.err.find(trial) != std::string::npos);
  }
  CHECK(r.err.find("output (" + dir.path() + "/logs/fail-trial-1-") != std::string::npos);
  CHECK(r.err.find("      fake_trainer: failing as asked") !=
        std::string::npos);  // the log's last lines
  auto help = sweep({"--help"});
  CHECK(help.out.find("3 trials failed") != std::string::npos);
}

TEST_CASE(
    "sweep_runner: a grid the program refuses exits 2 naming file:line:col, and creates nothing") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-refused");
  const std::string file = dir.path() + "/refused.yaml";
  struct Case {
    std::string params;
    std::string expect;
  };
  // Line 6 is the first parameter's (name, experiment, program, metric, parameters: come first).
  const std::vector<Case> cases = {
      {"  split: {values: [0.5, 1.5]}\n",
       file + ":6:25: parameter 'split': '1.5' is out of range; program " +
           std::string(FAKE_TRAINER_PATH) + " takes a number in (0, 1)"},
      {"  score: {value: 1}\n  scroe: {value: 2}\n",
       file + ":7:3: parameter 'scroe' is not one program"},
      {"  epochs: {values: [1, 1.5]}\n",
       file + ":6:24: parameter 'epochs': '1.5' is not an integer"},
      {"  optimizer: {value: adagrad}\n", "takes one of adam, sgd"},
      {"  fail: {value: perhaps}\n", "'perhaps' is not a boolean"},
      {"  batch_size: {values: [16, many]}\n", "'many' is not an integer"},
  };
  for (const Case& c : cases) {
    write_file(file, fake_spec("refused", experiment, c.params));
    auto r = sweep({file});
    CAPTURE(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.expect) != std::string::npos);
  }
  // MLflow's rules for what the sweep will register and log, checked up front too.
  write_file(file, fake_spec("refused", experiment, "  score: {value: 1}\n") +
                       "register: {model_name: m, alias: latest}\n");
  auto alias = sweep({file});
  CHECK(alias.exit_code == 2);
  CHECK(alias.err.find("refused.yaml:7:") != std::string::npos);
  CHECK(alias.err.find("register alias 'latest' is reserved") != std::string::npos);
  write_file(file, "name: refused\nexperiment: " + experiment + "\nprogram: " + FAKE_TRAINER_PATH +
                       "\nmetric: {name: \"acc@1\"}\nparameters:\n  score: {value: 1}\n");
  auto metric = sweep({file});
  CHECK(metric.exit_code == 2);
  CHECK(metric.err.find("refused.yaml:4:") != std::string::npos);
  auto client = test_client();
  CHECK_FALSE(client.get_experiment_by_name(experiment).ok());
}

TEST_CASE("sweep_runner: a runner killed with SIGKILL takes its trial with it") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-sigkill");
  HeldSweep held = start_held_sweep(dir, "sigkill", experiment, "[1, 2]", dir.path() + "/never");
  ::kill(static_cast<pid_t>(held.runner.pid()), SIGKILL);
  wait_exit(held.runner);
  const auto killed = std::chrono::steady_clock::now();
  CHECK(wait_until([&] { return !mlflow::sweep::process_alive(held.trial_pid); },
                   std::chrono::seconds(2)));
  MESSAGE("trial gone after ",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count(), " s");
}

TEST_CASE(
    "sweep_runner: SIGTERM stops the runner and its trial within 2 s, the runs ended KILLED") {
  TempDir dir;
  const std::string experiment = unique_name("sweep-sigterm");
  HeldSweep held = start_held_sweep(dir, "term", experiment, "[1, 2]", dir.path() + "/never");
  const auto sent = std::chrono::steady_clock::now();
  ::kill(static_cast<pid_t>(held.runner.pid()), SIGTERM);
  const bool exited = wait_until([&] { return held.runner.poll(); }, std::chrono::seconds(2));
  CAPTURE(mlflow::testing::read_file(dir.path() + "/term.log"));
  MESSAGE("runner exited after ",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count(), " s");
  REQUIRE(exited);
  CHECK(held.runner.exit().code == 130);
  CHECK_FALSE(mlflow::sweep::process_alive(held.trial_pid));
  auto client = test_client();
  const SweepRuns runs = sweep_runs(client, experiment, "term");
  REQUIRE(runs.children.size() == 1);
  CHECK(runs.children[0].info.status == RunStatus::kKilled);
  CHECK(runs.parent.info.status == RunStatus::kKilled);
}

#ifdef SWEEP_HAS_FMNIST_TRAIN
TEST_CASE(
    "sweep_runner: fmnist_train describes its settings; the reference specs pass, bad values are "
    "refused") {
  mlflow::sweep::ProgramDef train;
  train.name = "fmnist_train";
  train.executable = FMNIST_TRAIN_PATH;
  auto described = mlflow::sweep::describe_program(train, std::chrono::seconds(60));
  REQUIRE_MESSAGE(described.ok(), described.status().message());
  REQUIRE(*described);
  const mlflow::sweep::ParamSchema& schema = **described;
  REQUIRE(schema.find("train_val_split") != nullptr);
  CHECK(schema.find("train_val_split")->problem("1.5") == "out of range");
  CHECK(schema.find("model")->problem("resnet50") == "not a known value");
  CHECK(schema.find("max_epochs")->problem("1.5") == "not an integer");
  train.schema = schema;
  mlflow::sweep::ProgramDef pretrain = train;
  pretrain.name = "fmnist_pretrain";
  pretrain.args = {"--no-register"};
  mlflow::sweep::ProgramTable table;
  table.add(train);
  table.add(pretrain);
  table.set_default("fmnist_train");
  int checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(MLFLOW_CPP_SOURCE_DIR) + "/sweeps")) {
    if (entry.path().extension() != ".yaml") continue;
    auto spec = mlflow::sweep::load_spec(entry.path().string(), table);
    REQUIRE_MESSAGE(spec.ok(), spec.status().message());
    const auto status = mlflow::sweep::check_parameters(*spec, schema);
    CHECK_MESSAGE(status.ok(), status.message());
    ++checked;
  }
  CHECK(checked >= 5);

  TempDir dir;
  const std::string experiment = unique_name("sweep-fmnist-refused");
  write_file(dir.path() + "/bad.yaml",
             "name: bad\nexperiment: " + experiment +
                 "\nprogram: fmnist_pretrain\nmetric: {name: best_val_accuracy}\n"
                 "parameters:\n  model: {values: [small_cnn, resnet50]}\n");
  auto r = sweep({dir.path() + "/bad.yaml"});
  CAPTURE(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.yaml:6:31: parameter 'model': 'resnet50' is not a known value; program "
                   "fmnist_pretrain "
                   "takes one of small_cnn, mobilenet_v2, pixels") != std::string::npos);
  auto client = test_client();
  CHECK_FALSE(client.get_experiment_by_name(experiment).ok());
}
#endif

// SPDX-License-Identifier: Apache-2.0
// A small trial program for sweep_runner's integration tests: a real MLflow client program that
// does what a sweep expects of any program (accepts --key value, logs into MLFLOW_RUN_ID), in
// milliseconds.
//   --score X        log metric `score` = X (default: batch_size / 1000 + seed / 1e6, if given)
//   --hold FILE      wait until FILE exists before finishing (lets tests kill or interrupt a trial)
//   --fail 1|true    exit 1 without ending the run (a crashing trainer)
//   --started FILE   create FILE once the run is attached (tests wait for it)
//   --batch_size, --seed, --split, --optimizer, --epochs: accepted and ignored (to check grids
//   against)
// --describe-params prints kParams (what sweep_runner checks a spec's grid against); other keys are
// refused, like a real program. Logs a logged model "model" linked to the run.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "mlflow/local_server.h"
#include "mlflow/run.h"

namespace {
// The parameter description (sweeps/README.md, "Programs").
const char* kParams = R"({"parameters": [
  {"name": "score", "type": "float", "help": "the metric to log"},
  {"name": "hold", "type": "string", "help": "wait until this file exists"},
  {"name": "started", "type": "string", "help": "create this file once the run is attached"},
  {"name": "fail", "type": "bool", "default": false, "help": "exit 1 without ending the run"},
  {"name": "batch_size", "type": "int", "min": 1, "max": 65536},
  {"name": "seed", "type": "int", "min": 0},
  {"name": "split", "type": "float", "min": 0, "max": 1, "min_exclusive": true, "max_exclusive": true},
  {"name": "optimizer", "type": "choice", "choices": ["adam", "sgd"]},
  {"name": "epochs", "type": "int", "min": 1, "max": 1000}
]})";
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }
bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }
}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--describe-params") {
    std::printf("%s\n", kParams);
    return 0;
  }
  std::map<std::string, std::string> args;
  const nlohmann::json known = nlohmann::json::parse(kParams)["parameters"];
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    const bool listed = key.rfind("--", 0) == 0 &&
                        std::any_of(known.begin(), known.end(),
                                    [&](const auto& p) { return p["name"] == key.substr(2); });
    if (!listed) {
      std::fprintf(stderr,
                   "fake_trainer: expected --key value with a key of --describe-params, got '%s'\n",
                   argv[i]);
      return 2;
    }
    args[key.substr(2)] = argv[i + 1];
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  auto client = mlflow::connect_from_env();
  if (!client.ok()) {
    std::fprintf(stderr, "fake_trainer: %s\n", client.status().to_string().c_str());
    return 1;
  }
  const char* run_id = std::getenv("MLFLOW_RUN_ID");
  if (run_id == nullptr) {
    std::fprintf(stderr, "fake_trainer: MLFLOW_RUN_ID is not set\n");
    return 2;
  }
  auto run = mlflow::ActiveRun::resume(*client, run_id);
  if (!run.ok()) {
    std::fprintf(stderr, "fake_trainer: %s\n", run.status().to_string().c_str());
    return 1;
  }
  if (args.count("started")) std::ofstream(args["started"]) << ::getpid() << "\n";
  std::printf("fake_trainer: run %s\n", run_id);
  std::fflush(stdout);

  if (args.count("hold")) {
    while (!exists(args["hold"])) {
      if (g_interrupted) {
        (void)run->end(mlflow::RunStatus::kKilled);
        return 130;
      }
      ::usleep(50'000);
    }
  }
  if (args["fail"] == "1" || args["fail"] == "true") {
    std::fprintf(stderr, "fake_trainer: failing as asked\n");
    std::_Exit(1);  // like a crash: the run is left RUNNING
  }
  double score = 0;
  if (args.count("score")) {
    score = std::strtod(args["score"].c_str(), nullptr);
  } else {
    score = std::strtod(args["batch_size"].c_str(), nullptr) / 1000 +
            std::strtod(args["seed"].c_str(), nullptr) / 1e6;
  }
  // What the runner asked of OpenMP, so tests can see the trial's environment.
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  if (auto s = run->set_tag("fake.omp_wait_policy", wait_policy ? wait_policy : "unset"); !s.ok()) {
    std::fprintf(stderr, "fake_trainer: %s\n", s.to_string().c_str());
    return 1;
  }
  if (auto s = run->log_metric("score", score, 1); !s.ok()) {
    std::fprintf(stderr, "fake_trainer: %s\n", s.to_string().c_str());
    return 1;
  }
  mlflow::LoggedModelCreate create;
  create.experiment_id = run->experiment_id();
  create.name = "model";
  create.source_run_id = run->id();
  auto model = client->create_logged_model(create);
  if (!model.ok() || !client->log_outputs(run->id(), {{model->model_id, 1}}).ok() ||
      !client->finalize_logged_model(model->model_id, mlflow::LoggedModelStatus::kReady).ok()) {
    std::fprintf(stderr, "fake_trainer: logging the model failed\n");
    return 1;
  }
  std::printf("fake_trainer: score %g\n", score);
  return run->end().ok() ? 0 : 1;
}

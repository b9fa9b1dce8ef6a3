// SPDX-License-Identifier: Apache-2.0
// quickstart: logs one small fake training run (params, a per-epoch curve, two artifacts) to
// MLflow.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "app_support.h"
#include "mlflow/ascii.h"
#include "mlflow/local_server.h"
#include "mlflow/run.h"

namespace {

using mlflow::apps::exit_code_for;
using mlflow::apps::kExitOk;
using mlflow::apps::kExitUsage;

const char* kUsage = R"(Usage: quickstart [--experiment NAME] [--epochs N] [--help]

Logs one example training run to MLflow: a few params, a loss and accuracy curve
(one point per epoch, steps 0..N-1), a text note and a JSON summary as artifacts.

Options:
  --experiment NAME  experiment to log into, created if missing (default: quickstart)
  --epochs N         length of the fake training curve, 1..10000 (default: 10)
  -h, --help         show this help

Where the run goes (MLflow's own rules):
  MLFLOW_TRACKING_URI unset       local mode: ./mlflow.db and ./mlartifacts; the MLflow
                                  server is started from the project's environment for
                                  the duration of the program (browse later: mlflow ui)
  MLFLOW_TRACKING_URI=sqlite:///F local mode over the SQLite file F
  MLFLOW_TRACKING_URI=http://...  that tracking server

Exit codes: 0 ok, 1 server or network error, 2 bad usage or configuration.
)";

struct Args {
  std::string experiment = "quickstart";
  int epochs = 10;
};

// Parses argv; returns an exit code when the program should stop (help or bad usage).
int parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (arg != "--experiment" && arg != "--epochs") {
      std::cerr << "quickstart: unknown argument '" << argv[i] << "'\n\n" << kUsage;
      return kExitUsage;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        std::cerr << "quickstart: " << arg << " needs a value\n";
        return kExitUsage;
      }
      value = argv[++i];
    }
    if (arg == "--experiment") {
      if (value.empty()) {
        std::cerr << "quickstart: --experiment must not be empty\n";
        return kExitUsage;
      }
      args.experiment = value;
    } else {
      char* end = nullptr;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1 || n > 10000) {
        std::cerr << "quickstart: --epochs must be a whole number in 1..10000, got '" << value
                  << "'\n";
        return kExitUsage;
      }
      args.epochs = static_cast<int>(n);
    }
  }
  return -1;
}

// A plausible training curve: loss decays towards a floor, accuracy rises, with a little wobble.
std::map<std::string, double> epoch_metrics(int epoch) {
  double wobble = 0.02 * std::sin(epoch * 1.7);
  double train_loss = 0.15 + 2.15 * std::exp(-0.35 * epoch) + wobble;
  double val_loss = train_loss + 0.05 + 0.01 * epoch / 10.0;
  double val_accuracy = 0.97 - 0.87 * std::exp(-0.4 * epoch) - wobble / 2;
  return {{"train_loss", train_loss}, {"val_loss", val_loss}, {"val_accuracy", val_accuracy}};
}

// Logs everything to `run`; the first failure is returned.
mlflow::Status log_training(mlflow::ActiveRun& run, const Args& args) {
  MLFLOW_CPP_RETURN_IF_ERROR(run.log_params({{"learning_rate", "0.01"},
                                             {"batch_size", "64"},
                                             {"epochs", std::to_string(args.epochs)},
                                             {"optimizer", "sgd"},
                                             {"model", "mlp-2x128"}}));
  std::map<std::string, double> last;
  for (int epoch = 0; epoch < args.epochs; ++epoch) {
    last = epoch_metrics(epoch);
    MLFLOW_CPP_RETURN_IF_ERROR(run.log_metrics(last, epoch));
  }
  MLFLOW_CPP_RETURN_IF_ERROR(run.set_tag("example", "quickstart"));
  std::ostringstream note;
  note << "A fake training run logged by the mlflow-cpp quickstart.\n"
       << "epochs: " << args.epochs << "\nfinal val_accuracy: " << last["val_accuracy"] << "\n";
  MLFLOW_CPP_RETURN_IF_ERROR(run.log_text(note.str(), "notes/summary.txt"));
  std::ostringstream summary;
  summary << "{\"epochs\": " << args.epochs << ", \"final\": {";
  const char* sep = "";
  for (const auto& [key, value] : last) {
    summary << sep << "\"" << key << "\": " << value;
    sep = ", ";
  }
  summary << "}}";
  return run.log_json(summary.str(), "summary.json");
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (int code = parse_args(argc, argv, args); code >= 0) return code;

  // Local mode when MLFLOW_TRACKING_URI is unset or sqlite:///; remembered before
  // connect_from_env(), which points MLFLOW_TRACKING_URI at the local server it started.
  const char* env_uri = std::getenv("MLFLOW_TRACKING_URI");
  const std::string uri = env_uri != nullptr ? env_uri : "";
  const std::string scheme = mlflow::ascii_lower(uri.substr(0, uri.find(':')));
  const bool local = uri.empty() || scheme == "sqlite";
  if (local) std::cerr << "quickstart: local mode, starting or reusing the MLflow server...\n";

  auto client = mlflow::connect_from_env();
  if (!client.ok()) {
    std::cerr << "quickstart: cannot connect: " << client.status().to_string() << "\n";
    return exit_code_for(client.status());
  }

  mlflow::RunOptions options;
  options.experiment_name = args.experiment;
  options.run_name = "quickstart";
  auto run = mlflow::ActiveRun::start(*client, options);
  if (!run.ok()) {
    std::cerr << "quickstart: cannot start a run: " << run.status().to_string() << "\n";
    return exit_code_for(run.status());
  }
  if (mlflow::Status st = log_training(*run, args); !st.ok()) {
    std::cerr << "quickstart: logging failed: " << st.to_string() << "\n";
    (void)run->end(mlflow::RunStatus::kFailed);
    return exit_code_for(st);
  }
  if (mlflow::Status st = run->end(); !st.ok()) {
    std::cerr << "quickstart: cannot end the run: " << st.to_string() << "\n";
    return exit_code_for(st);
  }

  std::cout << "run " << run->id() << " in experiment \"" << args.experiment << "\" (id "
            << run->experiment_id() << ")\n";
  if (local) {
    std::string db = uri.empty() ? "mlflow.db" : uri.substr(std::string("sqlite:///").size());
    std::cout << "stored in: " << std::filesystem::absolute(db).lexically_normal().string()
              << " (artifacts under " << (std::filesystem::current_path() / "mlartifacts").string()
              << ")\n";
    if (uri.empty()) {
      std::cout << "browse: mlflow ui (in this directory)\n";
    } else {
      std::cout << "browse: mlflow ui --backend-store-uri " << uri << " (in this directory)\n";
    }
  } else {
    std::cout << "stored in: " << client->tracking_uri() << "\n"
              << "browse: " << client->run_ui_url(run->experiment_id(), run->id()) << "\n";
  }
  return kExitOk;
}

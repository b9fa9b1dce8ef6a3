// SPDX-License-Identifier: Apache-2.0
// fmnist_train: trains one Fashion-MNIST model and records the run in MLflow (see --help).
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "app_support.h"
#include "fmnist/feature_cache.h"
#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_tensors.h"
#include "fmnist/tracked_training.h"
#include "fmnist/train_config_schema.h"
#include "mlflow/local_server.h"

namespace {

namespace fm = mlflow::fmnist;
namespace training = mlflow::training;

using mlflow::apps::kExitInterrupted;
using mlflow::apps::kExitOk;
using mlflow::apps::kExitUsage;
constexpr int kExitRunFailed = mlflow::apps::kExitFailed;
const mlflow::apps::ErrorExit fail{"fmnist_train"};

struct Args {
  std::string config_file;
  std::string experiment = "fashion-mnist";
  std::string run_name;
  std::string register_name;
  std::string alias;
  bool quiet = false;
  bool no_register = false;
  bool describe_params = false;
  std::string feature_cache_dir = fm::default_feature_cache_dir();
  std::string save_checkpoint;
  std::vector<std::pair<std::string, std::string>> settings;  // --key value, in command-line order
};

void add_setting_flags(CLI::App& app, Args& args, std::map<std::string, std::string>& given) {
  const fm::TrainConfig defaults;
  for (const auto& key : fm::train_config_keys()) {
    const std::string dashed = [&] {
      std::string s = key.name;
      for (char& c : s) c = c == '_' ? '-' : c;
      return s;
    }();
    std::string names = "--" + key.name + (dashed != key.name ? ",--" + dashed : "");
    const std::string def = fm::config_value(defaults, key.name);
    app.add_option(names, given[key.name], key.help + (def.empty() ? "" : " [" + def + "]"))
        ->type_name("VALUE")
        ->group("Training settings (also accepted in --config files)")
        ->each([&args, name = key.name](const std::string& v) {
          args.settings.emplace_back(name, v);
        });
  }
}

void print_summary(const fm::TrackedTrainingResult& r) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : r.outcome.history) {
    rows.push_back({std::to_string(m.epoch), fmt::format("{:.4f}", m.train_loss),
                    fmt::format("{:.2f}", 100 * m.train_accuracy),
                    fmt::format("{:.4f}", m.val_loss), fmt::format("{:.2f}", 100 * m.val_accuracy),
                    fmt::format("{:.3g}", m.learning_rate), fmt::format("{:.1f}", m.epoch_seconds),
                    fmt::format("{:.0f}", m.images_per_second),
                    m.epoch == r.outcome.best_epoch ? "*" : ""});
  }
  fmt::print("\n{}", mlflow::format_table({"epoch", "train_loss", "train_acc%", "val_loss",
                                           "val_acc%", "lr", "seconds", "img/s", "best"},
                                          rows));
  fmt::print("\ntest accuracy {:.2f}%  macro F1 {:.4f}  test loss {:.4f}  (best epoch {}{})\n\n",
             100 * r.report.accuracy, r.report.macro_f1, r.outcome.test.loss, r.outcome.best_epoch,
             r.outcome.stopped_early ? ", stopped early" : "");
  fmt::print("{}\n{}", training::format_classification_table(r.report),
             training::format_confusion_matrix(r.report));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Trains a Fashion-MNIST classifier (SmallCNN or MobileNetV2) with LibTorch, or pretrains a "
      "backbone by\n"
      "rotation prediction (--task rotation), and records the run in MLflow: every setting as a "
      "param, the\n"
      "dataset inputs, per-epoch metrics, test metrics, confusion matrix, curves and the best "
      "epoch's model.",
      "fmnist_train"};
  Args args;
  std::map<std::string, std::string> given;
  app.add_option("-c,--config", args.config_file,
                 "YAML file of settings (key: value); flags override it")
      ->check(CLI::ExistingFile);
  app.add_option("--experiment", args.experiment,
                 "experiment to log into, created if missing (default "
                 "fashion-mnist; MLFLOW_EXPERIMENT_NAME/_ID also apply)");
  app.add_option("--run-name", args.run_name, "name of the run (default: chosen by MLflow)");
  app.add_option(
      "--register", args.register_name,
      "register the model under this name in the model registry (pretraining tasks: default "
      "fmnist-backbone with alias pretrained)");
  app.add_flag("--no-register", args.no_register, "when pretraining: do not register the backbone")
      ->excludes("--register");
  app.add_option("--alias", args.alias, "with --register: point this alias at the new version")
      ->needs("--register");
  app.add_flag("-q,--quiet", args.quiet, "print only the run id and errors");
  app.add_flag(
      "--describe-params", args.describe_params,
      "print the training settings (types, ranges, choices, defaults) as JSON and exit: what "
      "sweep_runner checks a sweep's values against");
  app.add_option("--feature-cache-dir", args.feature_cache_dir,
                 "where a frozen backbone's features are kept across runs, least recently used "
                 "first out past "
                 "4 GiB; empty: no cache")
      ->capture_default_str();
  app.add_option("--save-checkpoint", args.save_checkpoint,
                 "also write the trained model to this directory as a checkpoint (model.pt, "
                 "checkpoint.json with "
                 "its settings, history and this command line), to ship it or to start from it "
                 "(initial_weights)");
  add_setting_flags(app, args, given);
  app.footer(
      "Where runs go: MLFLOW_TRACKING_URI (http(s)://... a server; unset or sqlite:///F: local "
      "mode over ./mlflow.db,\n"
      "the MLflow server started for the run). With MLFLOW_RUN_ID set, that run is resumed (sweeps "
      "do this).\n"
      "Data: --data-dir, else $MLFLOW_CPP_FMNIST_DIR, else /usr/share/datasets/fashion-mnist.\n"
      "Exit codes: 0 ok, 1 training or server failure (the run ends FAILED), 2 bad usage or input "
      "(no run\n"
      "is created), 130 interrupted (the run ends KILLED).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail(kExitUsage, std::string(e.what()) + " (see 'fmnist_train --help')");
  }
  if (args.describe_params) {
    fmt::print("{}\n", fm::train_config_schema_json());
    return kExitOk;
  }

  // Settings: defaults < config file < flags. Everything is checked before a run exists.
  fm::TrainConfig config;
  if (!args.config_file.empty()) {
    if (auto s = fm::apply_config_file(config, args.config_file); !s.ok())
      return fail(kExitUsage, s.message());
  }
  for (const auto& [key, value] : args.settings) {
    if (auto s = fm::set_config_value(config, key, value); !s.ok())
      return fail(kExitUsage, "--" + s.message());
  }
  if (auto s = fm::validate_train_config(config); !s.ok()) return fail(kExitUsage, s.message());
  if (!args.alias.empty() && args.register_name.empty())
    return fail(kExitUsage, "--alias needs --register");
  if (fm::is_pretraining_task(config.task) && args.register_name.empty() && !args.no_register) {
    // Pretraining exists to feed frozen-backbone runs: publish the backbone where they look by
    // default.
    args.register_name = "fmnist-backbone";
    args.alias = "pretrained";
  }

  const std::string data_dir = fm::fmnist_data_dir(config.data_dir);
  auto data = fm::load_fmnist_splits(data_dir, {config.train_val_split, config.split_seed});
  if (!data.ok()) return fail(kExitUsage, data.status().message());

  auto client = mlflow::connect_from_env();
  if (!client.ok())
    return fail(kExitRunFailed, "cannot reach MLflow: " + client.status().to_string());
  mlflow::RunOptions run_options;
  run_options.experiment_name = args.experiment;
  run_options.run_name = args.run_name;
  run_options = run_options.with_env_defaults();
  auto run = mlflow::ActiveRun::start(*client, run_options);
  if (!run.ok()) return fail(kExitRunFailed, "cannot start the run: " + run.status().to_string());
  const std::string link = client->run_ui_url(run->experiment_id(), run->id());
  fmt::print(args.quiet ? stderr : stdout, "run {}  {}\n", run->id(), link);
  std::fflush(stdout);

  mlflow::apps::catch_interrupts(/*second_kills=*/true);

  fm::TrackedTrainingOptions options;
  options.progress = training::detect_progress_options(args.quiet);
  options.register_model_name = args.register_name;
  options.register_alias = args.alias;
  options.cancelled = mlflow::apps::interrupted;
  options.feature_cache_dir = args.feature_cache_dir;
  options.save_checkpoint_dir = args.save_checkpoint;
  for (int i = 0; i < argc; ++i)
    options.recipe += (i > 0 ? " " : "") + std::string(i == 0 ? "fmnist_train" : argv[i]);
  auto result = fm::run_tracked_training(config, *data, data_dir, *run, options);
  if (!result.ok()) {
    const bool cancelled = result.status().code() == mlflow::StatusCode::kCancelled;
    (void)run->set_tag("mlflow_cpp.error", result.status().to_string().substr(0, 5000));
    (void)run->end(cancelled ? mlflow::RunStatus::kKilled : mlflow::RunStatus::kFailed);
    return fail(cancelled ? kExitInterrupted : kExitRunFailed, result.status().to_string());
  }
  if (auto s = run->end(); !s.ok())
    return fail(kExitRunFailed, "cannot end the run: " + s.to_string());
  if (!args.quiet) {
    print_summary(*result);
    fmt::print("\nmodel {} ({})", result->model.model_uri, "runs:/" + run->id() + "/model");
    if (!result->version.version.empty()) {
      fmt::print(", registered as {} version {}{}", result->version.name, result->version.version,
                 args.alias.empty() ? "" : " @" + args.alias);
    }
    fmt::print("\nrun {}  {}\n", run->id(), link);
  } else {
    fmt::print("{}\n", run->id());
  }
  return kExitOk;
}

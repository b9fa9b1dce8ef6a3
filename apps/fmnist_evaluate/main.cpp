// SPDX-License-Identifier: Apache-2.0
// fmnist_evaluate: a model from a directory, a run or the registry, evaluated on the Fashion-MNIST
// test set.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "app_support.h"
#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_lineage.h"
#include "fmnist/fmnist_tensors.h"
#include "fmnist/trainer.h"
#include "mlflow/atomic_file.h"
#include "mlflow/libtorch/model_store.h"
#include "mlflow/local_server.h"
#include "mlflow/training/dataset_lineage.h"
#include "mlflow/training/mlmodel.h"
#include "mlflow/training/staging_dir.h"
#include "mlflow/training/training_logger.h"

namespace {

namespace ml = mlflow::libtorch;
namespace fm = mlflow::fmnist;
namespace training = mlflow::training;

using mlflow::apps::kExitFailed;
using mlflow::apps::kExitOk;
using mlflow::apps::kExitUsage;
const mlflow::apps::ErrorExit fail{"fmnist_evaluate"};

struct Args {
  std::string model;
  std::string architecture = fm::kSmallCnn;  // for a bare weights file
  double width_multiplier = 1.0;
  std::string data_dir;
  int threads = 0;
  bool log = false;
  std::string experiment = "fashion-mnist";
  std::string run_name = "evaluate";
  bool quiet = false;
  std::string predictions;  // where to write each test image's predicted class
};

// Bad input (a missing or malformed model) is a usage error; the rest are failures.
// The apps' mapping, plus: the model or data the user named is not there is bad input too.
int exit_code_for(const mlflow::Status& s) {
  return s.code() == mlflow::StatusCode::kNotFound ? kExitUsage : mlflow::apps::exit_code_for(s);
}

// A bare weights archive (save_weights) has no MLmodel: the architecture comes from the flags.
ml::LocalModel bare_weights_model(const Args& args) {
  ml::LocalModel m;
  m.dir = std::filesystem::path(args.model).parent_path().string();
  m.weights_path = args.model;
  m.source_uri = args.model;
  m.flavor.architecture = args.architecture;
  m.flavor.config_json = nlohmann::json{{"architecture", args.architecture},
                                        {"width_multiplier", args.width_multiplier},
                                        {"num_classes", fm::kFmnistNumClasses}}
                             .dump();
  m.flavor.class_names.assign(fm::kFmnistClassNames.begin(), fm::kFmnistClassNames.end());
  return m;
}

bool is_bare_weights_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) &&
         std::filesystem::path(path).filename() != training::kMlmodelFileName;
}

// Records an evaluation run: the model it evaluated, the test data set, test metrics and artifacts.
mlflow::Status log_evaluation_run(mlflow::MlflowClient& client, const Args& args,
                                  const ml::LocalModel& model, const std::string& data_dir,
                                  const fm::FmnistSplits& data,
                                  const training::ClassificationReport& report, double loss,
                                  std::string& run_id) {
  mlflow::RunOptions options;
  options.experiment_name = args.experiment;
  options.run_name = args.run_name;
  options = options.with_env_defaults();
  options.run_id.clear();  // always a new run: MLFLOW_RUN_ID names the training run, not this one
  auto run = mlflow::ActiveRun::start(client, options);
  if (!run.ok()) return run.status().with_context("starting the evaluation run");
  run_id = run->id();
  training::TrainingLogger logger(*run);
  auto status = [&]() -> mlflow::Status {
    MLFLOW_CPP_RETURN_IF_ERROR(logger.log_params({{"model_uri", args.model},
                                                  {"model_id", model.model_id},
                                                  {"architecture", model.flavor.architecture},
                                                  {"data_dir", data_dir}}));
    auto inputs = fm::fmnist_dataset_inputs(
        data_dir, {}, {data.train.size(), data.validation.size(), data.test.size()});
    if (!inputs.ok()) return inputs.status();
    std::vector<mlflow::DatasetInput> test_only = {inputs->back()};
    std::vector<std::string> model_ids;
    if (!model.model_id.empty()) model_ids.push_back(model.model_id);
    MLFLOW_CPP_RETURN_IF_ERROR(client.log_inputs(run->id(), test_only, model_ids));
    MLFLOW_CPP_RETURN_IF_ERROR(logger.log_evaluation(report, "test", {{"test_loss", loss}}));
    return logger.log_metrics_json();
  }();
  return mlflow::apps::end_run(*run, status);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Evaluates a Fashion-MNIST model on the 10 000 test images: accuracy, per-class "
      "precision/recall/F1\n"
      "and the confusion matrix. With --log, records an evaluation run with the same artifacts as "
      "training.",
      "fmnist_evaluate"};
  Args args;
  app.add_option("model", args.model,
                 "the model: runs:/RUN_ID/model, models:/MODEL_ID, models:/NAME/VERSION, "
                 "models:/NAME@ALIAS,\n"
                 "a directory with an MLmodel file, or a weights file (with --architecture)")
      ->required();
  app.add_option("--architecture", args.architecture,
                 "for a bare weights file: small_cnn or mobilenet_v2")
      ->check(CLI::IsMember({fm::kSmallCnn, fm::kMobileNetV2}));
  app.add_option("--width-multiplier,--width_multiplier", args.width_multiplier,
                 "for a bare mobilenet_v2 weights file (default 1.0)");
  app.add_option("--data-dir,--data_dir", args.data_dir,
                 "directory of the Fashion-MNIST IDX files");
  app.add_option("--threads", args.threads, "intra-op threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("--log", args.log, "record an evaluation run in MLflow");
  app.add_option("--experiment", args.experiment,
                 "with --log: experiment of the run (default fashion-mnist)");
  app.add_option("--run-name", args.run_name, "with --log: name of the run (default evaluate)");
  app.add_flag("-q,--quiet", args.quiet, "print only the accuracy");
  app.add_option("--predictions", args.predictions,
                 "also write each test image's predicted class index, one per line, in the test "
                 "set's order (to compare with another runtime)");
  app.footer(
      "Model URIs and --log use MLFLOW_TRACKING_URI (unset: local mode over ./mlflow.db).\n"
      "Exit codes: 0 ok, 1 server or evaluation failure, 2 bad usage or input.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail(kExitUsage, std::string(e.what()) + " (see 'fmnist_evaluate --help')");
  }

  const std::string data_dir = fm::fmnist_data_dir(args.data_dir);
  auto data = fm::load_fmnist_splits(data_dir, {});
  if (!data.ok()) return fail(kExitUsage, data.status().message());

  std::optional<mlflow::MlflowClient> client;
  if (mlflow::is_model_uri(args.model) || args.log) {
    auto c = mlflow::connect_from_env();
    if (!c.ok()) return fail(kExitFailed, "cannot reach MLflow: " + c.status().to_string());
    client = std::move(*c);
  }
  auto scratch = training::StagingDir::make("fmnist-evaluate");
  if (!scratch.ok()) return fail(kExitFailed, scratch.status().message());
  auto model = mlflow::is_model_uri(args.model)
                   ? ml::fetch_model(*client, args.model, scratch->file("model"))
               : is_bare_weights_file(args.model)
                   ? mlflow::StatusOr<ml::LocalModel>(bare_weights_model(args))
                   : ml::open_local_model(args.model);
  if (!model.ok()) return fail(exit_code_for(model.status()), model.status().to_string());

  auto eval = fm::evaluate_saved_model({model->flavor.config_json, model->weights_path}, *data,
                                       args.threads);
  if (!eval.ok()) return fail(exit_code_for(eval.status()), eval.status().to_string());
  auto report = training::make_classification_report(eval->predictions, eval->labels,
                                                     model->flavor.class_names);
  if (!report.ok()) return fail(kExitFailed, report.status().to_string());
  if (!args.predictions.empty()) {
    const std::string lines = fmt::format("{}\n", fmt::join(eval->predictions, "\n"));
    auto written = mlflow::write_file_atomically(args.predictions, lines);
    if (!written.ok()) return fail(kExitFailed, "--predictions: " + written.to_string());
  }

  if (args.quiet) {
    fmt::print("{:.4f}\n", report->accuracy);
  } else {
    fmt::print("model {} ({}, {} test images)\n\n", args.model, model->flavor.architecture,
               report->total);
    fmt::print("test accuracy {:.2f}%  macro F1 {:.4f}  test loss {:.4f}\n\n",
               100 * report->accuracy, report->macro_f1, eval->loss);
    fmt::print("{}\n{}", training::format_classification_table(*report),
               training::format_confusion_matrix(*report));
  }
  if (args.log) {
    std::string run_id;
    auto s =
        log_evaluation_run(*client, args, *model, data_dir, *data, *report, eval->loss, run_id);
    if (!s.ok()) return fail(kExitFailed, "logging the evaluation run: " + s.to_string());
    if (!args.quiet) fmt::print("\nevaluation run {}\n", run_id);
  }
  return kExitOk;
}

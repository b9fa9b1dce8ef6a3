// SPDX-License-Identifier: Apache-2.0
// fmnist_score: batch scoring. A directory of images or an IDX file scored by a model from
// MLflow into a CSV of predictions, recorded as an MLflow run.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "app_support.h"
#include "classifier_predictor.h"
#include "mlflow/atomic_file.h"
#include "mlflow/local_server.h"
#include "mlflow/model_uri.h"
#include "mlflow/run.h"
#include "mlflow/training/progress.h"
#include "mlflow/training/staging_dir.h"
#include "model_loader.h"
#include "predictions_csv.h"
#include "score_inputs.h"

namespace {

namespace score = mlflow::score;
namespace serve = mlflow::serve;
using mlflow::apps::kExitFailed;
using mlflow::apps::kExitInterrupted;
using mlflow::apps::kExitOk;
using mlflow::apps::kExitUsage;
const mlflow::apps::ErrorExit fail{"fmnist_score"};

struct Args {
  std::string model;
  std::string input;
  std::string output = "predictions.csv";
  std::string labels;
  int batch_size = 256;
  int threads = 0;
  double max_megapixels = 25;
  bool no_log = false;
  std::string experiment = "fashion-mnist";
  std::string run_name = "score";
  bool quiet = false;
};

struct Scored {
  std::vector<score::PredictionRow> rows;
  std::int64_t failed = 0;
  std::int64_t labelled = 0;
  std::int64_t correct = 0;
  double seconds = 0;
  double inference_seconds = 0;
};

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Loads and predicts batch after batch; an input that cannot be read becomes a row with its error.
mlflow::StatusOr<Scored> score_all(serve::Predictor& model, score::ScoreInputs& inputs,
                                   const std::vector<int>& labels, const Args& args) {
  Scored out;
  const std::int64_t n = inputs.size();
  const auto classes = static_cast<std::int64_t>(model.info().class_names.size());
  mlflow::training::ProgressBar bar("scoring", n,
                                    mlflow::training::detect_progress_options(args.quiet));
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> batch;
  std::vector<std::int64_t> members;
  for (std::int64_t first = 0; first < n; first += args.batch_size) {
    if (mlflow::apps::interrupted())
      return mlflow::Status(mlflow::StatusCode::kCancelled, "interrupted");
    const std::int64_t last = std::min<std::int64_t>(n, first + args.batch_size);
    batch.assign(static_cast<std::size_t>(last - first) * serve::kImageSize, 0.0F);
    members.clear();
    for (std::int64_t i = first; i < last; ++i) {
      score::PredictionRow row;
      row.file = inputs.name(i);
      row.label = labels[static_cast<std::size_t>(i)];
      auto loaded = inputs.load(
          i, batch.data() + static_cast<std::ptrdiff_t>(members.size()) * serve::kImageSize);
      if (loaded.ok()) {
        members.push_back(i);
      } else {
        row.error = loaded.message();
        ++out.failed;
        if (!args.quiet) fmt::print(stderr, "fmnist_score: warning: skipped {}\n", row.error);
      }
      out.rows.push_back(std::move(row));
    }
    if (!members.empty()) {
      const auto inference_start = std::chrono::steady_clock::now();
      auto probabilities = model.predict(batch.data(), static_cast<std::int64_t>(members.size()));
      out.inference_seconds += since(inference_start);
      if (!probabilities.ok()) return probabilities.status();
      for (std::size_t m = 0; m < members.size(); ++m) {
        score::PredictionRow& row = out.rows[static_cast<std::size_t>(members[m])];
        auto begin = probabilities->begin() + static_cast<std::ptrdiff_t>(m) * classes;
        row.probabilities.assign(begin, begin + classes);
        if (row.label >= 0) {
          ++out.labelled;
          if (score::predicted_class(row.probabilities) == row.label) ++out.correct;
        }
      }
    }
    bar.update(last, NAN, since(start));
  }
  out.seconds = since(start);
  bar.finish(fmt::format("{} images, {} skipped, {:.0f} images/s", n, out.failed,
                         static_cast<double>(n) / out.seconds),
             out.seconds);
  return out;
}

// The run: what was scored by what, how fast, how well when the labels are known, and the CSV.
mlflow::Status log_scoring_run(mlflow::MlflowClient& client, const Args& args,
                               const serve::ModelInfo& model, const score::ScoreInputs& inputs,
                               const Scored& scored, const std::string& csv_path,
                               std::string& run_id) {
  mlflow::RunOptions options;
  options.experiment_name = args.experiment;
  options.run_name = args.run_name;
  options = options.with_env_defaults();
  options.run_id.clear();  // always a new run
  auto run = mlflow::ActiveRun::start(client, options);
  if (!run.ok()) return run.status().with_context("starting the scoring run");
  run_id = run->id();
  const auto n = static_cast<double>(inputs.size());
  std::map<std::string, double> metrics = {
      {"seconds", scored.seconds},
      {"inference_seconds", scored.inference_seconds},
      {"images_per_second", n / std::max(scored.seconds, 1e-9)},
      {"scored_images", n - static_cast<double>(scored.failed)},
      {"failed_images", static_cast<double>(scored.failed)}};
  if (scored.labelled > 0) {
    metrics["accuracy"] =
        static_cast<double>(scored.correct) / static_cast<double>(scored.labelled);
  }
  auto status = [&]() -> mlflow::Status {
    MLFLOW_CPP_RETURN_IF_ERROR(
        run->log_params({{"model_uri", args.model},
                         {"model_name", model.name},
                         {"model_version", model.version},
                         {"model_run_id", model.run_id},
                         {"model_id", model.model_id},
                         {"architecture", model.architecture},
                         {"input", args.input},
                         {"input_kind", inputs.kind()},
                         {"inputs_sha256", inputs.digest()},
                         {"images", std::to_string(inputs.size())},
                         {"labelled_images", std::to_string(scored.labelled)},
                         {"batch_size", std::to_string(args.batch_size)}}));
    MLFLOW_CPP_RETURN_IF_ERROR(run->log_metrics(metrics));
    return run->log_artifact(csv_path);
  }();
  return mlflow::apps::end_run(*run, status);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Scores a directory of images (PNG, JPEG, ...: brought to 28x28 by the rules of /predict) "
      "or an\nIDX images file (raw 28x28, / 255) with a Fashion-MNIST model into a CSV of "
      "predictions,\nand records the job as an MLflow run (model, inputs' sha256, throughput, "
      "accuracy when the\nlabels are known, the CSV as artifact).",
      "fmnist_score"};
  Args args;
  app.add_option("model", args.model,
                 "runs:/RUN_ID/model, models:/NAME@ALIAS, models:/NAME/VERSION, models:/MODEL_ID "
                 "or a model directory")
      ->required();
  app.add_option("input", args.input, "a directory of images or a gzip IDX images file")
      ->required();
  app.add_option("-o,--output", args.output, "the CSV to write (default predictions.csv)");
  app.add_option(
      "--labels", args.labels,
      "true labels: an IDX labels file, or a CSV of file,label lines (label 0..9 or a "
      "class name);\nan IDX input's sibling ...-labels-idx1-ubyte.gz is used without it");
  app.add_option("--batch-size", args.batch_size, "images per forward pass (default 256)")
      ->check(CLI::Range(1, 65536));
  app.add_option("--threads", args.threads, "LibTorch intra-op threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--max-megapixels", args.max_megapixels,
                 "larger images are skipped before decoding (default 25)")
      ->check(CLI::Range(0.000784, 1000.0));
  app.add_flag("--no-log", args.no_log, "only write the CSV: record no MLflow run");
  app.add_option("--experiment", args.experiment, "experiment of the run (default fashion-mnist)");
  app.add_option("--run-name", args.run_name, "name of the run (default score)");
  app.add_flag("-q,--quiet", args.quiet, "no progress bar or warnings; print only the run id");
  app.footer(
      "An image that cannot be read or decoded is skipped: a warning, a CSV row with its error and "
      "no\nprediction, counted in the run's failed_images. The CSV appears whole or not at all.\n"
      "Model URIs and the run use MLFLOW_TRACKING_URI (unset: local mode over ./mlflow.db).\n"
      "Exit codes: 0 ok, 1 failure (scoring, MLflow, every image skipped), 2 bad usage or input "
      "(a\nmissing input, a model URI that does not resolve), 130 interrupted.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail(kExitUsage, std::string(e.what()) + " (see 'fmnist_score --help')");
  }
  mlflow::apps::catch_interrupts(true);

  serve::ImageInputOptions image_options;
  image_options.max_pixels = static_cast<std::int64_t>(args.max_megapixels * 1e6);
  auto inputs = score::ScoreInputs::open(args.input, image_options);
  if (!inputs.ok()) return fail(kExitUsage, inputs.status().message());
  auto labels = inputs->labels(args.labels);
  if (!labels.ok()) return fail(kExitUsage, labels.status().message());

  std::optional<mlflow::MlflowClient> client;
  if (mlflow::is_model_uri(args.model) || !args.no_log) {
    auto c = mlflow::connect_from_env();
    if (!c.ok()) return fail(kExitFailed, "cannot reach MLflow: " + c.status().to_string());
    client = std::move(*c);
  }
  auto scratch = mlflow::training::StagingDir::make("fmnist-score");
  if (!scratch.ok()) return fail(kExitFailed, scratch.status().message());
  serve::set_inference_threads(args.threads);
  auto model =
      serve::load_predictor(client ? &*client : nullptr, args.model, scratch->file("model"));
  if (!model.ok()) {
    const auto code = model.status().code();
    const bool bad_input =
        code == mlflow::StatusCode::kNotFound || code == mlflow::StatusCode::kInvalidArgument;
    return fail(bad_input ? kExitUsage : kExitFailed,
                "cannot load " + args.model + ": " + model.status().to_string());
  }

  auto scored = score_all(**model, *inputs, *labels, args);
  if (!scored.ok()) {
    if (scored.status().code() == mlflow::StatusCode::kCancelled) {
      return fail(kExitInterrupted, "interrupted; no CSV written");
    }
    return fail(kExitFailed, scored.status().to_string());
  }
  if (scored->failed == inputs->size()) {
    return fail(kExitFailed, fmt::format("none of the {} images could be read", inputs->size()));
  }
  auto written = mlflow::write_file_atomically(
      args.output, score::predictions_csv(scored->rows, (*model)->info().class_names));
  if (!written.ok()) return fail(kExitFailed, written.to_string());

  const auto n = static_cast<double>(inputs->size());
  if (!args.quiet) {
    fmt::print("{} images scored in {:.2f} s ({:.0f} images/s), {} skipped -> {}\n",
               inputs->size() - scored->failed, scored->seconds, n / scored->seconds,
               scored->failed, args.output);
    if (scored->labelled > 0) {
      fmt::print(
          "accuracy {:.2f}% on {} labelled images\n",
          100.0 * static_cast<double>(scored->correct) / static_cast<double>(scored->labelled),
          scored->labelled);
    }
  }
  if (!args.no_log) {
    std::string run_id;
    auto s =
        log_scoring_run(*client, args, (*model)->info(), *inputs, *scored, args.output, run_id);
    if (!s.ok()) return fail(kExitFailed, "logging the scoring run: " + s.to_string());
    fmt::print(args.quiet ? "{}\n" : "scoring run {}\n", run_id);
  }
  return kExitOk;
}

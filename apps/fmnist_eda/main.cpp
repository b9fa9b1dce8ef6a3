// SPDX-License-Identifier: Apache-2.0
// fmnist_eda: the exploratory data analysis of Fashion-MNIST, recorded as an MLflow run (see
// --help).
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "app_support.h"
#include "eda_run.h"
#include "fmnist/eda.h"
#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_lineage.h"
#include "mlflow/local_server.h"
#include "mlflow/training/dataset_lineage.h"
#include "mlflow/training/staging_dir.h"
#include "out_dir.h"

namespace {

namespace fm = mlflow::fmnist;
namespace training = mlflow::training;

using mlflow::apps::kExitFailed;
using mlflow::apps::kExitInterrupted;
using mlflow::apps::kExitOk;
using mlflow::apps::kExitUsage;
const mlflow::apps::ErrorExit fail{"fmnist_eda"};

struct Args {
  std::string data_dir;
  std::string experiment = "fashion-mnist-eda";
  std::string run_name = "eda";
  std::int64_t sample_size = 2000;
  bool all = false;
  std::uint64_t seed = 42;
  fm::SplitOptions split;  // the trainer's defaults: 0.8, seed 42
  std::string out;
  bool quiet = false;
};

// A sample larger than a part is the user's to fix: say which flag and which file.
std::string check_sample_size(const Args& args, const fm::FmnistRaw& part, const char* name) {
  if (args.all || args.sample_size <= part.n) return {};
  return fmt::format(
      "--sample-size {} is larger than the {} split ({} images in {}); use a smaller --sample-size "
      "or "
      "--all",
      args.sample_size, name, part.n, part.files.images);
}

void print_result(const fm::EdaResult& r, const std::string& out) {
  for (const fm::EdaSplit* s : {&r.train, &r.test}) {
    fmt::print("{:5}  {} of {} images, class imbalance {:.3f}, pixel mean {:.4f} std {:.4f}\n",
               s->name, s->stats.images, s->part_rows, s->classes.imbalance, s->stats.pixel_mean,
               s->stats.pixel_std);
  }
  const fm::NormalisationCheck& n = r.normalisation;
  fmt::print(
      "normalisation: {} the trainer's constants {:.4f} / {:.4f} (differences {:+.5f} / {:+.5f}, "
      "tolerance {})\n",
      n.agree ? "agrees with" : "DOES NOT agree with", n.trainer_mean, n.trainer_std,
      n.mean_difference, n.std_difference, n.tolerance);
  const auto& ev = r.pca.explained_variance_ratio;
  fmt::print("PCA: PC1 {:.1f}%, PC2 {:.1f}% of the variance\n", 100 * ev.at(0), 100 * ev.at(1));
  fmt::print(
      "drift (test against train): {} (class PSI {:.4f}, pixel PSI {:.4f}, pixel KS {:.4f})\n",
      fm::drift_level_name(r.drift.overall), r.drift.class_frequency.psi,
      r.drift.pixel_intensity.psi, r.drift.pixel_intensity.ks.value_or(0.0));
  if (!out.empty()) fmt::print("files in {}\n", out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Explores the Fashion-MNIST data before any training and records it as an MLflow run: class\n"
      "distribution and imbalance, sample images, pixel-intensity histograms (checked against the\n"
      "trainer's normalisation constants), the mean image per class, a 2-D PCA and train/test "
      "drift,\n"
      "as PNG pictures, summary.json and one self-contained eda_report.html.",
      "fmnist_eda"};
  Args args;
  app.add_option("-n,--sample-size,--sample_size", args.sample_size,
                 "images sampled from each split (default 2000)")
      ->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
  app.add_flag("--all", args.all, "analyse every image of both splits instead of a sample")
      ->excludes("--sample-size");
  app.add_option("--seed", args.seed, "seeds the samples (default 42)");
  app.add_option("--data-dir,--data_dir", args.data_dir,
                 "directory of the Fashion-MNIST IDX files");
  app.add_option("--experiment", args.experiment,
                 "experiment of the run, created if missing (default fashion-mnist-eda)");
  app.add_option("--run-name", args.run_name, "name of the run (default eda)");
  app.add_option("--out", args.out,
                 "also write the pictures, summary.json and eda_report.html into this directory");
  app.add_option("--train-val-split,--train_val_split", args.split.train_val_split,
                 "the trainer's split the dataset inputs describe (default 0.8)")
      ->group("Dataset lineage (match the training runs' settings to get the same digests)");
  app.add_option("--split-seed,--split_seed", args.split.seed, "the trainer's --seed (default 42)")
      ->group("Dataset lineage (match the training runs' settings to get the same digests)");
  app.add_flag("-q,--quiet", args.quiet, "print only the run id and errors");
  app.footer(
      "Where runs go: MLFLOW_TRACKING_URI (unset: local mode over ./mlflow.db).\n"
      "Data: --data-dir, else $MLFLOW_CPP_FMNIST_DIR, else /usr/share/datasets/fashion-mnist.\n"
      "Exit codes: 0 ok, 1 server failure (a started run ends FAILED with the reason in the tag\n"
      "mlflow_cpp.error), 2 bad usage or input (no run is created), 130 interrupted.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail(kExitUsage, std::string(e.what()) + " (see 'fmnist_eda --help')");
  }
  mlflow::apps::catch_interrupts(/*second_kills=*/true);

  // Everything is checked and computed before the run exists, so bad input never leaves a run
  // behind.
  const std::string data_dir = fm::fmnist_data_dir(args.data_dir);
  auto train = fm::load_fmnist_raw(data_dir, fm::FmnistPart::kTrain);
  if (!train.ok()) return fail(kExitUsage, train.status().message());
  auto test = fm::load_fmnist_raw(data_dir, fm::FmnistPart::kTest);
  if (!test.ok()) return fail(kExitUsage, test.status().message());
  for (const auto& [part, name] : {std::pair{&*train, "train"}, std::pair{&*test, "test"}}) {
    if (auto msg = check_sample_size(args, *part, name); !msg.empty()) return fail(kExitUsage, msg);
  }
  auto split_rows = fm::split_indices(train->n, args.split);
  if (!split_rows.ok())
    return fail(kExitUsage, "--train-val-split: " + split_rows.status().message());
  // After the data checks, so a bad --data-dir leaves no new --out directory behind.
  if (!args.out.empty()) {
    if (auto s = mlflow::apps::prepare_out_dir(args.out); !s.ok())
      return fail(kExitUsage, "--out: " + s.message());
  }

  fm::EdaOptions options;
  options.sample_size = args.sample_size;
  options.all = args.all;
  options.seed = args.seed;
  auto result = fm::analyse_fmnist(*train, *test, options);
  if (!result.ok())
    return fail(mlflow::apps::exit_code_for(result.status()), result.status().to_string());
  auto staging = training::StagingDir::make("fmnist-eda");
  if (!staging.ok()) return fail(kExitFailed, staging.status().message());
  auto files = fm::write_eda_files(*result, staging->path());
  if (!files.ok()) return fail(kExitFailed, files.status().to_string());
  mlflow::apps::EdaRunContent content =
      mlflow::apps::eda_run_content(*result, data_dir, args.split);
  content.files_dir = staging->path();
  auto inputs = fm::fmnist_dataset_inputs(
      data_dir, args.split,
      {static_cast<std::int64_t>(split_rows->train.size()),
       static_cast<std::int64_t>(split_rows->validation.size()), test->n});
  if (!inputs.ok()) return fail(kExitUsage, inputs.status().message());
  content.inputs = std::move(*inputs);
  if (!args.out.empty()) {
    if (auto s = mlflow::apps::copy_files(*files, staging->path(), args.out); !s.ok()) {
      return fail(kExitUsage, "--out: " + s.message());
    }
  }
  if (mlflow::apps::interrupted()) return fail(kExitInterrupted, "interrupted; no run was created");

  auto client = mlflow::connect_from_env();
  if (!client.ok()) return fail(kExitFailed, "cannot reach MLflow: " + client.status().to_string());
  mlflow::RunOptions run_options;
  run_options.experiment_name = args.experiment;
  run_options.run_name = args.run_name;
  run_options = run_options.with_env_defaults();
  run_options.run_id.clear();  // always a new run: MLFLOW_RUN_ID would name someone else's
  auto run = mlflow::ActiveRun::start(*client, run_options);
  if (!run.ok()) return fail(kExitFailed, "cannot start the run: " + run.status().to_string());
  const std::string link = client->run_ui_url(run->experiment_id(), run->id());

  mlflow::Status logged = mlflow::apps::log_eda_run(*run, content);
  if (logged.ok() && mlflow::apps::interrupted()) {
    logged = mlflow::Status(mlflow::StatusCode::kCancelled, "interrupted");
  }
  if (!logged.ok()) {
    const bool cancelled = logged.code() == mlflow::StatusCode::kCancelled;
    (void)run->set_tag("mlflow_cpp.error", logged.to_string().substr(0, 5000));
    (void)run->end(cancelled ? mlflow::RunStatus::kKilled : mlflow::RunStatus::kFailed);
    return fail(cancelled ? kExitInterrupted : kExitFailed,
                logged.to_string() + " (run " + run->id() + ")");
  }
  if (auto s = run->end(); !s.ok())
    return fail(kExitFailed, "cannot end the run: " + s.to_string());
  if (args.quiet) {
    fmt::print("{}\n", run->id());
  } else {
    print_result(*result, args.out);
    fmt::print("run {}  {}\n", run->id(), link);
  }
  return kExitOk;
}

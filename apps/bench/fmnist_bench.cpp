// SPDX-License-Identifier: Apache-2.0
// bench_fmnist: measures the trainer's targets (accuracy, frozen-epoch cost, images per second)
// with real, tracked runs, and prints a Markdown report plus JSON. --quick keeps it working in CI
// in about a minute.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_tensors.h"
#include "fmnist/tracked_training.h"
#include "mlflow/local_server.h"

namespace {

namespace fm = mlflow::fmnist;
namespace training = mlflow::training;
using nlohmann::json;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Measured {
  std::string name;
  std::string run_id;
  double test_accuracy = 0;
  double epoch_seconds_median = 0;  // over epochs after the first (warm-up) when there are several
  double images_per_second_median = 0;
  double feature_cache_seconds = 0;
  std::int64_t epochs = 0;
  std::int64_t best_epoch = 0;
};

json to_json(const Measured& m) {
  return {{"name", m.name},
          {"run_id", m.run_id},
          {"test_accuracy", m.test_accuracy},
          {"epoch_seconds_median", m.epoch_seconds_median},
          {"images_per_second_median", m.images_per_second_median},
          {"feature_cache_seconds", m.feature_cache_seconds},
          {"epochs", m.epochs},
          {"best_epoch", m.best_epoch}};
}

class Bench {
 public:
  Bench(mlflow::MlflowClient client, const fm::FmnistSplits& data, std::string data_dir,
        std::string experiment)
      : client_(std::move(client)),
        data_(data),
        data_dir_(std::move(data_dir)),
        experiment_(std::move(experiment)) {}

  mlflow::StatusOr<Measured> run(const std::string& name, const fm::TrainConfig& config,
                                 const std::string& register_name = {},
                                 const std::string& alias = {}) {
    fmt::print(stderr, "[bench] {} ...\n", name);
    mlflow::RunOptions ro;
    ro.experiment_name = experiment_;
    ro.run_name = name;
    auto run = mlflow::ActiveRun::start(client_, ro);
    if (!run.ok()) return run.status();
    fm::TrackedTrainingOptions options;
    options.progress = training::detect_progress_options(false);
    options.register_model_name = register_name;
    options.register_alias = alias;
    auto r = fm::run_tracked_training(config, data_, data_dir_, *run, options);
    if (!r.ok()) {
      (void)run->end(mlflow::RunStatus::kFailed);
      return r.status().with_context(name);
    }
    MLFLOW_CPP_RETURN_IF_ERROR(run->end());
    Measured m;
    m.name = name;
    m.run_id = run->id();
    m.test_accuracy = r->report.accuracy;
    m.feature_cache_seconds = r->outcome.feature_cache_seconds;
    m.epochs = static_cast<std::int64_t>(r->outcome.history.size());
    m.best_epoch = r->outcome.best_epoch;
    std::vector<double> secs, ips;
    for (std::size_t i = r->outcome.history.size() > 1 ? 1 : 0; i < r->outcome.history.size();
         ++i) {
      secs.push_back(r->outcome.history[i].epoch_seconds);
      ips.push_back(r->outcome.history[i].images_per_second);
    }
    m.epoch_seconds_median = median(secs);
    m.images_per_second_median = median(ips);
    fmt::print(stderr, "[bench] {}: test accuracy {:.2f}%, median epoch {:.1f} s, {:.0f} img/s\n",
               name, 100 * m.test_accuracy, m.epoch_seconds_median, m.images_per_second_median);
    return m;
  }

 private:
  mlflow::MlflowClient client_;
  const fm::FmnistSplits& data_;
  std::string data_dir_;
  std::string experiment_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Measures the Fashion-MNIST trainer's targets with tracked runs: SmallCNN accuracy and "
      "images per\n"
      "second, rotation pretraining of a MobileNetV2 backbone, MobileNetV2 frozen and fine-tuned "
      "from it,\n"
      "and the cost of a cached frozen epoch against an unfrozen one.",
      "bench_fmnist"};
  bool quick = false;
  int threads = 2;
  std::int64_t epochs = 15;
  std::int64_t pretrain_epochs = 3;
  std::int64_t pretrain_limit = 12000;
  std::string out_file;
  std::string experiment = "fmnist-bench";
  app.add_flag("--quick", quick,
               "tiny subsets and one epoch: checks the program works, figures mean nothing");
  app.add_option("--threads", threads, "intra-op threads (default 2)")->check(CLI::Range(1, 1024));
  app.add_option("--epochs", epochs, "epochs of the classifier runs (default 15)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--pretrain-epochs", pretrain_epochs, "epochs of rotation pretraining (default 3)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--pretrain-limit", pretrain_limit,
                 "training images for pretraining (default 12000)")
      ->check(CLI::Range(100, 60000));
  app.add_option("--out", out_file, "also write the figures as JSON to this file");
  app.add_option("--experiment", experiment,
                 "MLflow experiment of the runs (default fmnist-bench)");
  CLI11_PARSE(app, argc, argv);

  const std::string data_dir = fm::fmnist_data_dir();
  auto data = fm::load_fmnist_splits(data_dir, {});
  if (!data.ok()) {
    fmt::print(stderr, "bench_fmnist: error: {}\n", data.status().message());
    return 2;
  }
  auto client = mlflow::connect_from_env();
  if (!client.ok()) {
    fmt::print(stderr, "bench_fmnist: error: {}\n", client.status().to_string());
    return 1;
  }
  Bench bench(*client, *data, data_dir, experiment);

  fm::TrainConfig base;
  base.threads = threads;
  base.max_epochs = quick ? 1 : epochs;
  if (quick) base.train_limit = 500;
  const std::string backbone_name = "fmnist-bench-backbone";

  fm::TrainConfig small = base;
  fm::TrainConfig pre = base;
  pre.task = fm::kTaskRotation;
  pre.model = fm::kMobileNetV2;
  pre.max_epochs = quick ? 1 : pretrain_epochs;
  pre.train_limit = quick ? 250 : pretrain_limit;
  fm::TrainConfig frozen = base;
  frozen.model = fm::kMobileNetV2;
  frozen.frozen_backbone = true;
  frozen.backbone_weights = "models:/" + backbone_name + "@pretrained";
  fm::TrainConfig tuned = frozen;
  tuned.frozen_backbone = false;

  std::vector<Measured> results;
  auto add = [&](mlflow::StatusOr<Measured> m) {
    if (!m.ok()) {
      fmt::print(stderr, "bench_fmnist: error: {}\n", m.status().to_string());
      return false;
    }
    results.push_back(*m);
    return true;
  };
  if (!add(bench.run("small_cnn", small)) ||
      !add(bench.run("pretrain_mobilenet_v2", pre, backbone_name, "pretrained")) ||
      !add(bench.run("mobilenet_v2_frozen", frozen)) ||
      !add(bench.run("mobilenet_v2_finetuned", tuned))) {
    return 1;
  }
  const Measured& s = results[0];
  const Measured& f = results[2];
  const Measured& t = results[3];
  const double frozen_ratio =
      t.epoch_seconds_median > 0 ? f.epoch_seconds_median / t.epoch_seconds_median : 0;

  fmt::print("| run | epochs (best) | test accuracy | median epoch s | median img/s | run id |\n");
  fmt::print("|---|---|---|---|---|---|\n");
  for (const auto& m : results) {
    fmt::print("| {} | {} ({}) | {:.2f}% | {:.2f} | {:.0f} | {} |\n", m.name, m.epochs,
               m.best_epoch, 100 * m.test_accuracy, m.epoch_seconds_median,
               m.images_per_second_median, m.run_id);
  }
  fmt::print("\nSmallCNN: {:.2f}% test accuracy (target >= 92.0%), {:.0f} images/s at {} threads\n",
             100 * s.test_accuracy, s.images_per_second_median, threads);
  fmt::print(
      "MobileNetV2 fine-tuned: {:.2f}% (target >= 92.0%); frozen with the rotation backbone: "
      "{:.2f}%\n",
      100 * t.test_accuracy, 100 * f.test_accuracy);
  fmt::print(
      "Cached frozen epoch / unfrozen epoch: {:.3f} (target <= 0.10); feature cache built once in "
      "{:.1f} s\n",
      frozen_ratio, f.feature_cache_seconds);

  if (!out_file.empty()) {
    json j = {{"threads", threads},
              {"quick", quick},
              {"frozen_epoch_ratio", frozen_ratio},
              {"runs", json::array()}};
    for (const auto& m : results) j["runs"].push_back(to_json(m));
    std::ofstream(out_file) << j.dump(2) << "\n";
  }
  return 0;
}

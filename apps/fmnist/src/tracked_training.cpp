// SPDX-License-Identifier: Apache-2.0
// fmnist_train's run, as a library call: everything a reviewer needs to judge the run ends up in
// MLflow.
#include "fmnist/tracked_training.h"

#include <cmath>
#include <map>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "fmnist/drift_calibration.h"
#include "fmnist/drift_reference_file.h"
#include "fmnist/feature_cache.h"
#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_lineage.h"
#include "fmnist/fmnist_tensors.h"
#include "fmnist/model_onnx.h"
#include "fmnist/models.h"
#include "mlflow/libtorch/checkpoint.h"
#include "mlflow/training/dataset_lineage.h"
#include "mlflow/training/staging_dir.h"

#ifndef MLFLOW_CPP_BUILD_TYPE
#define MLFLOW_CPP_BUILD_TYPE "unknown"
#endif

namespace mlflow::fmnist {
namespace {

std::string percent(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }

// "train_loss 0.3123 train_acc 88.51% ... lr 0.001, 3900 img/s": an epoch's figures, for bars and
// logs.
std::string epoch_figures(const training::EpochMetrics& m) {
  return fmt::format(
      "train_loss {:.4f} train_acc {} val_loss {:.4f} val_acc {} lr {:.3g}, {:.0f} img/s",
      m.train_loss, percent(m.train_accuracy), m.val_loss, percent(m.val_accuracy), m.learning_rate,
      m.images_per_second);
}

// Lines for train.log, echoed to the terminal unless it shows progress bars (which print their
// own).
class TrainLog {
 public:
  void add(const std::string& line) { text_ += line + "\n"; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// The first test image in the signature's scale (pixel / 255) as a batch of one, for the logged
// model's input example; the tensors hold it normalised, so the pixel grid is restored.
std::string input_example_json(const at::Tensor& normalised_images) {
  const at::Tensor first = normalised_images.select(0, 0).contiguous();  // 1 x 28 x 28
  const float* p = first.data_ptr<float>();
  nlohmann::json image = nlohmann::json::array();
  for (std::int64_t c = 0; c < first.size(0); ++c) {
    nlohmann::json rows = nlohmann::json::array();
    for (std::int64_t r = 0; r < first.size(1); ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (std::int64_t x = 0; x < first.size(2); ++x) {
        const double v = *p++ * kFmnistPixelStd + kFmnistPixelMean;
        row.push_back(std::round(v * 255.0) / 255.0);
      }
      rows.push_back(std::move(row));
    }
    image.push_back(std::move(rows));
  }
  return nlohmann::json::array({image}).dump();
}

std::string git_commit_of(ActiveRun& run) {
  auto r = run.client().get_run(run.id());
  if (!r.ok()) return {};
  for (const auto& t : r->data.tags) {
    if (t.key == "mlflow.source.git.commit") return t.value;
  }
  return {};
}

// drift_reference.json for the logged model: the trained model on the validation split, with
// thresholds for the default window size and false-alarm rate (drift_calibration.h).
StatusOr<training::ModelFile> drift_reference_file(const TrainOutcome& out, const TensorSet& val,
                                                   int threads, TrainLog& log) {
  const std::vector<float> images = training_scale_images(val);
  auto probabilities = predict_saved_model({out.model_config_json, out.weights_path}, images.data(),
                                           val.size(), threads);
  if (!probabilities.ok()) return probabilities.status();
  const auto classes = static_cast<std::int64_t>(out.class_names.size());
  auto reference = compute_drift_reference(images.data(), probabilities->data(), val.size(),
                                           classes, {}, "validation split");
  if (!reference.ok()) return reference.status();
  log.add(fmt::format(
      "drift reference: {} validation images; windows of {} alert at a {}% false-alarm rate",
      val.size(), reference->thresholds.window_size, 100 * reference->thresholds.false_alarm_rate));
  return training::ModelFile{kDriftReferenceFileName, drift_reference_json(*reference)};
}

}  // namespace

BackboneResolver model_uri_resolver(MlflowClient& client, const std::string& scratch_dir) {
  return [&client, scratch_dir](const std::string& uri) -> StatusOr<SavedModel> {
    auto local = libtorch::fetch_model(client, uri, scratch_dir + "/backbone");
    if (!local.ok()) return local.status();
    return SavedModel{local->flavor.config_json, local->weights_path};
  };
}

StatusOr<TrackedTrainingResult> run_tracked_training(const TrainConfig& config,
                                                     const FmnistSplits& data,
                                                     const std::string& data_dir, ActiveRun& run,
                                                     const TrackedTrainingOptions& options) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_train_config(config));
  auto scratch = training::StagingDir::make("mlflow-train");
  if (!scratch.ok()) return scratch.status();
  training::TrainingLogger logger(run);
  TrainLog log;

  auto params = train_config_params(config);
  for (auto& p : params) {
    if (p.first == "data_dir") p.second = data_dir;  // the resolved directory, not the flag
  }
  params.emplace_back("libtorch_version", libtorch_version());
  params.emplace_back("device", "cpu");
  params.emplace_back("build_type", MLFLOW_CPP_BUILD_TYPE);
  const std::string commit = git_commit_of(run);
  params.emplace_back("git_commit", commit.empty() ? "unknown" : commit);
  if (!config.initial_weights.empty()) {
    // Lineage of a shipped model: which weights (by digest), and what made them.
    auto info = libtorch::read_checkpoint(config.initial_weights);
    if (!info.ok()) return info.status().with_context("initial_weights");
    params.emplace_back("initial_weights_sha256", info->weights_sha256);
    MLFLOW_CPP_RETURN_IF_ERROR(
        run.set_tags({{"mlflow_cpp.initial_weights.source", info->source.substr(0, 5000)},
                      {"mlflow_cpp.initial_weights.recipe", info->recipe.substr(0, 5000)},
                      {"mlflow_cpp.initial_weights.epochs", std::to_string(info->history.size())}})
            .with_context("logging the initial weights' lineage"));
  }
  MLFLOW_CPP_RETURN_IF_ERROR(logger.log_params(params).with_context("logging params"));

  SplitOptions split{config.train_val_split, config.split_seed};
  FmnistSplitSizes sizes{data.train.size(), data.validation.size(), data.test.size()};
  if (config.train_limit > 0 && config.train_limit < sizes.train) sizes.train = config.train_limit;
  auto inputs = fmnist_dataset_inputs(data_dir, split, sizes);
  if (!inputs.ok()) return inputs.status().with_context("dataset lineage");
  MLFLOW_CPP_RETURN_IF_ERROR(
      run.client().log_inputs(run.id(), *inputs).with_context("logging dataset inputs"));

  log.add(fmt::format(
      "run {}: {} on {} training / {} validation / {} test images, {} epochs at most", run.id(),
      is_pretraining_task(config.task) ? config.task + " pretraining of " + config.model
                                       : config.model,
      sizes.train, sizes.validation, sizes.test, config.max_epochs));
  const training::ProgressOptions& po = options.progress;
  const bool plain = !po.tty && !po.quiet;
  if (plain) std::fprintf(options.out, "%s\n", log.text().c_str());

  std::unique_ptr<training::ProgressBar> bar;
  TrainCallbacks cb;
  cb.cancelled = options.cancelled;
  cb.on_batch = [&](std::int64_t epoch, std::int64_t done, std::int64_t total, double loss,
                    double seconds) {
    if (!bar)
      bar = std::make_unique<training::ProgressBar>(
          fmt::format("epoch {}/{}", epoch, config.max_epochs), total, po, options.out);
    bar->update(done, loss, seconds);
  };
  cb.on_epoch = [&](const training::EpochMetrics& m) -> Status {
    const std::string figures = epoch_figures(m);
    log.add(fmt::format("epoch {}/{}: {} ({:.1f} s)", m.epoch, config.max_epochs, figures,
                        m.epoch_seconds));
    if (bar) {
      bar->finish(figures, m.epoch_seconds);
      bar.reset();
    }
    return logger.log_epoch(m).with_context(fmt::format("logging epoch {}", m.epoch));
  };

  FeatureCacheOptions cache_options;
  cache_options.dir = options.feature_cache_dir;
  cache_options.warn = [&](const std::string& message) {
    log.add("warning: " + message);
    std::fprintf(options.out, "warning: %s\n", message.c_str());
  };
  FeatureCache cache(cache_options);
  auto trained = train_fmnist(config, data, scratch->path(), cb,
                              model_uri_resolver(run.client(), scratch->path()), &cache);
  if (!trained.ok()) {
    log.add("training failed: " + trained.status().to_string());
    (void)run.log_text(log.text(),
                       "train.log");  // keep what happened; the caller ends the run FAILED
    return trained.status();
  }
  TrackedTrainingResult result;
  result.outcome = std::move(*trained);
  const TrainOutcome& out = result.outcome;

  auto report =
      training::make_classification_report(out.test.predictions, out.test.labels, out.class_names);
  if (!report.ok()) return report.status().with_context("test evaluation");
  result.report = std::move(*report);
  // The epoch whose model is kept: what sweeps compare trials by.
  const auto& best = out.history[static_cast<std::size_t>(out.best_epoch - 1)];
  std::map<std::string, double> extra = {
      {"test_loss", out.test.loss},
      {"best_epoch", static_cast<double>(out.best_epoch)},
      {"best_val_accuracy", best.val_accuracy},
      {"best_val_loss", best.val_loss},
      {"epochs_run", static_cast<double>(out.history.size())},
      {"parameters", static_cast<double>(out.parameters)},
      {"trainable_parameters", static_cast<double>(out.trainable_parameters)}};
  if (out.feature_cache_seconds > 0) {
    extra["feature_cache_seconds"] = out.feature_cache_seconds;
    extra["feature_cache_hit"] = out.feature_cache_hit ? 1.0 : 0.0;
  }
  if (out.linear_probe_val_accuracy >= 0) {
    // How good the pretrained backbone is: what the registry shows for it.
    extra["linear_probe_val_accuracy"] = out.linear_probe_val_accuracy;
    extra["linear_probe_test_accuracy"] = result.report.accuracy;
  }
  MLFLOW_CPP_RETURN_IF_ERROR(
      logger.log_evaluation(result.report, "test", extra).with_context("logging evaluation"));
  MLFLOW_CPP_RETURN_IF_ERROR(logger.log_curves().with_context("logging curves"));
  MLFLOW_CPP_RETURN_IF_ERROR(logger.log_metrics_json().with_context("logging metrics.json"));

  libtorch::LibtorchFlavor flavor;
  flavor.architecture = out.architecture;
  flavor.config_json = out.model_config_json;
  flavor.input_shape = {1, kFmnistRows, kFmnistCols};
  flavor.input_scale = kFmnistInputScale;
  flavor.input_mean = {kFmnistPixelMean};
  flavor.input_std = {kFmnistPixelStd};
  flavor.class_names = out.class_names;
  flavor.libtorch_version = libtorch_version();
  std::map<std::string, std::string> model_params = {
      {"task", config.task},
      {"best_epoch", std::to_string(out.best_epoch)},
      {"test_accuracy", fmt::format("{}", result.report.accuracy)}};
  std::vector<training::ModelFile> model_files;
  if (config.task == kTaskClassify) {
    auto drift = drift_reference_file(out, data.validation, config.threads, log);
    if (!drift.ok()) return drift.status().with_context("computing the drift reference");
    model_files.push_back(std::move(*drift));
  }
  // The same model as ONNX, so that MLflow's own tools (mlflow.pyfunc, `mlflow models serve`)
  // load it too.
  auto exported = export_onnx(out.model_config_json, out.weights_path);
  if (!exported.ok()) return exported.status().with_context("exporting the model to ONNX");
  const onnx::ExportInfo& onnx_info = exported->info;
  log.add(fmt::format("ONNX export: opset {}, {} operators ({}), {} bytes", onnx_info.opset,
                      onnx_info.op_types.size(), fmt::join(onnx_info.op_types, " "),
                      onnx_info.bytes));
  model_files.push_back({onnx::kOnnxModelFile, std::move(exported->bytes)});
  libtorch::ModelExtras extras;
  extras.onnx = {onnx::kOnnxModelFile, onnx_info.onnx_version};
  extras.input_example_json = input_example_json(data.test.images);
  auto model = libtorch::log_libtorch_model(run.client(), run.experiment_id(), run.id(), "model",
                                            flavor, out.weights_path, model_params, out.best_epoch,
                                            model_files, extras);
  if (!model.ok()) return model.status().with_context("logging the model");
  result.model = std::move(*model);
  if (!options.register_model_name.empty()) {
    const std::string what =
        config.task == kTaskSimclr
            ? "Self-supervised (SimCLR, contrastive; linear probe test accuracy " +
                  percent(result.report.accuracy) + ") " + config.model +
                  " backbone for Fashion-MNIST"
        : config.task == kTaskRotation ? "Self-supervised (rotation prediction) " + config.model +
                                             " backbone for Fashion-MNIST"
                                       : config.model + " Fashion-MNIST classifier";
    auto version = training::register_logged_model(
        run.client(), result.model, options.register_model_name, options.register_alias,
        {{"run_id", run.id()}, {"test_accuracy", fmt::format("{}", result.report.accuracy)}},
        fmt::format("{}, trained by fmnist_train in run {} (test accuracy {}).", what, run.id(),
                    percent(result.report.accuracy)));
    if (!version.ok()) return version.status().with_context("registering the model");
    result.version = std::move(*version);
  }

  if (!options.save_checkpoint_dir.empty()) {
    libtorch::CheckpointInfo info;
    info.model_config_json = out.model_config_json;
    info.settings = params;
    info.history = out.history;
    info.best_epoch = out.best_epoch;
    if (out.linear_probe_val_accuracy >= 0) {
      info.linear_probe_val_accuracy = out.linear_probe_val_accuracy;
      info.linear_probe_test_accuracy = result.report.accuracy;
    }
    info.source = fmt::format("run {} of experiment {} on {}", run.id(), run.experiment_id(),
                              run.client().store_uri());
    info.recipe = options.recipe;
    MLFLOW_CPP_RETURN_IF_ERROR(
        libtorch::save_checkpoint(options.save_checkpoint_dir, out.weights_path, info)
            .with_context("saving the checkpoint"));
    log.add("checkpoint written to " + options.save_checkpoint_dir);
  }
  log.add(
      fmt::format("best epoch {} (val_acc {}), test_acc {}, macro_f1 {:.4f}, test_loss {:.4f}{}",
                  out.best_epoch, percent(best.val_accuracy), percent(result.report.accuracy),
                  result.report.macro_f1, out.test.loss, out.stopped_early ? " (early stop)" : ""));
  log.add(training::format_classification_table(result.report));
  log.add(training::format_confusion_matrix(result.report));
  MLFLOW_CPP_RETURN_IF_ERROR(
      run.log_text(log.text(), "train.log").with_context("logging train.log"));
  return result;
}

}  // namespace mlflow::fmnist

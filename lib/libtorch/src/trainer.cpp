// SPDX-License-Identifier: Apache-2.0
// The training loop. One of the few TUs that see LibTorch's C++ frontend (optimizers, losses).
#include "mlflow/libtorch/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include <ATen/Parallel.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "mlflow/libtorch/fmnist_data.h"
#include "mlflow/libtorch/fmnist_tensors.h"
#include "mlflow/libtorch/models.h"

namespace mlflow::libtorch {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kEvalBatch = 1000;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Status torch_error(const std::string& what, const std::exception& e) {
  std::string msg = e.what();
  return Status(StatusCode::kInternal, what + ": " + msg.substr(0, msg.find('\n')));
}

void set_threads(int threads) {
  const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
}

// Rotation pretraining: every image four times, rotated by 0/90/180/270 degrees; the label is the rotation.
Batch rotate_batch(const at::Tensor& images) {
  std::vector<at::Tensor> rotated;
  std::vector<at::Tensor> labels;
  for (std::int64_t k = 0; k < 4; ++k) {
    rotated.push_back(k == 0 ? images : at::rot90(images, k, {2, 3}));
    labels.push_back(at::full({images.size(0)}, k, at::kLong));
  }
  return {at::cat(rotated, 0), at::cat(labels, 0)};
}

// The set as the model sees it: original images, or their backbone features when cached.
struct Source {
  const TensorSet* set;
  bool features;  // rows are backbone features: run only the head
};

// Sums over the batches of an epoch.
struct Tally {
  double loss_sum = 0;
  std::int64_t correct = 0;
  std::int64_t count = 0;
  void add(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& loss) {
    const std::int64_t n = labels.size(0);
    loss_sum += loss.item<double>() * static_cast<double>(n);
    correct += logits.argmax(1).eq(labels).sum().item<std::int64_t>();
    count += n;
  }
  double mean_loss() const { return count > 0 ? loss_sum / static_cast<double>(count) : 0.0; }
  double accuracy() const { return count > 0 ? static_cast<double>(correct) / static_cast<double>(count) : 0.0; }
};

Batch task_batch(const Batch& b, bool rotation) { return rotation ? rotate_batch(b.images) : b; }

at::Tensor run_model(Classifier& model, const at::Tensor& x, bool features) {
  return features ? model->classify(x) : model->forward(x);
}

Evaluation evaluate_source(Classifier& model, const Source& src, bool rotation, std::int64_t limit = 0) {
  torch::NoGradGuard no_grad;
  model->eval();
  Tally tally;
  Evaluation out;
  const std::int64_t n = limit > 0 ? std::min(limit, src.set->size()) : src.set->size();
  for (std::int64_t start = 0; start < n; start += kEvalBatch) {
    const Batch b = task_batch(slice_batch(*src.set, start, std::min(kEvalBatch, n - start)), rotation && !src.features);
    const at::Tensor logits = run_model(model, b.images, src.features);
    tally.add(logits, b.labels, torch::nn::functional::cross_entropy(logits, b.labels));
    const at::Tensor pred = logits.argmax(1).contiguous();
    const at::Tensor lab = b.labels.contiguous();
    out.predictions.insert(out.predictions.end(), pred.data_ptr<std::int64_t>(),
                           pred.data_ptr<std::int64_t>() + pred.numel());
    out.labels.insert(out.labels.end(), lab.data_ptr<std::int64_t>(), lab.data_ptr<std::int64_t>() + lab.numel());
  }
  out.loss = tally.mean_loss();
  out.accuracy = tally.accuracy();
  return out;
}

// Backbone features of a whole split, computed once in eval mode (the frozen backbone's batch norm is fixed).
// Nothing when cancelled: caching all splits takes about a minute, too long to ignore Ctrl-C.
std::optional<TensorSet> cache_features(Classifier& model, const TensorSet& set, bool rotation,
                                        const std::function<bool()>& cancelled) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<at::Tensor> feats;
  std::vector<at::Tensor> labels;
  for (std::int64_t start = 0; start < set.size(); start += kEvalBatch) {
    if (cancelled && cancelled()) return std::nullopt;
    const Batch b = task_batch(slice_batch(set, start, kEvalBatch), rotation);
    feats.push_back(model->features(b.images));
    labels.push_back(b.labels);
  }
  return TensorSet{at::cat(feats, 0), at::cat(labels, 0)};
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& c, std::vector<at::Tensor> params) {
  if (c.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(c.learning_rate).momentum(c.momentum).weight_decay(c.weight_decay));
  }
  if (c.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(c.learning_rate).weight_decay(c.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(c.learning_rate).weight_decay(c.weight_decay));
}

double scheduled_lr(const TrainConfig& c, std::int64_t epoch) {
  if (c.lr_schedule != "cosine") return c.learning_rate;
  const double pi = std::acos(-1.0);
  return c.learning_rate * 0.5 *
         (1.0 + std::cos(pi * static_cast<double>(epoch - 1) / static_cast<double>(c.max_epochs)));
}

// Copies of all parameters and buffers, to keep the best epoch's model.
std::vector<at::Tensor> snapshot(Classifier& model) {
  std::vector<at::Tensor> s;
  for (const auto& p : model->parameters()) s.push_back(p.detach().clone());
  for (const auto& b : model->buffers()) s.push_back(b.detach().clone());
  return s;
}

void restore(Classifier& model, const std::vector<at::Tensor>& s) {
  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  for (auto& p : model->parameters()) p.copy_(s[i++]);
  for (auto& b : model->buffers()) b.copy_(s[i++]);
}

Status load_backbone_into(Classifier& model, const TrainConfig& c, const BackboneResolver& resolver,
                          std::string& source) {
  const std::string& w = c.backbone_weights;
  const bool uri = w.rfind("runs:/", 0) == 0 || w.rfind("models:/", 0) == 0;
  if (!uri) {
    source = w;
    return load_backbone(model, w).with_context("backbone_weights");
  }
  if (!resolver) return Status(StatusCode::kInvalidArgument, "backbone_weights: cannot resolve '" + w + "' here");
  auto saved = resolver(w);
  if (!saved.ok()) return saved.status().with_context("backbone_weights '" + w + "'");
  auto cfg = ModelConfig::from_json(saved->model_config_json, w);
  if (!cfg.ok()) return cfg.status();
  if (cfg->architecture != model->config().architecture || cfg->width_multiplier != model->config().width_multiplier) {
    return Status(StatusCode::kInvalidArgument,
                  "backbone_weights '" + w + "' is a " + cfg->architecture + " (width " +
                      std::to_string(cfg->width_multiplier) + "), the model is a " + model->config().architecture +
                      " (width " + std::to_string(model->config().width_multiplier) + ")");
  }
  Classifier donor(*cfg);
  MLFLOW_CPP_RETURN_IF_ERROR(load_weights(donor, saved->weights_path).with_context("backbone_weights '" + w + "'"));
  source = w;
  return copy_backbone(donor, model);
}

StatusOr<TrainOutcome> train_impl(const TrainConfig& c, const FmnistSplits& data, const std::string& work_dir,
                                  const TrainCallbacks& cb, const BackboneResolver& resolver) {
  set_threads(c.threads);
  const bool rotation = c.task == kTaskRotation;
  ModelConfig mc{c.model, c.width_multiplier, rotation ? 4 : kFmnistNumClasses, c.dropout};
  auto made = make_classifier(mc, c.seed);
  if (!made.ok()) return made.status();
  Classifier model = *made;

  TrainOutcome out;
  out.architecture = mc.architecture;
  out.model_config_json = mc.to_json();
  if (rotation) {
    out.class_names = rotation_class_names();
  } else {
    out.class_names.assign(kFmnistClassNames.begin(), kFmnistClassNames.end());
  }
  if (!c.backbone_weights.empty()) {
    MLFLOW_CPP_RETURN_IF_ERROR(load_backbone_into(model, c, resolver, out.backbone_source));
  }
  model->set_backbone_frozen(c.frozen_backbone);
  out.parameters = count_parameters(*model);
  out.trainable_parameters = count_parameters(*model, true);

  TensorSet train = data.train;
  if (c.train_limit > 0 && c.train_limit < train.size()) {
    train = {train.images.narrow(0, 0, c.train_limit), train.labels.narrow(0, 0, c.train_limit)};
  }

  // A frozen backbone without augmentation sees the same images every epoch: compute its features once.
  const bool cached = c.frozen_backbone && !c.augmentation && c.feature_cache;
  TensorSet train_src = train, val_src = data.validation, test_src = data.test;
  if (cached) {
    const auto start = Clock::now();
    using Split = std::pair<TensorSet*, const TensorSet*>;
    for (auto [src, set] : {Split{&train_src, &train}, Split{&val_src, &data.validation}, Split{&test_src, &data.test}}) {
      auto features = cache_features(model, *set, rotation, cb.cancelled);
      if (!features) return Status(StatusCode::kCancelled, "training cancelled");
      *src = std::move(*features);
    }
    out.feature_cache_seconds = seconds_since(start);
  }

  std::vector<at::Tensor> params;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) params.push_back(p);
  }
  auto optimizer = make_optimizer(c, params);

  BatchOptions bo;
  bo.batch_size = c.batch_size;
  bo.shuffle = true;
  bo.seed = c.seed;
  bo.augmentation.enabled = c.augmentation;
  BatchLoader loader(train_src, bo);
  torch::manual_seed(c.seed + 1);  // dropout

  double best_val = -1;
  std::vector<at::Tensor> best;
  std::int64_t since_best = 0;
  const std::int64_t images_per_epoch = train_src.size() * (rotation && !cached ? 4 : 1);
  for (std::int64_t epoch = 1; epoch <= c.max_epochs; ++epoch) {
    const auto start = Clock::now();
    for (auto& group : optimizer->param_groups()) group.options().set_lr(scheduled_lr(c, epoch));
    EpochMetrics r;
    r.epoch = epoch;
    r.learning_rate = optimizer->param_groups().front().options().get_lr();

    loader.set_epoch(epoch);
    model->train();
    Tally tally;
    for (std::int64_t i = 0; i < loader.num_batches(); ++i) {
      if (cb.cancelled && cb.cancelled()) return Status(StatusCode::kCancelled, "training cancelled");
      const Batch b = task_batch(loader.batch(i), rotation && !cached);
      optimizer->zero_grad();
      const at::Tensor logits = run_model(model, b.images, cached);
      const at::Tensor loss = torch::nn::functional::cross_entropy(logits, b.labels);
      loss.backward();
      optimizer->step();
      tally.add(logits.detach(), b.labels, loss.detach());
      if (cb.on_batch) cb.on_batch(epoch, tally.count, images_per_epoch, tally.mean_loss(), seconds_since(start));
    }
    const double train_seconds = seconds_since(start);
    r.train_loss = tally.mean_loss();
    r.train_accuracy = tally.accuracy();
    r.images_per_second = train_seconds > 0 ? static_cast<double>(tally.count) / train_seconds : 0;
    const Evaluation val = evaluate_source(model, {&val_src, cached}, rotation);
    r.val_loss = val.loss;
    r.val_accuracy = val.accuracy;
    r.epoch_seconds = seconds_since(start);
    out.history.push_back(r);

    if (r.val_accuracy > best_val) {
      best_val = r.val_accuracy;
      out.best_epoch = epoch;
      best = snapshot(model);
      since_best = 0;
    } else {
      ++since_best;
    }
    if (cb.on_epoch) MLFLOW_CPP_RETURN_IF_ERROR(cb.on_epoch(r));
    if (c.early_stopping_patience > 0 && since_best >= c.early_stopping_patience && epoch < c.max_epochs) {
      out.stopped_early = true;
      break;
    }
  }

  restore(model, best);
  out.test = evaluate_source(model, {&test_src, cached}, rotation);
  out.weights_path = work_dir + "/model.pt";
  MLFLOW_CPP_RETURN_IF_ERROR(save_weights(model, out.weights_path));
  return out;
}

}  // namespace

const std::vector<std::string>& rotation_class_names() {
  static const std::vector<std::string> names = {"rot0", "rot90", "rot180", "rot270"};
  return names;
}

StatusOr<TrainOutcome> train_fmnist(const TrainConfig& config, const FmnistSplits& data, const std::string& work_dir,
                                    const TrainCallbacks& callbacks, const BackboneResolver& resolver) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_train_config(config));
  try {
    return train_impl(config, data, work_dir, callbacks, resolver);
  } catch (const std::exception& e) {
    return torch_error("training failed", e);
  }
}

StatusOr<Evaluation> evaluate_saved_model(const SavedModel& saved, const FmnistSplits& data, int threads,
                                          std::int64_t limit) {
  try {
    set_threads(threads);
    auto cfg = ModelConfig::from_json(saved.model_config_json, saved.weights_path);
    if (!cfg.ok()) return cfg.status();
    Classifier model(*cfg);
    MLFLOW_CPP_RETURN_IF_ERROR(load_weights(model, saved.weights_path));
    return evaluate_source(model, {&data.test, false}, cfg->num_classes == 4, limit);
  } catch (const std::exception& e) {
    return torch_error("evaluation failed", e);
  }
}

}  // namespace mlflow::libtorch

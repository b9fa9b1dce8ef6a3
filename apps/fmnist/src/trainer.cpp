// SPDX-License-Identifier: Apache-2.0
// The training loop. One of the few TUs that see LibTorch's C++ frontend (optimizers, losses).
#include "fmnist/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

#include <ATen/Parallel.h>
#include <ATen/ops/from_blob.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "fmnist/contrastive.h"
#include "fmnist/feature_cache.h"
#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_tensors.h"
#include "fmnist/models.h"
#include "mlflow/libtorch/checkpoint.h"
#include "mlflow/libtorch/seeded_shuffle.h"
#include "mlflow/model_uri.h"

namespace mlflow::fmnist {
namespace {

using Clock = std::chrono::steady_clock;
// Images per forward pass when evaluating or computing features. Ctrl-C/SIGTERM is polled between
// passes, and one cannot be interrupted: 1000 MobileNetV2 images took 10 s on one loaded core, 100
// keep the answer to a signal well under 2 s at the same throughput.
constexpr std::int64_t kEvalBatch = 100;
constexpr std::int64_t kProjectionSize = 128;  // SimCLR's projection head output
constexpr std::int64_t kSimclrValImages =
    2048;  // validation images per epoch of contrastive pretraining
constexpr std::int64_t kProbeEpochs =
    15;  // linear probe: epochs of logistic regression on features

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Status torch_error(const std::string& what, const std::exception& e) {
  std::string msg = e.what();
  return Status(StatusCode::kInternal, what + ": " + msg.substr(0, msg.find('\n')));
}

void set_threads(int threads) {
  const int n =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
}

// Rotation pretraining: every image four times, rotated by 0/90/180/270 degrees; the label is the
// rotation.
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
  void add(double loss, std::int64_t right, std::int64_t n) {
    loss_sum += loss * static_cast<double>(n);
    correct += right;
    count += n;
  }
  double mean_loss() const { return count > 0 ? loss_sum / static_cast<double>(count) : 0.0; }
  double accuracy() const {
    return count > 0 ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;
  }
};

Batch task_batch(const Batch& b, bool rotation) { return rotation ? rotate_batch(b.images) : b; }

at::Tensor run_model(Classifier& model, const at::Tensor& x, bool features) {
  return features ? model->classify(x) : model->forward(x);
}

// kCancelled once `cancelled` says so (polled every batch: a whole split takes seconds).
StatusOr<Evaluation> evaluate_source(Classifier& model, const Source& src, bool rotation,
                                     const std::function<bool()>& cancelled,
                                     std::int64_t limit = 0) {
  torch::NoGradGuard no_grad;
  model->eval();
  Tally tally;
  Evaluation out;
  const std::int64_t n = limit > 0 ? std::min(limit, src.set->size()) : src.set->size();
  for (std::int64_t start = 0; start < n; start += kEvalBatch) {
    if (cancelled && cancelled()) return Status(StatusCode::kCancelled, "training cancelled");
    const Batch b = task_batch(slice_batch(*src.set, start, std::min(kEvalBatch, n - start)),
                               rotation && !src.features);
    const at::Tensor logits = run_model(model, b.images, src.features);
    tally.add(logits, b.labels, torch::nn::functional::cross_entropy(logits, b.labels));
    const at::Tensor pred = logits.argmax(1).contiguous();
    const at::Tensor lab = b.labels.contiguous();
    out.predictions.insert(out.predictions.end(), pred.data_ptr<std::int64_t>(),
                           pred.data_ptr<std::int64_t>() + pred.numel());
    out.labels.insert(out.labels.end(), lab.data_ptr<std::int64_t>(),
                      lab.data_ptr<std::int64_t>() + lab.numel());
  }
  out.loss = tally.mean_loss();
  out.accuracy = tally.accuracy();
  return out;
}

// Backbone features of a whole split, computed once in eval mode (the frozen backbone's batch norm
// is fixed). Nothing when cancelled: caching all splits takes about a minute, too long to ignore
// Ctrl-C.
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

// SimCLR's projection head: trained with the backbone, thrown away after pretraining.
torch::nn::Sequential make_projector(std::int64_t inputs) {
  return torch::nn::Sequential(torch::nn::Linear(inputs, 256), torch::nn::BatchNorm1d(256),
                               torch::nn::ReLU(), torch::nn::Linear(256, kProjectionSize));
}

// The contrastive task on one batch: two views of every image, NT-Xent over their projected
// embeddings.
ContrastiveLoss simclr_step(Classifier& model, torch::nn::Sequential& projector,
                            const at::Tensor& images, std::uint64_t seed, double temperature) {
  const at::Tensor views = at::cat({contrastive_view(images, libtorch::mix_seed({seed, 1})),
                                    contrastive_view(images, libtorch::mix_seed({seed, 2}))});
  return nt_xent_loss(projector->forward(model->embedding(views)), temperature);
}

// Contrastive loss and partner accuracy on the first kSimclrValImages validation images, same views
// every epoch.
std::pair<double, double> simclr_validation(Classifier& model, torch::nn::Sequential& projector,
                                            const TensorSet& set, std::int64_t batch_size,
                                            double temperature) {
  torch::NoGradGuard no_grad;
  model->eval();
  projector->eval();
  const std::int64_t n = std::min(kSimclrValImages, set.size());
  double loss_sum = 0;
  std::int64_t correct = 0, count = 0;
  for (std::int64_t start = 0; start + 1 < n; start += batch_size) {
    const Batch b = slice_batch(set, start, std::min(batch_size, n - start));
    const ContrastiveLoss l =
        simclr_step(model, projector, b.images,
                    libtorch::mix_seed({0x7A1u, static_cast<std::uint64_t>(start)}), temperature);
    loss_sum += l.loss.item<double>() * static_cast<double>(l.count);
    correct += l.correct;
    count += l.count;
  }
  return {count > 0 ? loss_sum / static_cast<double>(count) : 0.0,
          count > 0 ? static_cast<double>(correct) / static_cast<double>(count) : 0.0};
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& c,
                                                        std::vector<at::Tensor> params) {
  if (c.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(c.learning_rate)
                                                           .momentum(c.momentum)
                                                           .weight_decay(c.weight_decay));
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

bool is_head_parameter(Classifier& model, const at::Tensor& p) {
  for (const auto& h : model->head->parameters()) {
    if (h.is_same(p)) return true;
  }
  return false;
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

// The backbone's features of each input set, from `cache` when it has them (keyed by the backbone's
// config and tensors and the inputs' tensors), else computed (and stored there).
StatusOr<std::vector<TensorSet>> split_features(Classifier& model, bool rotation,
                                                const std::vector<const TensorSet*>& inputs,
                                                FeatureCache* cache,
                                                const std::function<bool()>& cancelled, bool* hit) {
  auto compute = [&]() -> StatusOr<std::vector<TensorSet>> {
    std::vector<TensorSet> sets;
    for (const TensorSet* set : inputs) {
      auto features = cache_features(model, *set, rotation, cancelled);
      if (!features) return Status(StatusCode::kCancelled, "training cancelled");
      sets.push_back(std::move(*features));
    }
    return sets;
  };
  if (cache == nullptr) return compute();
  std::vector<at::Tensor> state;
  for (const auto& p : model->backbone->parameters()) state.push_back(p);
  for (const auto& b : model->backbone->buffers()) state.push_back(b);
  const ModelConfig& mc = model->config();
  const std::string key =
      feature_cache_key(nlohmann::json{{"architecture", mc.architecture},
                                       {"width_multiplier", mc.width_multiplier},
                                       {"layout", mc.layout},
                                       {"rotation", rotation},
                                       {"eval_batch", kEvalBatch}}
                            .dump(),
                        state, inputs);
  return cache->get_or_compute(key, compute, cancelled, hit);
}

// How good a backbone's features are, the usual way: a logistic regression (batch norm + linear
// layer) on the frozen features of the training split, scored on the validation and test splits.
struct ProbeResult {
  double val_accuracy = 0;
  Evaluation test;
};

StatusOr<ProbeResult> linear_probe(Classifier& model, const TensorSet& train, const TensorSet& val,
                                   const TensorSet& test, std::uint64_t seed, FeatureCache* cache,
                                   const std::function<bool()>& cancelled) {
  // Through the cache: frozen-backbone runs on the same data then find these features there.
  auto sets = split_features(model, false, {&train, &val, &test}, cache, cancelled, nullptr);
  if (!sets.ok()) return sets.status();
  const TensorSet* f_train = &(*sets)[0];
  const TensorSet* f_val = &(*sets)[1];
  const TensorSet* f_test = &(*sets)[2];
  torch::manual_seed(seed);
  Classifier probe(ModelConfig{kPixels, 1.0, kFmnistNumClasses, 0.0, kLayoutSmall, kHeadLinear});
  probe->head = probe->replace_module(
      "head", torch::nn::Sequential(torch::nn::BatchNorm1d(model->feature_size()),
                                    torch::nn::Linear(model->feature_size(), kFmnistNumClasses)));
  torch::optim::Adam optimizer(probe->head->parameters(), torch::optim::AdamOptions(1e-3));
  BatchOptions bo;
  bo.batch_size = 256;
  bo.shuffle = true;
  bo.seed = seed;
  BatchLoader loader(*f_train, bo);
  for (std::int64_t epoch = 1; epoch <= kProbeEpochs; ++epoch) {
    loader.set_epoch(epoch);
    probe->train();
    for (std::int64_t i = 0; i < loader.num_batches(); ++i) {
      if (cancelled && cancelled()) return Status(StatusCode::kCancelled, "training cancelled");
      const Batch b = loader.batch(i);
      optimizer.zero_grad();
      torch::nn::functional::cross_entropy(probe->classify(b.images), b.labels).backward();
      optimizer.step();
    }
  }
  auto on_val = evaluate_source(probe, {f_val, true}, false, cancelled);
  if (!on_val.ok()) return on_val.status();
  auto on_test = evaluate_source(probe, {f_test, true}, false, cancelled);
  if (!on_test.ok()) return on_test.status();
  ProbeResult out;
  out.val_accuracy = on_val->accuracy;
  out.test = std::move(*on_test);
  return out;
}

Status load_backbone_into(Classifier& model, const TrainConfig& c, const BackboneResolver& resolver,
                          std::string& source) {
  const std::string& w = c.backbone_weights;
  const bool uri = is_model_uri(w);
  if (!uri) {
    source = w;
    return load_backbone(model, w).with_context("backbone_weights");
  }
  if (!resolver)
    return Status(StatusCode::kInvalidArgument,
                  "backbone_weights: cannot resolve '" + w + "' here");
  auto saved = resolver(w);
  if (!saved.ok()) return saved.status().with_context("backbone_weights '" + w + "'");
  auto cfg = ModelConfig::from_json(saved->model_config_json, w);
  if (!cfg.ok()) return cfg.status();
  const ModelConfig& mine = model->config();
  if (cfg->input != mine.input) {
    return Status(StatusCode::kInvalidArgument, "backbone_weights '" + w +
                                                    "' was pretrained on input '" + cfg->input +
                                                    "', this model reads '" + mine.input +
                                                    "': its features would not mean anything here");
  }
  if (cfg->architecture != mine.architecture || cfg->width_multiplier != mine.width_multiplier ||
      (mine.architecture == kMobileNetV2 && cfg->layout != mine.layout)) {
    auto describe = [](const ModelConfig& m) {
      return m.architecture + " (width " + fmt::format("{}", m.width_multiplier) +
             (m.architecture == kMobileNetV2 ? ", layout " + m.layout : std::string()) + ")";
    };
    return Status(StatusCode::kInvalidArgument, "backbone_weights '" + w + "' is a " +
                                                    describe(*cfg) + ", the model is a " +
                                                    describe(mine));
  }
  Classifier donor(*cfg);
  MLFLOW_CPP_RETURN_IF_ERROR(
      load_weights(donor, saved->weights_path).with_context("backbone_weights '" + w + "'"));
  source = w;
  return copy_backbone(donor, model);
}

StatusOr<TrainOutcome> train_impl(const TrainConfig& c, const FmnistSplits& data,
                                  const std::string& work_dir, const TrainCallbacks& cb,
                                  const BackboneResolver& resolver, FeatureCache* cache) {
  set_threads(c.threads);
  const bool rotation = c.task == kTaskRotation;
  const bool simclr = c.task == kTaskSimclr;
  // SimCLR trains the backbone through a projector of its own; the classifier's head stays
  // untrained.
  ModelConfig mc{c.model,   c.width_multiplier, rotation ? 4 : kFmnistNumClasses,
                 c.dropout, c.layout,           c.head};
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
  std::optional<libtorch::CheckpointInfo> start_from;
  if (!c.initial_weights.empty()) {
    auto info = libtorch::read_checkpoint(c.initial_weights);
    if (!info.ok()) return info.status().with_context("initial_weights");
    auto cfg = ModelConfig::from_json(info->model_config_json, info->dir);
    if (!cfg.ok()) return cfg.status();
    if (cfg->to_json() != mc.to_json()) {
      return Status(StatusCode::kInvalidArgument, "initial_weights '" + c.initial_weights +
                                                      "' is a model " + cfg->to_json() +
                                                      ", these settings make " + mc.to_json());
    }
    MLFLOW_CPP_RETURN_IF_ERROR(
        load_weights(model, info->weights_path).with_context("initial_weights"));
    out.backbone_source = c.initial_weights;
    start_from = std::move(*info);
  }
  model->set_backbone_frozen(c.frozen_backbone);
  out.parameters = count_parameters(*model);
  out.trainable_parameters = count_parameters(*model, true);

  TensorSet train = data.train;
  if (c.train_limit > 0 && c.train_limit < train.size()) {
    train = {train.images.narrow(0, 0, c.train_limit), train.labels.narrow(0, 0, c.train_limit)};
  }

  // A frozen backbone without augmentation sees the same images every epoch: compute its features
  // once.
  const bool cached = c.frozen_backbone && !c.augmentation && c.feature_cache;
  TensorSet train_src = train, val_src = data.validation, test_src = data.test;
  if (cached) {
    const auto start = Clock::now();
    auto sets = split_features(model, rotation, {&train, &data.validation, &data.test}, cache,
                               cb.cancelled, &out.feature_cache_hit);
    if (!sets.ok()) return sets.status();
    train_src = std::move((*sets)[0]);
    val_src = std::move((*sets)[1]);
    test_src = std::move((*sets)[2]);
    out.feature_cache_seconds = seconds_since(start);
  }

  torch::nn::Sequential projector{nullptr};
  if (simclr) projector = make_projector(model->embedding_size());
  std::vector<at::Tensor> params;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad() && !(simclr && is_head_parameter(model, p))) params.push_back(p);
  }
  if (simclr) {
    for (const auto& p : projector->parameters()) params.push_back(p);
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
  std::int64_t first_epoch = 1;
  if (start_from) {
    // The checkpoint's epochs are this run's first ones: its history is replayed to the callbacks.
    for (const training::EpochMetrics& m : start_from->history) {
      out.history.push_back(m);
      if (cb.on_epoch) MLFLOW_CPP_RETURN_IF_ERROR(cb.on_epoch(m));
    }
    first_epoch = static_cast<std::int64_t>(start_from->history.size()) + 1;
    out.best_epoch = start_from->best_epoch;
    best_val = start_from->best_epoch > 0
                   ? start_from->history[static_cast<std::size_t>(out.best_epoch - 1)].val_accuracy
                   : -1;
    best = snapshot(model);
  }
  const std::int64_t images_per_epoch = train_src.size() * (rotation && !cached ? 4
                                                            : simclr            ? 2
                                                                                : 1);
  for (std::int64_t epoch = first_epoch; epoch < first_epoch + c.max_epochs; ++epoch) {
    const auto start = Clock::now();
    for (auto& group : optimizer->param_groups())
      group.options().set_lr(scheduled_lr(c, epoch - first_epoch + 1));
    training::EpochMetrics r;
    r.epoch = epoch;
    r.learning_rate = optimizer->param_groups().front().options().get_lr();

    loader.set_epoch(epoch);
    model->train();
    if (simclr) projector->train();
    Tally tally;
    for (std::int64_t i = 0; i < loader.num_batches(); ++i) {
      if (cb.cancelled && cb.cancelled())
        return Status(StatusCode::kCancelled, "training cancelled");
      const Batch b = task_batch(loader.batch(i), rotation && !cached);
      optimizer->zero_grad();
      if (simclr) {
        const ContrastiveLoss l =
            simclr_step(model, projector, b.images,
                        libtorch::mix_seed({c.seed, static_cast<std::uint64_t>(epoch),
                                            static_cast<std::uint64_t>(i)}),
                        c.temperature);
        l.loss.backward();
        optimizer->step();
        tally.add(l.loss.item<double>(), l.correct, l.count);
      } else {
        const at::Tensor logits = run_model(model, b.images, cached);
        const at::Tensor loss = torch::nn::functional::cross_entropy(logits, b.labels);
        loss.backward();
        optimizer->step();
        tally.add(logits.detach(), b.labels, loss.detach());
      }
      if (cb.on_batch)
        cb.on_batch(epoch, tally.count, images_per_epoch, tally.mean_loss(), seconds_since(start));
    }
    const double train_seconds = seconds_since(start);
    r.train_loss = tally.mean_loss();
    r.train_accuracy = tally.accuracy();
    r.images_per_second = train_seconds > 0 ? static_cast<double>(tally.count) / train_seconds : 0;
    if (simclr) {
      std::tie(r.val_loss, r.val_accuracy) =
          simclr_validation(model, projector, val_src, c.batch_size, c.temperature);
    } else {
      auto val = evaluate_source(model, {&val_src, cached}, rotation, cb.cancelled);
      if (!val.ok()) return val.status();
      r.val_loss = val->loss;
      r.val_accuracy = val->accuracy;
    }
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
    if (c.early_stopping_patience > 0 && since_best >= c.early_stopping_patience &&
        epoch + 1 < first_epoch + c.max_epochs) {
      out.stopped_early = true;
      break;
    }
  }

  restore(model, best);
  if (simclr) {
    // The pretext task has no test set of its own: the backbone is judged by a linear probe.
    auto probe =
        linear_probe(model, train, data.validation, data.test, c.seed, cache, cb.cancelled);
    if (!probe.ok()) return probe.status();
    out.test = std::move(probe->test);
    out.linear_probe_val_accuracy = probe->val_accuracy;
  } else {
    auto test = evaluate_source(model, {&test_src, cached}, rotation, cb.cancelled);
    if (!test.ok()) return test.status();
    out.test = std::move(*test);
  }
  out.weights_path = work_dir + "/model.pt";
  MLFLOW_CPP_RETURN_IF_ERROR(save_weights(model, out.weights_path));
  return out;
}

}  // namespace

const std::vector<std::string>& rotation_class_names() {
  static const std::vector<std::string> names = {"rot0", "rot90", "rot180", "rot270"};
  return names;
}

StatusOr<TrainOutcome> train_fmnist(const TrainConfig& config, const FmnistSplits& data,
                                    const std::string& work_dir, const TrainCallbacks& callbacks,
                                    const BackboneResolver& resolver, FeatureCache* cache) {
  MLFLOW_CPP_RETURN_IF_ERROR(validate_train_config(config));
  try {
    return train_impl(config, data, work_dir, callbacks, resolver, cache);
  } catch (const std::exception& e) {
    return torch_error("training failed", e);
  }
}

StatusOr<Evaluation> evaluate_saved_model(const SavedModel& saved, const FmnistSplits& data,
                                          int threads, std::int64_t limit) {
  try {
    set_threads(threads);
    auto model = load_classifier(saved.model_config_json, saved.weights_path);
    if (!model.ok()) return model.status();
    return evaluate_source(*model, {&data.test, false}, (*model)->config().num_classes == 4,
                           nullptr, limit);
  } catch (const std::exception& e) {
    return torch_error("evaluation failed", e);
  }
}

StatusOr<std::vector<float>> predict_saved_model(const SavedModel& saved, const float* images,
                                                 std::int64_t n, int threads) {
  try {
    set_threads(threads);
    auto loaded = load_classifier(saved.model_config_json, saved.weights_path);
    if (!loaded.ok()) return loaded.status();
    Classifier& model = *loaded;
    const ModelConfig* cfg = &model->config();
    torch::NoGradGuard no_grad;
    model->eval();
    std::vector<float> out;
    out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(n, 0) * cfg->num_classes));
    for (std::int64_t start = 0; start < n; start += kEvalBatch) {
      const std::int64_t m = std::min(kEvalBatch, n - start);
      const at::Tensor x =
          at::from_blob(const_cast<float*>(images + start * kFmnistRows * kFmnistCols),
                        {m, 1, kFmnistRows, kFmnistCols}, at::kFloat)
              .sub(kFmnistPixelMean)
              .div_(kFmnistPixelStd);
      const at::Tensor p = model->forward(x).softmax(1).contiguous();
      out.insert(out.end(), p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
    }
    return out;
  } catch (const std::exception& e) {
    return torch_error("prediction failed", e);
  }
}

}  // namespace mlflow::fmnist

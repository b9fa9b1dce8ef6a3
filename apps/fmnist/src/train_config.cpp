// SPDX-License-Identifier: Apache-2.0
// Trainer settings: one table of keys drives parsing, printing, params and --help.
#include "fmnist/train_config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace mlflow::fmnist {
namespace {

Status bad_value(const std::string& key, const std::string& value, const std::string& why) {
  return Status(StatusCode::kInvalidArgument,
                fmt::format("{}: invalid value '{}': {}", key, value, why));
}

StatusOr<double> parse_double(const std::string& key, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(d)) {
    return bad_value(key, v, "expected a finite number");
  }
  return d;
}

StatusOr<std::int64_t> parse_int(const std::string& key, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE) return bad_value(key, v, "expected an integer");
  return static_cast<std::int64_t>(i);
}

StatusOr<bool> parse_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "True" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "False" || v == "0" || v == "no") return false;
  return bad_value(key, v, "expected true or false");
}

std::string fmt_double(double d) { return fmt::format("{}", d); }

ConfigKey key(const char* name, const char* help, const char* type) {
  ConfigKey k;
  k.name = name;
  k.help = help;
  k.type = type;
  return k;
}

struct Field {
  ConfigKey key;
  std::function<Status(TrainConfig&, const std::string&)> set;
  std::function<std::string(const TrainConfig&)> get;
};

template <typename T>
Field number_field(const char* name, const char* help, T TrainConfig::*member, double min,
                   double max, bool min_inclusive = true) {
  Field f;
  f.key = key(name, help, std::is_floating_point_v<T> ? "float" : "int");
  f.key.min = min;
  f.key.max = max;
  f.key.min_exclusive = !min_inclusive;
  f.set = [=](TrainConfig& c, const std::string& v) -> Status {
    double d = 0;
    if constexpr (std::is_floating_point_v<T>) {
      auto r = parse_double(name, v);
      if (!r.ok()) return r.status();
      d = *r;
    } else {
      auto r = parse_int(name, v);
      if (!r.ok()) return r.status();
      d = static_cast<double>(*r);
    }
    if (d < min || (!min_inclusive && d == min) || d > max) {
      return bad_value(
          name, v,
          fmt::format("must be {} {} and <= {}", min_inclusive ? ">=" : ">", fmt_double(min), max));
    }
    c.*member = static_cast<T>(d);
    return ok_status();
  };
  f.get = [=](const TrainConfig& c) {
    if constexpr (std::is_floating_point_v<T>) {
      return fmt_double(c.*member);
    } else {
      return std::to_string(c.*member);
    }
  };
  return f;
}

Field bool_field(const char* name, const char* help, bool TrainConfig::*member) {
  return {key(name, help, "bool"),
          [=](TrainConfig& c, const std::string& v) -> Status {
            auto r = parse_bool(name, v);
            if (!r.ok()) return r.status();
            c.*member = *r;
            return ok_status();
          },
          [=](const TrainConfig& c) { return std::string(c.*member ? "true" : "false"); }};
}

Field choice_field(const char* name, const char* help, std::string TrainConfig::*member,
                   std::vector<std::string> choices) {
  ConfigKey k = key(name, help, "choice");
  k.choices = choices;
  return {k,
          [=](TrainConfig& c, const std::string& v) -> Status {
            for (const auto& ch : choices) {
              if (v == ch) {
                c.*member = v;
                return ok_status();
              }
            }
            return bad_value(name, v, fmt::format("expected one of {}", fmt::join(choices, ", ")));
          },
          [=](const TrainConfig& c) { return c.*member; }};
}

Field text_field(const char* name, const char* help, std::string TrainConfig::*member) {
  return {key(name, help, "string"),
          [=](TrainConfig& c, const std::string& v) -> Status {
            c.*member = v;
            return ok_status();
          },
          [=](const TrainConfig& c) { return c.*member; }};
}

const std::vector<Field>& fields() {
  constexpr double kMaxInt = 1e9;
  static const std::vector<Field> f = {
      choice_field("task",
                   "classify (the 10 classes), or pretrain a backbone without labels: simclr "
                   "(contrastive) or "
                   "rotation (predict the rotation)",
                   &TrainConfig::task, {kTaskClassify, kTaskSimclr, kTaskRotation}),
      choice_field("model",
                   "small_cnn, mobilenet_v2, or pixels (no backbone: the head on raw pixels)",
                   &TrainConfig::model, {kSmallCnn, kMobileNetV2, kPixels}),
      number_field("width_multiplier", "MobileNetV2 channel multiplier, 0.25..2",
                   &TrainConfig::width_multiplier, 0.25, 2.0),
      choice_field("layout",
                   "MobileNetV2 layout: small (strides for 28x28, features pooled from five "
                   "stages) or imagenet "
                   "(the paper's strides and last layer)",
                   &TrainConfig::layout, {kLayoutSmall, kLayoutImagenet}),
      choice_field(
          "head",
          "mlp (hidden layer, ReLU, dropout) or linear (logistic regression on the features)",
          &TrainConfig::head, {kHeadMlp, kHeadLinear}),
      number_field("batch_size", "images per optimizer step", &TrainConfig::batch_size, 1, 65536),
      number_field("learning_rate", "initial learning rate", &TrainConfig::learning_rate, 0.0, 10.0,
                   false),
      number_field("max_epochs", "epochs to train at most (0: only with initial_weights)",
                   &TrainConfig::max_epochs, 0, 100000),
      choice_field("optimizer", "adam, adamw or sgd (with momentum)", &TrainConfig::optimizer,
                   {"adam", "adamw", "sgd"}),
      number_field("momentum", "sgd momentum", &TrainConfig::momentum, 0.0, 0.999999),
      number_field("weight_decay", "L2 penalty (decoupled for adamw)", &TrainConfig::weight_decay,
                   0.0, 1.0),
      choice_field("lr_schedule", "none or cosine (annealed over max_epochs)",
                   &TrainConfig::lr_schedule, {"none", "cosine"}),
      number_field("dropout", "dropout before the last layer, 0..0.95", &TrainConfig::dropout, 0.0,
                   0.95),
      number_field("seed", "seeds the weights, shuffling, dropout and augmentation",
                   &TrainConfig::seed, 0,
                   static_cast<double>(std::numeric_limits<std::uint32_t>::max())),
      number_field("split_seed", "seeds which training images are held out for validation",
                   &TrainConfig::split_seed, 0,
                   static_cast<double>(std::numeric_limits<std::uint32_t>::max())),
      number_field("train_val_split", "fraction of the 60k training images used for training",
                   &TrainConfig::train_val_split, 0.0, 0.999, false),
      bool_field("frozen_backbone", "train only the head; the backbone keeps its weights",
                 &TrainConfig::frozen_backbone),
      text_field(
          "backbone_weights",
          "backbone from a file, runs:/RUN/model, models:/NAME/VERSION or models:/NAME@ALIAS",
          &TrainConfig::backbone_weights),
      text_field("initial_weights",
                 "a checkpoint directory (model.pt + checkpoint.json) to start from: its weights "
                 "and its recorded "
                 "epochs; max_epochs more are trained",
                 &TrainConfig::initial_weights),
      number_field("early_stopping_patience",
                   "stop after N epochs without a val_accuracy gain (0 = off)",
                   &TrainConfig::early_stopping_patience, 0, kMaxInt),
      number_field("temperature", "simclr: temperature of the contrastive softmax",
                   &TrainConfig::temperature, 0.0, 10.0, false),
      number_field("threads",
                   "intra-op threads (0 = all cores; results depend on it, so sweeps pin it)",
                   &TrainConfig::threads, 0, 1024),
      bool_field("augmentation", "random crop with padding and horizontal flip",
                 &TrainConfig::augmentation),
      bool_field("feature_cache", "frozen backbone without augmentation: compute its features once",
                 &TrainConfig::feature_cache),
      number_field("train_limit", "train on the first N training images only (0 = all)",
                   &TrainConfig::train_limit, 0, kMaxInt),
      text_field("data_dir", "directory of the Fashion-MNIST IDX files", &TrainConfig::data_dir),
  };
  return f;
}

const Field* find_field(const std::string& key) {
  for (const auto& f : fields()) {
    if (f.key.name == key) return &f;
  }
  return nullptr;
}

}  // namespace

const std::vector<ConfigKey>& train_config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> k;
    for (const auto& f : fields()) k.push_back(f.key);
    return k;
  }();
  return keys;
}

Status set_config_value(TrainConfig& config, const std::string& key, const std::string& value) {
  const Field* f = find_field(key);
  if (f == nullptr) return Status(StatusCode::kInvalidArgument, "unknown setting '" + key + "'");
  return f->set(config, value);
}

std::string config_value(const TrainConfig& config, const std::string& key) {
  const Field* f = find_field(key);
  return f == nullptr ? std::string() : f->get(config);
}

Status apply_config_file(TrainConfig& config, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(StatusCode::kNotFound, "config file '" + path + "': cannot open");
  YAML::Node root;
  try {
    root = YAML::Load(in);
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.msg));
  }
  if (root.IsNull()) return ok_status();
  if (!root.IsMap())
    return Status(StatusCode::kInvalidArgument, path + ": expected a mapping of settings");
  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>();
    const int line = item.first.Mark().line + 1;
    if (!item.second.IsScalar()) {
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("{}:{}: {}: expected a single value", path, line, key));
    }
    const Status s = set_config_value(config, key, item.second.as<std::string>());
    if (!s.ok()) return s.with_context(fmt::format("{}:{}", path, line));
  }
  return ok_status();
}

Status validate_train_config(const TrainConfig& c) {
  for (const auto& f : fields()) {
    // Re-parsing each printed value applies the same range checks to values set in code.
    TrainConfig copy = c;
    MLFLOW_CPP_RETURN_IF_ERROR(f.set(copy, f.get(c)));
  }
  if (c.frozen_backbone && is_pretraining_task(c.task)) {
    return Status(StatusCode::kInvalidArgument,
                  "frozen_backbone: pretraining (task " + c.task + ") trains the backbone");
  }
  if (c.max_epochs == 0 && c.initial_weights.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "max_epochs: 0 needs initial_weights (there is nothing to train)");
  }
  if (!c.initial_weights.empty() && !c.backbone_weights.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "initial_weights and backbone_weights: give one of them");
  }
  if (c.model == kPixels &&
      (c.frozen_backbone || !c.backbone_weights.empty() || is_pretraining_task(c.task))) {
    return Status(StatusCode::kInvalidArgument,
                  "model pixels has no backbone: frozen_backbone, backbone_weights and pretraining "
                  "do not apply");
  }
  return ok_status();
}

std::vector<std::pair<std::string, std::string>> train_config_params(const TrainConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : fields()) out.emplace_back(f.key.name, f.get(config));
  return out;
}

}  // namespace mlflow::fmnist

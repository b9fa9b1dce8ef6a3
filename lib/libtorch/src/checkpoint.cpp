// SPDX-License-Identifier: Apache-2.0
// Checkpoint directories: model.pt + checkpoint.json, written through a temporary sibling and a rename.
#include "mlflow/libtorch/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mlflow/training/dataset_lineage.h"

namespace mlflow::libtorch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json epoch_json(const training::EpochMetrics& m) {
  return {{"epoch", m.epoch},           {"train_loss", m.train_loss},       {"train_accuracy", m.train_accuracy},
          {"val_loss", m.val_loss},     {"val_accuracy", m.val_accuracy},   {"learning_rate", m.learning_rate},
          {"epoch_seconds", m.epoch_seconds}, {"images_per_second", m.images_per_second}};
}

training::EpochMetrics epoch_from(const json& j) {
  training::EpochMetrics m;
  m.epoch = j.at("epoch").get<std::int64_t>();
  m.train_loss = j.at("train_loss").get<double>();
  m.train_accuracy = j.at("train_accuracy").get<double>();
  m.val_loss = j.at("val_loss").get<double>();
  m.val_accuracy = j.at("val_accuracy").get<double>();
  m.learning_rate = j.at("learning_rate").get<double>();
  m.epoch_seconds = j.at("epoch_seconds").get<double>();
  m.images_per_second = j.at("images_per_second").get<double>();
  return m;
}

Status io_error(const fs::path& p, const std::string& what) {
  return Status(StatusCode::kInternal, "checkpoint " + p.string() + ": " + what);
}

}  // namespace

Status save_checkpoint(const std::string& dir, const std::string& weights_path, CheckpointInfo info) {
  auto digest = training::sha256_file(weights_path);
  if (!digest.ok()) return digest.status().with_context("checkpoint weights");
  info.weights_sha256 = *digest;
  json settings = json::object();
  for (const auto& [k, v] : info.settings) settings[k] = v;
  json history = json::array();
  for (const auto& m : info.history) history.push_back(epoch_json(m));
  const json j = {{"format", "mlflow-cpp checkpoint 1"},
                  {"weights", "model.pt"},
                  {"weights_sha256", info.weights_sha256},
                  {"model_config", json::parse(info.model_config_json)},
                  {"settings", settings},
                  {"history", history},
                  {"best_epoch", info.best_epoch},
                  {"linear_probe_val_accuracy", info.linear_probe_val_accuracy},
                  {"linear_probe_test_accuracy", info.linear_probe_test_accuracy},
                  {"source", info.source},
                  {"recipe", info.recipe}};

  const fs::path target = fs::absolute(dir);
  const fs::path part = target.string() + ".part", old = target.string() + ".old";
  std::error_code ec;
  fs::remove_all(part, ec);
  if (!fs::create_directories(part, ec) || ec) return io_error(part, "cannot create: " + ec.message());
  fs::copy_file(weights_path, part / "model.pt", ec);
  if (ec) {
    fs::remove_all(part, ec);
    return io_error(part / "model.pt", "cannot write: " + ec.message());
  }
  {
    std::ofstream out(part / "checkpoint.json");
    out << j.dump(2) << "\n";
    if (!out.flush()) {
      fs::remove_all(part, ec);
      return io_error(part / "checkpoint.json", "cannot write");
    }
  }
  // Swap: the old directory aside, the new one in, the old one removed.
  fs::remove_all(old, ec);
  if (fs::exists(target, ec)) fs::rename(target, old, ec);
  if (!ec) fs::rename(part, target, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove_all(part, ec);
    return io_error(target, "cannot replace: " + why);
  }
  fs::remove_all(old, ec);
  return ok_status();
}

StatusOr<CheckpointInfo> read_checkpoint(const std::string& dir) {
  const fs::path json_path = fs::path(dir) / "checkpoint.json";
  std::ifstream in(json_path);
  if (!in) return Status(StatusCode::kNotFound, "checkpoint " + json_path.string() + ": cannot open");
  CheckpointInfo info;
  info.dir = dir;
  try {
    const json j = json::parse(in);
    info.weights_path = (fs::path(dir) / j.at("weights").get<std::string>()).string();
    info.weights_sha256 = j.at("weights_sha256").get<std::string>();
    info.model_config_json = j.at("model_config").dump();
    for (const auto& [k, v] : j.at("settings").items()) info.settings.emplace_back(k, v.get<std::string>());
    for (const auto& e : j.at("history")) info.history.push_back(epoch_from(e));
    info.best_epoch = j.at("best_epoch").get<std::int64_t>();
    info.linear_probe_val_accuracy = j.value("linear_probe_val_accuracy", -1.0);
    info.linear_probe_test_accuracy = j.value("linear_probe_test_accuracy", -1.0);
    info.source = j.value("source", "");
    info.recipe = j.value("recipe", "");
  } catch (const std::exception& e) {
    return Status(StatusCode::kInvalidArgument, "checkpoint " + json_path.string() + ": " + e.what());
  }
  auto digest = training::sha256_file(info.weights_path);
  if (!digest.ok()) return digest.status().with_context("checkpoint " + dir);
  if (*digest != info.weights_sha256) {
    return Status(StatusCode::kDataLoss, "checkpoint " + info.weights_path + ": sha256 " + *digest +
                                             " differs from the recorded " + info.weights_sha256 +
                                             " (corrupt or replaced weights)");
  }
  return info;
}

}  // namespace mlflow::libtorch

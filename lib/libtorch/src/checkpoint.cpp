// SPDX-License-Identifier: Apache-2.0
// Checkpoint directories: model.pt + checkpoint.json, staged in a sibling and swapped in whole
// (atomic_file.h).
#include "mlflow/libtorch/checkpoint.h"
#include "mlflow/atomic_file.h"

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
  return {{"epoch", m.epoch},
          {"train_loss", m.train_loss},
          {"train_accuracy", m.train_accuracy},
          {"val_loss", m.val_loss},
          {"val_accuracy", m.val_accuracy},
          {"learning_rate", m.learning_rate},
          {"epoch_seconds", m.epoch_seconds},
          {"images_per_second", m.images_per_second}};
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

Status save_checkpoint(const std::string& dir, const std::string& weights_path,
                       CheckpointInfo info) {
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

  // Staged in a hidden sibling and swapped in whole (atomic_file.h's policy).
  const fs::path target = fs::absolute(dir);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  auto staged = make_staging_directory(target.string());
  if (!staged.ok()) return staged.status();
  const fs::path part(*staged);
  auto fail = [&](Status st) {
    std::error_code ignored;
    fs::remove_all(part, ignored);
    return st;
  };
  fs::copy_file(weights_path, part / "model.pt", ec);
  if (ec) return fail(io_error(target / "model.pt", "cannot write: " + ec.message()));
  if (Status st = write_file_atomically((part / "checkpoint.json").string(), j.dump(2) + "\n");
      !st.ok()) {
    return fail(st);
  }
  if (Status st = replace_directory(part.string(), target.string()); !st.ok()) return fail(st);
  return ok_status();
}

StatusOr<CheckpointInfo> read_checkpoint(const std::string& dir) {
  const fs::path json_path = fs::path(dir) / "checkpoint.json";
  std::ifstream in(json_path);
  if (!in)
    return Status(StatusCode::kNotFound, "checkpoint " + json_path.string() + ": cannot open");
  CheckpointInfo info;
  info.dir = dir;
  try {
    const json j = json::parse(in);
    info.weights_path = (fs::path(dir) / j.at("weights").get<std::string>()).string();
    info.weights_sha256 = j.at("weights_sha256").get<std::string>();
    info.model_config_json = j.at("model_config").dump();
    for (const auto& [k, v] : j.at("settings").items())
      info.settings.emplace_back(k, v.get<std::string>());
    for (const auto& e : j.at("history")) info.history.push_back(epoch_from(e));
    info.best_epoch = j.at("best_epoch").get<std::int64_t>();
    info.linear_probe_val_accuracy = j.value("linear_probe_val_accuracy", -1.0);
    info.linear_probe_test_accuracy = j.value("linear_probe_test_accuracy", -1.0);
    info.source = j.value("source", "");
    info.recipe = j.value("recipe", "");
  } catch (const std::exception& e) {
    return Status(StatusCode::kInvalidArgument,
                  "checkpoint " + json_path.string() + ": " + e.what());
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

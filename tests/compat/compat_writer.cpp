// SPDX-License-Identifier: Apache-2.0
// compat_writer: logs a run tree, artifacts and a registered model; prints a JSON manifest.
//
// Usage: compat_writer <experiment_name> <model_name>   (server from MLFLOW_TRACKING_URI)
// tests/compat/check_compat.py reads everything back with the official Python client and compares
// it with the manifest, so every expected value the check needs is in the manifest.
#include <stdlib.h>  // mkdtemp

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "compat_format.h"
#include "mlflow/client.h"
#include "mlflow/options.h"
#include "mlflow/run.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace fs = std::filesystem;
using mlflow::compat::format_double;
using mlflow::compat::to_hex;
using json = nlohmann::ordered_json;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check(const mlflow::Status& st, const std::string& what) {
  if (!st.ok()) throw std::runtime_error(what + ": " + st.to_string());
}

template <typename T>
T take(mlflow::StatusOr<T> r, const std::string& what) {
  check(r.status(), what);
  return std::move(r).value();
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

/// A private scratch directory, removed on scope exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "compat_writer-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// The "loss" history: 1/(step+1), with special values at fixed steps so both directions of the
/// NaN/Inf encoding and double precision are exercised.
double loss_at(int step) {
  switch (step) {
    case 10:
      return kNaN;
    case 20:
      return kInf;
    case 30:
      return -kInf;
    case 40:
      return 0.0;
    case 50:
      return 1e-300;
    case 60:
      return 123456789.12345679;
    case 70:
      return -2.5;
    default:
      return 1.0 / (step + 1);
  }
}

json kv_object(const std::map<std::string, std::string>& kvs) {
  json j = json::object();
  for (const auto& [k, v] : kvs) j[k] = v;
  return j;
}

int run(const std::string& experiment_name, const std::string& model_name) {
  auto options = take(mlflow::ClientOptions::from_env(), "reading MLFLOW_* variables");
  if (options.tracking_uri.empty()) throw std::runtime_error("MLFLOW_TRACKING_URI is not set");
  auto client = take(mlflow::MlflowClient::make(options), "creating the client");

  const std::map<std::string, std::string> params = {
      {"learning_rate", "0.001"},
      {"batch_size", "64"},
      {"optimizer", "adam"},
      {"unicode", "h\u00e9llo w\u00f6rld \u2713"},
      {"with spaces", "a b  c"},
      {"nested/key.name", "x/y:z"},
      {"long_value", std::string(5000, 'v')},
  };
  const std::map<std::string, std::string> tags = {
      {"team", "compat"},
      {"unicode_tag", "\u65e5\u672c\u8a9e"},
      {"multi_line", "line one\nline two\n"},
  };
  const std::map<std::string, std::string> child_params = {{"fold", "3"}};
  const std::map<std::string, std::string> child_tags = {{"role", "child"}};

  mlflow::RunOptions parent_options;
  parent_options.experiment_name = experiment_name;
  parent_options.run_name = "compat-parent";
  auto parent = take(mlflow::ActiveRun::start(client, parent_options), "starting the parent run");

  check(parent.log_param("learning_rate", params.at("learning_rate")), "log_param");
  std::map<std::string, std::string> rest = params;
  rest.erase("learning_rate");
  check(parent.log_params(rest), "log_params");
  check(parent.set_tag("team", tags.at("team")), "set_tag");
  std::map<std::string, std::string> rest_tags = tags;
  rest_tags.erase("team");
  check(parent.set_tags(rest_tags), "set_tags");

  // "loss": explicit timestamps through log-batch; "acc": one log-metric call per value.
  const mlflow::TimestampMs t0 = mlflow::now_ms();
  std::vector<mlflow::Metric> loss;
  json loss_json = json::array();
  for (int step = 0; step < 100; ++step) {
    mlflow::Metric m;
    m.key = "loss";
    m.value = loss_at(step);
    m.timestamp = t0 + step;
    m.step = step;
    loss.push_back(m);
    loss_json.push_back(
        {{"step", step}, {"value", format_double(m.value)}, {"timestamp", m.timestamp}});
  }
  check(parent.client().log_batch(parent.id(), loss), "log_batch(loss)");
  const std::vector<double> acc = {0.5, 0.75, kNaN, kInf, -kInf};
  json acc_json = json::array();
  for (std::size_t step = 0; step < acc.size(); ++step) {
    check(parent.log_metric("acc", acc[step], static_cast<std::int64_t>(step)), "log_metric(acc)");
    acc_json.push_back({{"step", step}, {"value", format_double(acc[step])}});
  }

  mlflow::RunOptions child_options;
  child_options.run_name = "compat-child";
  auto child = take(parent.start_child(child_options), "starting the child run");
  check(child.log_params(child_params), "child log_params");
  check(child.set_tags(child_tags), "child set_tags");
  check(child.log_metric("child_loss", 0.25, 7), "child log_metric");
  check(child.end(mlflow::RunStatus::kKilled), "ending the child run");

  // Artifacts: a directory tree (text + every byte value), a single file, text and a model dir.
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::string notes =
      "hello from mlflow-cpp\r\nsecond line: \u00fcn\u00efc\u00f8d\u00e9 \u2713\n";
  const std::string text = "logged with log_text\n";
  const std::string mlmodel = "artifact_path: model\nflavors: {}\n";
  ScratchDir scratch;
  write_bytes(scratch.path / "tree" / "notes.txt", notes);
  write_bytes(scratch.path / "tree" / "bin" / "all_bytes.bin", all_bytes);
  check(parent.log_artifacts((scratch.path / "tree").string(), "data"), "log_artifacts");
  check(parent.log_artifact((scratch.path / "tree" / "notes.txt").string(), "single"),
        "log_artifact");
  check(parent.log_text(text, "texts/hello.txt"), "log_text");
  check(client.log_artifact_bytes(parent.id(), mlmodel, "model/MLmodel"), "log_artifact_bytes");

  // A registered model version made from the run's "model" directory, with an alias.
  const std::string source = parent.info().artifact_uri + "/model";
  take(client.create_registered_model(model_name, {{"origin", "mlflow-cpp"}}),
       "create_registered_model");
  mlflow::ModelVersionCreate create;
  create.name = model_name;
  create.source = source;
  create.run_id = parent.id();
  auto version = take(client.create_model_version(create), "create_model_version");
  check(client.set_registered_model_alias(model_name, "champion", version.version),
        "set_registered_model_alias");

  const std::string parent_id = parent.id();
  const std::string experiment_id = parent.experiment_id();
  check(parent.end(), "ending the parent run");

  json manifest = {
      {"experiment_name", experiment_name},
      {"experiment_id", experiment_id},
      {"parent_run_id", parent_id},
      {"parent_run_name", "compat-parent"},
      {"parent_status", "FINISHED"},
      {"child_run_id", child.id()},
      {"child_run_name", "compat-child"},
      {"child_status", "KILLED"},
      {"params", kv_object(params)},
      {"tags", kv_object(tags)},
      {"child_params", kv_object(child_params)},
      {"child_tags", kv_object(child_tags)},
      {"metrics", {{"loss", loss_json}, {"acc", acc_json}}},
      {"child_metrics",
       {{"child_loss", json::array({{{"step", 7}, {"value", format_double(0.25)}}})}}},
      {"artifacts",
       {{"data/notes.txt", to_hex(notes)},
        {"data/bin/all_bytes.bin", to_hex(all_bytes)},
        {"single/notes.txt", to_hex(notes)},
        {"texts/hello.txt", to_hex(text)},
        {"model/MLmodel", to_hex(mlmodel)}}},
      {"model_name", model_name},
      {"model_version", version.version},
      {"model_source", source},
      {"alias", "champion"},
  };
  std::cout << manifest.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: compat_writer <experiment_name> <model_name>\n";
    return 2;
  }
  try {
    return run(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "compat_writer: " << e.what() << "\n";
    return 1;
  }
}

// SPDX-License-Identifier: Apache-2.0
// compat_reader: reads a run (and a model alias) with MlflowClient and prints it as JSON.
//
// Usage: compat_reader --run-id ID [--artifact PATH]... [--download PATH]...
//                      [--model NAME --alias ALIAS]
// The server comes from MLFLOW_TRACKING_URI. tests/compat/check_compat.py compares the output with
// what the official Python client wrote. Metric values are strings (compat_format.h), bytes hex.
#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "compat_format.h"
#include "mlflow/client.h"
#include "mlflow/options.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace fs = std::filesystem;
using mlflow::compat::format_double;
using mlflow::compat::to_hex;
using json = nlohmann::ordered_json;

namespace {

void check(const mlflow::Status& st, const std::string& what) {
  if (!st.ok()) throw std::runtime_error(what + ": " + st.to_string());
}

template <typename T>
T take(mlflow::StatusOr<T> r, const std::string& what) {
  check(r.status(), what);
  return std::move(r).value();
}

struct Args {
  std::string run_id;
  std::vector<std::string> artifacts;
  std::vector<std::string> downloads;
  std::string model;
  std::string alias;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("missing value after " + flag);
    const std::string value = argv[++i];
    if (flag == "--run-id") {
      a.run_id = value;
    } else if (flag == "--artifact") {
      a.artifacts.push_back(value);
    } else if (flag == "--download") {
      a.downloads.push_back(value);
    } else if (flag == "--model") {
      a.model = value;
    } else if (flag == "--alias") {
      a.alias = value;
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  if (a.run_id.empty()) throw std::invalid_argument("--run-id is required");
  if (a.model.empty() != a.alias.empty()) {
    throw std::invalid_argument("--model and --alias go together");
  }
  return a;
}

std::string read_local(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Every entry under `path`, depth first, with paths relative to the run's artifact root.
void list_tree(mlflow::MlflowClient& client, const std::string& run_id, const std::string& path,
               json& out) {
  auto entries = take(client.list_artifacts(run_id, path), "list_artifacts(" + path + ")");
  for (const auto& e : entries) {
    out.push_back({{"path", e.path}, {"is_dir", e.is_dir}, {"file_size", e.file_size}});
    if (e.is_dir) list_tree(client, run_id, e.path, out);
  }
}

json kvs(const std::vector<mlflow::KeyValue>& items) {
  json j = json::object();
  for (const auto& kv : items) j[kv.key] = kv.value;
  return j;
}

json params_object(const std::vector<mlflow::Param>& params) {
  json j = json::object();
  for (const auto& p : params) j[p.key] = p.value;
  return j;
}

int run(const Args& args) {
  auto options = take(mlflow::ClientOptions::from_env(), "reading MLFLOW_* variables");
  if (options.tracking_uri.empty()) throw std::runtime_error("MLFLOW_TRACKING_URI is not set");
  auto client = take(mlflow::MlflowClient::make(options), "creating the client");

  auto r = take(client.get_run(args.run_id), "get_run");
  json out;
  out["run"] = {
      {"run_id", r.info.run_id},
      {"run_name", r.info.run_name},
      {"experiment_id", r.info.experiment_id},
      {"status", mlflow::to_string(r.info.status)},
      {"lifecycle_stage", r.info.lifecycle_stage},
      {"artifact_uri", r.info.artifact_uri},
      {"start_time", r.info.start_time},
      {"end_time", r.info.end_time ? json(*r.info.end_time) : json(nullptr)},
  };
  out["params"] = params_object(r.data.params);
  out["tags"] = kvs(r.data.tags);

  json latest = json::object();
  json histories = json::object();
  for (const auto& m : r.data.metrics) {
    latest[m.key] = format_double(m.value);
    json h = json::array();
    for (const auto& v : take(client.get_metric_history(args.run_id, m.key), "history " + m.key)) {
      h.push_back(
          {{"step", v.step}, {"value", format_double(v.value)}, {"timestamp", v.timestamp}});
    }
    histories[m.key] = h;
  }
  out["latest_metrics"] = latest;
  out["metrics"] = histories;

  json listing = json::array();
  list_tree(client, args.run_id, "", listing);
  out["artifacts"] = listing;

  json bytes = json::object();
  for (const auto& path : args.artifacts) {
    bytes[path] = to_hex(take(client.read_artifact(args.run_id, path), "read_artifact " + path));
  }
  out["artifact_bytes"] = bytes;

  // download_artifacts into a scratch directory; report every file found there.
  json downloads = json::object();
  if (!args.downloads.empty()) {
    std::string templ = (fs::temp_directory_path() / "compat_reader-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    const fs::path scratch = templ;
    for (std::size_t i = 0; i < args.downloads.size(); ++i) {
      const fs::path dest = scratch / std::to_string(i);
      fs::create_directories(dest);
      const std::string local =
          take(client.download_artifacts(args.run_id, args.downloads[i], dest.string()),
               "download_artifacts " + args.downloads[i]);
      json files = json::object();
      for (const auto& entry : fs::recursive_directory_iterator(dest)) {
        if (entry.is_regular_file()) {
          files[fs::relative(entry.path(), dest).generic_string()] =
              to_hex(read_local(entry.path()));
        }
      }
      downloads[args.downloads[i]] = {
          {"local_path_relative", fs::relative(local, dest).generic_string()}, {"files", files}};
    }
    fs::remove_all(scratch);
  }
  out["downloads"] = downloads;

  mlflow::SearchOptions search;
  search.filter = "tags.mlflow.parentRunId = '" + args.run_id + "'";
  json children = json::array();
  auto page = take(client.search_runs({r.info.experiment_id}, search), "search_runs");
  for (const auto& c : page.items) {
    children.push_back({{"run_id", c.info.run_id},
                        {"run_name", c.info.run_name},
                        {"status", mlflow::to_string(c.info.status)},
                        {"params", params_object(c.data.params)},
                        {"tags", kvs(c.data.tags)}});
  }
  out["children"] = children;

  if (!args.model.empty()) {
    auto v = take(client.get_model_version_by_alias(args.model, args.alias),
                  "get_model_version_by_alias");
    auto rm = take(client.get_registered_model(args.model), "get_registered_model");
    json aliases = json::object();
    for (const auto& a : rm.aliases) aliases[a.alias] = a.version;
    out["model"] = {{"name", v.name},
                    {"version", v.version},
                    {"run_id", v.run_id},
                    {"source", v.source},
                    {"status", v.status},
                    {"aliases", v.aliases},
                    {"tags", kvs(v.tags)},
                    {"registered_aliases", aliases},
                    {"registered_tags", kvs(rm.tags)}};
  }

  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "compat_reader: " << e.what() << "\n";
    return 1;
  }
}

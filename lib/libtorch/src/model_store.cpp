// SPDX-License-Identifier: Apache-2.0
// LibTorch models in MLflow 3: logging as a logged model, registering, and fetching by URI.
//
// Layout, as MLflow 3's Model.log writes it: the logged model's artifact root
// (mlflow-artifacts:/<exp>/models/<model_id>/artifacts) holds MLmodel and the weights file
// directly; the model is linked to its run as an output, so runs:/<run_id>/<name> finds it by name.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>
#include <utility>

#include "mlflow/libtorch/model_store.h"
#include "mlflow/registry.h"
#include "mlflow/training/mlmodel.h"

namespace mlflow::libtorch {

namespace fs = std::filesystem;

namespace {

Status io_error(StatusCode code, const std::string& what, const fs::path& p,
                const std::error_code& ec) {
  return Status(code, fmt::format("{} '{}': {}", what, p.string(), ec.message()));
}

StatusOr<std::string> read_whole_file(const fs::path& p, const char* what) {
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  if (!fs::exists(st)) {
    return Status(StatusCode::kNotFound, fmt::format("{} '{}' does not exist", what, p.string()));
  }
  if (!fs::is_regular_file(st)) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{} '{}' is not a regular file", what, p.string()));
  }
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  if (in) s << in.rdbuf();
  if (!in || in.bad()) {
    return Status(StatusCode::kPermissionDenied,
                  fmt::format("cannot read {} '{}'", what, p.string()));
  }
  return s.str();
}

std::string random_hex() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return fmt::format("{:016x}", gen());
}

/// Removes a directory tree when it goes out of scope (errors ignored: best effort cleanup).
class RemoveOnExit {
 public:
  explicit RemoveOnExit(fs::path p) : path_(std::move(p)) {}
  ~RemoveOnExit() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;

 private:
  fs::path path_;
};

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string strip_leading_slashes(const std::string& s) {
  const auto start = s.find_first_not_of('/');
  return start == std::string::npos ? std::string() : s.substr(start);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// ---- URI resolution --------------------------------------------------------------------------

/// Where a model URI's files are: `path` under the artifact root `root_uri`.
struct Resolved {
  std::string root_uri;
  std::string path;
  std::string model_id;  ///< when a logged model was found
  std::string note;      ///< said when the MLmodel file turns out to be missing
};

Status improper(const std::string& uri, const char* forms) {
  return Status(StatusCode::kInvalidArgument,
                fmt::format("'{}' is not a proper model URI; expected {}", uri, forms));
}

/// The newest logged model named `name` whose source run is `run_id`, READY ones first; empty id
/// when there is none.
StatusOr<LoggedModel> find_run_model(MlflowClient& client, const std::string& experiment_id,
                                     const std::string& run_id, const std::string& name) {
  SearchOptions search;
  search.filter = "source_run_id = '" + run_id + "'";
  search.max_results = 100;
  LoggedModel best;
  auto better = [](const LoggedModel& a, const LoggedModel& b) {  // a better than b
    const bool ra = a.status == LoggedModelStatus::kReady;
    const bool rb = b.status == LoggedModelStatus::kReady;
    if (ra != rb) return ra;
    return a.creation_timestamp_ms > b.creation_timestamp_ms;
  };
  do {
    auto page = client.search_logged_models({experiment_id}, search);
    if (!page.ok()) return page.status();
    for (auto& m : page->items) {
      if (m.name != name || m.source_run_id != run_id) continue;
      if (best.model_id.empty() || better(m, best)) best = std::move(m);
    }
    search.page_token = page->next_page_token;
  } while (!search.page_token.empty());
  return best;
}

StatusOr<Resolved> resolve_runs_uri(MlflowClient& client, const std::string& uri) {
  static const char* kForms = "runs:/<run_id>/<model name or artifact path>";
  std::string rest = uri.substr(std::string("runs:").size());
  if (rest.size() < 2 || rest[0] != '/') return improper(uri, kForms);
  rest = strip_leading_slashes(rest);
  const auto slash = rest.find('/');
  const std::string run_id = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (run_id.empty() || run_id.find('\'') != std::string::npos) return improper(uri, kForms);

  auto run = client.get_run(run_id);
  if (!run.ok()) return run.status();
  Resolved r;
  if (!path.empty()) {
    const auto cut = path.find('/');
    const std::string name = path.substr(0, cut);
    auto model = find_run_model(client, run->info.experiment_id, run_id, name);
    if (!model.ok()) return model.status();
    if (!model->model_id.empty()) {
      r.root_uri = model->artifact_uri;
      r.path = cut == std::string::npos ? std::string() : path.substr(cut + 1);
      r.model_id = model->model_id;
      if (model->status != LoggedModelStatus::kReady) {
        r.note = fmt::format(" (logged model {} is {})", model->model_id, to_string(model->status));
      }
      return r;
    }
  }
  // No logged model of that name: the run's own artifacts, as MLflow 2 stored models.
  r.root_uri = "runs:/" + run_id;
  r.path = path;
  r.note = path.empty() ? std::string()
                        : fmt::format(" (run {} has no logged model named '{}' either)", run_id,
                                      path.substr(0, path.find('/')));
  return r;
}

StatusOr<Resolved> resolve_models_uri(MlflowClient& client, const std::string& uri) {
  static const char* kForms =
      "models:/<model_id>, models:/<name>/<version>, models:/<name>/latest or "
      "models:/<name>@<alias>";
  std::string rest = uri.substr(std::string("models:").size());
  if (rest.size() < 2 || rest[0] != '/') return improper(uri, kForms);
  rest = strip_leading_slashes(rest);
  const std::vector<std::string> parts = split(rest, '/');
  if (parts.size() > 2 || parts[0].empty()) return improper(uri, kForms);

  Resolved r;
  std::string name, version;
  if (parts.size() == 2) {
    name = parts[0];
    const std::string& suffix = parts[1];
    if (suffix.empty()) return improper(uri, kForms);
    if (all_digits(suffix)) {
      version = suffix;
    } else {
      // "latest" or a stage: the highest version among the latest per stage, as MLflow picks.
      auto model = client.get_registered_model(name);
      if (!model.ok()) return model.status();
      const bool latest = lower(suffix) == "latest";
      long best = -1;
      for (const auto& v : model->latest_versions) {
        if (!latest && lower(v.current_stage) != lower(suffix)) continue;
        if (all_digits(v.version)) best = std::max(best, std::stol(v.version));
      }
      if (best < 0) {
        return Status(StatusCode::kNotFound,
                      fmt::format("registered model '{}' has no versions{}", name,
                                  latest ? "" : " in stage '" + suffix + "'"));
      }
      version = std::to_string(best);
    }
  } else if (parts[0].find('@') != std::string::npos) {
    const auto at = parts[0].rfind('@');
    name = parts[0].substr(0, at);
    const std::string alias = parts[0].substr(at + 1);
    if (name.empty() || alias.empty()) return improper(uri, kForms);
    auto mv = client.get_model_version_by_alias(name, alias);
    if (!mv.ok()) {
      const Status& st = mv.status();
      // The server says INVALID_PARAMETER_VALUE for an alias that is not set: a missing model.
      if (st.code() == StatusCode::kInvalidArgument && st.http_status() != 0) {
        return Status(StatusCode::kNotFound,
                      fmt::format("registered model '{}' has no alias '{}' ({})", name, alias,
                                  st.message()),
                      st.http_status(), st.error_code());
      }
      return st;
    }
    version = mv->version;
  } else {
    auto model = client.get_logged_model(parts[0]);
    if (!model.ok()) return model.status();
    r.root_uri = model->artifact_uri;
    r.model_id = model->model_id;
    if (model->status != LoggedModelStatus::kReady) {
      r.note = fmt::format(" (logged model {} is {})", model->model_id, to_string(model->status));
    }
    return r;
  }
  auto mv = client.get_model_version(name, version);
  if (!mv.ok()) return mv.status();
  auto root = client.get_model_version_download_uri(name, version);
  if (!root.ok()) return root.status();
  r.root_uri = *root;
  // MLflow's SQL registry does not keep model_id on versions; their source names the model.
  r.model_id = mv->model_id;
  if (r.model_id.empty() && starts_with(mv->source, "models:/") &&
      mv->source.find('/', 8) == std::string::npos) {
    r.model_id = mv->source.substr(8);
  }
  return r;
}

// ---- the local side ----------------------------------------------------------------------------

/// A directory may receive a fetched model when it is missing, empty or holds an earlier model.
Status check_dest(const fs::path& dest) {
  std::error_code ec;
  if (!fs::exists(dest, ec)) return Status();
  if (!fs::is_directory(dest, ec)) {
    return Status(StatusCode::kFailedPrecondition,
                  "model destination '" + dest.string() + "' exists and is not a directory");
  }
  if (fs::is_empty(dest, ec) || fs::exists(dest / training::kMlmodelFileName, ec)) return Status();
  return Status(StatusCode::kFailedPrecondition,
                "model destination '" + dest.string() +
                    "' is a non-empty directory without an MLmodel file; refusing to replace it");
}

/// Moves the staged model directory to `dest`, replacing an earlier model there.
Status install(const fs::path& staged, const fs::path& dest) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_dest(dest));
  std::error_code ec;
  fs::path old;
  if (fs::exists(dest, ec)) {
    old = dest;
    old += ".old-" + random_hex();
    fs::rename(dest, old, ec);
    if (ec) return io_error(StatusCode::kFailedPrecondition, "cannot move aside", dest, ec);
  }
  RemoveOnExit remove_old(old);
  fs::rename(staged, dest, ec);
  if (ec) {
    std::error_code ignored;
    if (!old.empty()) fs::rename(old, dest, ignored);
    return io_error(StatusCode::kFailedPrecondition, "cannot move the fetched model to", dest, ec);
  }
  return Status();
}

StatusOr<LocalModel> load_local(const fs::path& model_dir, const std::string& source) {
  auto text = read_whole_file(model_dir / training::kMlmodelFileName, "MLmodel file");
  if (!text.ok()) return text.status();
  auto info = parse_mlmodel_info(*text, source);
  if (!info.ok()) return info.status();
  LocalModel m;
  m.dir = model_dir.string();
  m.weights_path = (model_dir / info->flavor.weights_file).string();
  m.model_id = info->model_id;
  m.source_uri = source;
  m.flavor = std::move(info->flavor);
  std::error_code ec;
  if (!fs::is_regular_file(m.weights_path, ec)) {
    return Status(StatusCode::kNotFound,
                  fmt::format("model '{}': its MLmodel names the weights file '{}', which is "
                              "not there",
                              source, m.flavor.weights_file));
  }
  return m;
}

std::string trim_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

StatusOr<LocalModel> open_local_model(const std::string& uri) {
  fs::path p = starts_with(uri, "file://") ? fs::path(uri.substr(7)) : fs::path(uri);
  std::error_code ec;
  if (fs::is_regular_file(p, ec) && p.filename() == training::kMlmodelFileName) p = p.parent_path();
  if (!fs::is_directory(p, ec)) {
    return Status(StatusCode::kNotFound,
                  "model '" + uri + "' is neither a runs:/ or models:/ URI nor a local directory");
  }
  if (!fs::exists(p / training::kMlmodelFileName, ec)) {
    return Status(StatusCode::kNotFound,
                  "local directory '" + uri + "' holds no MLmodel file, so it is not a model");
  }
  return load_local(p, uri);
}

bool is_model_uri(const std::string& s) {
  return starts_with(s, "runs:/") || starts_with(s, "models:/");
}

StatusOr<training::LoggedModelRef> log_libtorch_model(MlflowClient& client, const std::string& experiment_id,
                                                      const std::string& run_id, const std::string& name,
                                                      const LibtorchFlavor& flavor,
                                                      const std::string& weights_path,
                                                      const std::map<std::string, std::string>& params,
                                                      std::int64_t step) {
  const std::string context = "logging LibTorch model '" + name + "'";
  if (name.empty()) {
    return Status(StatusCode::kInvalidArgument, "logged model name must not be empty");
  }
  MLFLOW_CPP_RETURN_IF_ERROR(validate_flavor(flavor).with_context(context));
  auto weights = read_whole_file(weights_path, "weights file");
  if (!weights.ok()) return weights.status().with_context(context);
  return training::log_model(
      client, {experiment_id, run_id, name, params, step}, {{flavor.weights_file, std::move(*weights)}},
      [&](const std::string& model_id, const std::string& artifact_uri) -> StatusOr<std::string> {
        return mlmodel_yaml(flavor, model_id, run_id, artifact_uri);
      });
}

StatusOr<LocalModel> fetch_model(MlflowClient& client, const std::string& uri,
                                 const std::string& dest_dir) {
  if (!is_model_uri(uri)) return open_local_model(uri);
  const std::string context = "fetching model '" + uri + "'";
  if (dest_dir.empty()) {
    return Status(StatusCode::kInvalidArgument, context + ": destination directory is empty");
  }
  const fs::path dest(trim_trailing_slashes(dest_dir));
  MLFLOW_CPP_RETURN_IF_ERROR(check_dest(dest).with_context(context));

  auto where = starts_with(uri, "runs:/") ? resolve_runs_uri(client, uri)
                                          : resolve_models_uri(client, uri);
  if (!where.ok()) return where.status().with_context(context);

  // Staged in a hidden sibling so the final move is a rename on the same file system.
  std::error_code ec;
  const fs::path parent = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) return io_error(StatusCode::kFailedPrecondition, context + ": cannot create", parent, ec);
  const fs::path staging = parent / ("." + dest.filename().string() + ".fetch-" + random_hex());
  fs::create_directory(staging, ec);
  if (ec) {
    return io_error(StatusCode::kFailedPrecondition, context + ": cannot create", staging, ec);
  }
  RemoveOnExit cleanup(staging);

  auto got = client.download_artifacts_from(where->root_uri, where->path, staging.string());
  if (!got.ok()) {
    Status st = got.status();
    if (st.code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound,
                    fmt::format("{}: nothing at '{}'{}: {}", context,
                                where->path.empty() ? where->root_uri
                                                    : where->root_uri + "/" + where->path,
                                where->note, st.message()),
                    st.http_status(), st.error_code());
    }
    return st.with_context(context);
  }
  fs::path model_dir = where->path.empty() ? staging : staging / where->path;
  if (fs::is_regular_file(model_dir, ec) && model_dir.filename() == training::kMlmodelFileName) {
    model_dir = model_dir.parent_path();
  }
  if (!fs::exists(model_dir / training::kMlmodelFileName, ec)) {
    return Status(StatusCode::kNotFound,
                  fmt::format("{}: no MLmodel file there{}", context, where->note));
  }
  auto staged = load_local(model_dir, uri);
  if (!staged.ok()) return staged.status();

  MLFLOW_CPP_RETURN_IF_ERROR(install(model_dir, dest).with_context(context));
  LocalModel m = std::move(*staged);
  m.dir = dest.string();
  m.weights_path = (dest / m.flavor.weights_file).string();
  if (!where->model_id.empty()) m.model_id = where->model_id;
  return m;
}

}  // namespace mlflow::libtorch

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
#include <sstream>
#include <system_error>
#include <utility>

#include "mlflow/atomic_file.h"
#include "mlflow/libtorch/model_store.h"
#include "mlflow/model_uri.h"
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

/// Moves the staged model directory to `dest`, replacing an earlier model there (atomic_file.h's
/// policy).
Status install(const fs::path& staged, const fs::path& dest) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_dest(dest));
  return replace_directory(staged.string(), dest.string());
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
  fs::path p = uri.rfind("file://", 0) == 0 ? fs::path(uri.substr(7)) : fs::path(uri);
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

StatusOr<training::LoggedModelRef> log_libtorch_model(
    MlflowClient& client, const std::string& experiment_id, const std::string& run_id,
    const std::string& name, const LibtorchFlavor& flavor, const std::string& weights_path,
    const std::map<std::string, std::string>& params, std::int64_t step,
    const std::vector<training::ModelFile>& extra_files, const ModelExtras& extras) {
  const std::string context = "logging LibTorch model '" + name + "'";
  if (name.empty()) {
    return Status(StatusCode::kInvalidArgument, "logged model name must not be empty");
  }
  MLFLOW_CPP_RETURN_IF_ERROR(validate_flavor(flavor).with_context(context));
  for (const auto& f : extra_files) {
    if (f.artifact_file == flavor.weights_file || f.artifact_file == training::kMlmodelFileName) {
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("{}: the extra file '{}' would replace the model's own", context,
                                f.artifact_file));
    }
  }
  const std::string& onnx = extras.onnx.data;
  if (!onnx.empty() &&
      std::none_of(extra_files.begin(), extra_files.end(),
                   [&](const training::ModelFile& f) { return f.artifact_file == onnx; })) {
    return Status(
        StatusCode::kInvalidArgument,
        fmt::format("{}: the ONNX file '{}' is not among the model's files", context, onnx));
  }
  std::vector<training::ModelFile> example;
  if (!extras.input_example_json.empty()) {
    auto files = training::ndarray_input_example_files(extras.input_example_json);
    if (!files.ok()) return files.status().with_context(context);
    example = std::move(*files);
  }
  auto weights = read_whole_file(weights_path, "weights file");
  if (!weights.ok()) return weights.status().with_context(context);
  std::vector<training::ModelFile> files = {{flavor.weights_file, std::move(*weights)}};
  files.insert(files.end(), extra_files.begin(), extra_files.end());
  files.insert(files.end(), example.begin(), example.end());
  return training::log_model(
      client, {experiment_id, run_id, name, params, step}, files,
      [&](const std::string& model_id, const std::string& artifact_uri) -> StatusOr<std::string> {
        return mlmodel_yaml(flavor, model_id, run_id, artifact_uri, extras);
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

  auto where = resolve_model_uri(client, uri);
  if (!where.ok()) return where.status().with_context(context);

  // Staged in a hidden sibling so the final move is a rename on the same file system.
  std::error_code ec;
  const fs::path parent = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) return io_error(StatusCode::kFailedPrecondition, context + ": cannot create", parent, ec);
  auto staging_dir = make_staging_directory(dest.string());
  if (!staging_dir.ok()) return staging_dir.status().with_context(context);
  const fs::path staging(*staging_dir);
  RemoveOnExit cleanup(staging);

  auto got = client.download_artifacts_from(where->root_uri, where->path, staging.string());
  if (!got.ok()) {
    Status st = got.status();
    if (st.code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound,
                    fmt::format("{}: nothing at '{}'{}: {}", context, where->artifact_uri(),
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

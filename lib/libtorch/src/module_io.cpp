// SPDX-License-Identifier: Apache-2.0
// Weights of any module: Module::save's archive, written atomically and read back with every tensor
// checked first, so a mismatch names the tensor instead of failing half way through a load.
#include "mlflow/libtorch/module_io.h"
#include "mlflow/atomic_file.h"

#include <cstdio>
#include <filesystem>
#include <set>
#include <system_error>

#include <torch/serialize/archive.h>

#include "mlflow/training/staging_dir.h"

namespace mlflow::libtorch {
namespace {

std::string shape_text(const at::Tensor& t) {
  std::string out = "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) out += (i > 0 ? ", " : "") + std::to_string(t.size(i));
  return out + "]";
}

std::string first_line(const std::exception& e) {
  std::string msg = e.what();
  return msg.substr(0, msg.find('\n'));  // LibTorch appends a C++ stack trace
}

Status mismatch(const std::string& what, const std::string& message) {
  return Status(StatusCode::kInvalidArgument, what + " do not fit the model: " + message);
}

/// Checks `archive` against `module` the way Module::load reads it: this module's own parameters
/// and buffers by name, then each child from its sub-archive. `prefix` is the dotted path so far.
Status check(torch::nn::Module& module, torch::serialize::InputArchive& archive,
             const std::string& prefix, const std::string& what) {
  std::set<std::string> known;
  auto check_tensors = [&](const auto& tensors, bool is_buffer) -> Status {
    for (const auto& item : tensors) {
      known.insert(item.key());
      const std::string name = prefix + item.key();
      at::Tensor stored;
      if (!archive.try_read(item.key(), stored, is_buffer)) {
        return mismatch(what, "the model has " + std::string(is_buffer ? "buffer" : "parameter") +
                                  " '" + name + "' " + shape_text(item.value()) +
                                  ", the weights do not");
      }
      if (!stored.sizes().equals(item.value().sizes())) {
        return mismatch(what, "'" + name + "' is " + shape_text(stored) + " in the weights and " +
                                  shape_text(item.value()) + " in the model");
      }
    }
    return ok_status();
  };
  MLFLOW_CPP_RETURN_IF_ERROR(check_tensors(module.named_parameters(/*recurse=*/false), false));
  MLFLOW_CPP_RETURN_IF_ERROR(check_tensors(module.named_buffers(/*recurse=*/false), true));
  for (const auto& child : module.named_children()) {
    known.insert(child.key());
    torch::serialize::InputArchive sub;
    if (!archive.try_read(child.key(), sub)) {
      return mismatch(what,
                      "the model has submodule '" + prefix + child.key() + "', the weights do not");
    }
    MLFLOW_CPP_RETURN_IF_ERROR(check(*child.value(), sub, prefix + child.key() + ".", what));
  }
  for (const auto& key : archive.keys()) {
    if (known.count(key) == 0) {
      return mismatch(what, "the weights have '" + prefix + key + "', the model does not");
    }
  }
  return ok_status();
}

}  // namespace

Status save_module(const torch::nn::Module& module, const std::string& path) {
  auto file = AtomicFile::create(path);
  if (!file.ok())
    return Status(file.status().code(), "cannot write weights: " + file.status().message());
  try {
    torch::serialize::OutputArchive archive;
    module.save(archive);
    archive.save_to(file->temp_path());
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal, "cannot write weights '" + path + "': " + first_line(e));
  }
  return file->commit();
}

Status load_module(torch::nn::Module& module, const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status(StatusCode::kNotFound, what + " '" + path + "': no such file");
  }
  const std::string named = what + " '" + path + "'";
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    MLFLOW_CPP_RETURN_IF_ERROR(check(module, archive, "", named));
    module.load(archive);
  } catch (const std::exception& e) {
    return Status(StatusCode::kInvalidArgument, "cannot load " + named + ": " + first_line(e));
  }
  return ok_status();
}

StatusOr<training::LoggedModelRef> log_module(MlflowClient& client,
                                              const training::LogModelOptions& options,
                                              const torch::nn::Module& module,
                                              const LibtorchFlavor& flavor,
                                              const std::vector<training::ModelFile>& extra_files,
                                              const ModelExtras& extras) {
  MLFLOW_CPP_RETURN_IF_ERROR(
      validate_flavor(flavor).with_context("logging module '" + options.name + "'"));
  auto dir = training::StagingDir::make("mlflow-module");
  if (!dir.ok()) return dir.status();
  const std::string weights = dir->file("weights");
  MLFLOW_CPP_RETURN_IF_ERROR(save_module(module, weights));
  return log_libtorch_model(client, options.experiment_id, options.run_id, options.name, flavor,
                            weights, options.params, options.step, extra_files, extras);
}

StatusOr<LocalModel> load_module_from(MlflowClient& client, const std::string& uri,
                                      const std::string& dest_dir, torch::nn::Module& module) {
  auto model = fetch_model(client, uri, dest_dir);
  if (!model.ok()) return model.status();
  MLFLOW_CPP_RETURN_IF_ERROR(load_module(module, model->weights_path, "weights of " + uri));
  return model;
}

}  // namespace mlflow::libtorch

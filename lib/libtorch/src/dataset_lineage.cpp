// SPDX-License-Identifier: Apache-2.0
// sha256 of the data files (OpenSSL EVP) and the MLflow dataset inputs that record them.
#include "mlflow/libtorch/dataset_lineage.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

namespace mlflow::libtorch {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

StatusOr<MdCtx> new_sha256() {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status(StatusCode::kInternal, "OpenSSL: cannot initialise sha256");
  }
  return ctx;
}

StatusOr<std::string> finish(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, md, &len) != 1) return Status(StatusCode::kInternal, "OpenSSL: sha256 failed");
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

Status update_from_file(EVP_MD_CTX* ctx, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status(StatusCode::kNotFound, path + ": no such file");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    int err = errno;
    return Status(err == EACCES ? StatusCode::kPermissionDenied : StatusCode::kInternal,
                  path + ": cannot open: " + std::strerror(err));
  }
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    std::size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0 && EVP_DigestUpdate(ctx, buf.data(), n) != 1) {
      return Status(StatusCode::kInternal, "OpenSSL: sha256 update failed");
    }
    if (n < buf.size()) {
      if (std::ferror(f.get())) return Status(StatusCode::kInternal, path + ": read error");
      break;
    }
  }
  return ok_status();
}

}  // namespace

StatusOr<std::string> sha256_files(const std::vector<std::string>& paths) {
  auto ctx = new_sha256();
  if (!ctx.ok()) return ctx.status();
  for (const auto& p : paths) MLFLOW_CPP_RETURN_IF_ERROR(update_from_file(ctx->get(), p));
  return finish(ctx->get());
}

StatusOr<std::string> sha256_file(const std::string& path) { return sha256_files({path}); }

std::string sha256_hex(const std::string& data) { return sha256_hex(data.data(), data.size()); }

std::string sha256_hex(const void* data, std::size_t size) {
  auto ctx = new_sha256();
  if (!ctx.ok() || EVP_DigestUpdate(ctx->get(), data, size) != 1) return {};
  auto hex = finish(ctx->get());
  return hex.ok() ? *hex : std::string();
}

const char* dataset_context_name(DatasetContext context) {
  switch (context) {
    case DatasetContext::kTraining: return "training";
    case DatasetContext::kValidation: return "validation";
    case DatasetContext::kTest: return "test";
  }
  return "training";
}

std::string dataset_digest(const std::string& files_sha256, const std::string& selection) {
  const std::string full = selection.empty() ? files_sha256 : sha256_hex(files_sha256 + "\n" + selection);
  return full.substr(0, kMaxDatasetDigestLength);
}

std::string fmnist_schema_json() {
  // MLflow's tensor-spec schema (as its NumpyDataset writes it): features and targets are JSON strings.
  const nlohmann::json features = nlohmann::json::array(
      {{{"type", "tensor"}, {"tensor-spec", {{"dtype", "float32"}, {"shape", {-1, 1, 28, 28}}}}}});
  const nlohmann::json targets =
      nlohmann::json::array({{{"type", "tensor"}, {"tensor-spec", {{"dtype", "int64"}, {"shape", {-1}}}}}});
  return nlohmann::json{{"mlflow_tensorspec", {{"features", features.dump()}, {"targets", targets.dump()}}}}
      .dump();
}

DatasetInput make_dataset_input(const DatasetSpec& spec) {
  DatasetInput in;
  in.dataset.name = spec.name;
  in.dataset.digest = dataset_digest(spec.files_sha256, spec.selection);
  in.dataset.source_type = "local";
  in.dataset.source = nlohmann::json{{"uri", spec.source_uri}}.dump();
  in.dataset.schema = fmnist_schema_json();
  nlohmann::json profile{{"num_rows", spec.num_rows}, {"files_sha256", spec.files_sha256}};
  if (!spec.selection.empty()) profile["selection"] = spec.selection;
  in.dataset.profile = profile.dump();
  in.tags.push_back({"mlflow.data.context", dataset_context_name(spec.context)});
  return in;
}

StatusOr<std::vector<DatasetInput>> fmnist_dataset_inputs(const std::string& dir, const SplitOptions& options,
                                                          const FmnistSplitSizes& sizes) {
  const FmnistFiles train_files = fmnist_files(dir, FmnistPart::kTrain);
  const FmnistFiles test_files = fmnist_files(dir, FmnistPart::kTest);
  auto train_sha = sha256_files({train_files.images, train_files.labels});
  if (!train_sha.ok()) return train_sha.status();
  auto test_sha = sha256_files({test_files.images, test_files.labels});
  if (!test_sha.ok()) return test_sha.status();

  char fraction[32];
  std::snprintf(fraction, sizeof fraction, "%g", options.train_val_split);
  const std::string split = std::string(";train_val_split=") + fraction + ";seed=" + std::to_string(options.seed);

  std::vector<DatasetInput> out;
  out.push_back(make_dataset_input({"fashion-mnist-train", dir, *train_sha, "part=train;subset=training" + split,
                                    sizes.train, DatasetContext::kTraining}));
  out.push_back(make_dataset_input({"fashion-mnist-validation", dir, *train_sha,
                                    "part=train;subset=validation" + split, sizes.validation,
                                    DatasetContext::kValidation}));
  out.push_back(make_dataset_input({"fashion-mnist-test", dir, *test_sha, "", sizes.test, DatasetContext::kTest}));
  return out;
}

}  // namespace mlflow::libtorch

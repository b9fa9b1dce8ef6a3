// SPDX-License-Identifier: Apache-2.0
// sha256 of the data files (OpenSSL EVP) and the MLflow dataset inputs that record them.
#include "mlflow/training/dataset_lineage.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

namespace mlflow::training {
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
  if (EVP_DigestFinal_ex(ctx, md, &len) != 1)
    return Status(StatusCode::kInternal, "OpenSSL: sha256 failed");
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{2} * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

Status update_from_file(EVP_MD_CTX* ctx, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return Status(StatusCode::kNotFound, path + ": no such file");
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
    case DatasetContext::kTraining:
      return "training";
    case DatasetContext::kValidation:
      return "validation";
    case DatasetContext::kTest:
      return "test";
  }
  return "training";
}

std::string dataset_digest(const std::string& files_sha256, const std::string& selection) {
  const std::string full =
      selection.empty() ? files_sha256 : sha256_hex(files_sha256 + "\n" + selection);
  return full.substr(0, kMaxDatasetDigestLength);
}

std::string tensor_schema_json(const TensorSpec& features, const TensorSpec& targets) {
  // Features and targets are JSON strings inside the JSON, as MLflow's NumpyDataset writes them.
  auto one = [](const TensorSpec& t) {
    return nlohmann::json::array(
               {{{"type", "tensor"}, {"tensor-spec", {{"dtype", t.dtype}, {"shape", t.shape}}}}})
        .dump();
  };
  return nlohmann::json{
      {"mlflow_tensorspec", {{"features", one(features)}, {"targets", one(targets)}}}}
      .dump();
}

DatasetInput make_dataset_input(const DatasetSpec& spec) {
  DatasetInput in;
  in.dataset.name = spec.name;
  in.dataset.digest = dataset_digest(spec.files_sha256, spec.selection);
  in.dataset.source_type = "local";
  in.dataset.source = nlohmann::json{{"uri", spec.source_uri}}.dump();
  in.dataset.schema = spec.schema_json;
  nlohmann::json profile{{"num_rows", spec.num_rows}, {"files_sha256", spec.files_sha256}};
  if (!spec.selection.empty()) profile["selection"] = spec.selection;
  in.dataset.profile = profile.dump();
  in.tags.push_back({"mlflow.data.context", dataset_context_name(spec.context)});
  return in;
}

}  // namespace mlflow::training

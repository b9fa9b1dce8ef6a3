// SPDX-License-Identifier: Apache-2.0
// Artifact endpoints: upload, list and download through the server's artifact proxy.
//
// Local trees: log_artifacts uploads regular files and symlinks to regular files (their content);
// symlinked directories are not descended into (as os.walk in the Python client), so a tree cannot
// loop or pull in files from outside it. Dangling symlinks are an error; sockets, FIFOs and devices
// are skipped. Every remote path is checked before the first request is sent.
//
// Downloads mirror the artifact path under the local directory, as the Python client does:
// downloading "a/b.txt" into D writes D/a/b.txt. Each file is written by write_file_atomically
// (mlflow/atomic_file.h), so a failed download never leaves a half-written file (files completed
// before a failure stay).
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "artifact_uri.h"
#include "client_impl.h"
#include "mlflow/atomic_file.h"
#include "mlflow/model_uri.h"
#include "url.h"

namespace mlflow {

namespace fs = std::filesystem;
using detail::ArtifactRoot;
using detail::json;

namespace {

struct Upload {
  fs::path local;
  std::string remote;  ///< normalised path relative to the artifact root
};

Status io_error(const std::string& what, const fs::path& p, const std::error_code& ec) {
  return Status(StatusCode::kFailedPrecondition,
                fmt::format("{} '{}': {}", what, p.string(), ec.message()));
}

std::error_code last_error() {
  return std::error_code(errno ? errno : EIO, std::generic_category());
}

StatusOr<std::string> read_local_file(const fs::path& p) {
  errno = 0;
  std::ifstream in(p, std::ios::binary);
  if (!in) return io_error("cannot open local file", p, last_error());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return io_error("cannot read local file", p, last_error());
  return s.str();
}

/// Writes a downloaded file by the atomic-write policy (its directories created first).
Status write_download(const fs::path& target, const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return io_error("cannot create local directory", target.parent_path(), ec);
  if (fs::is_directory(target, ec)) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot write artifact to '" + target.string() + "': it is a directory");
  }
  return write_file_atomically(target.string(), bytes);
}

/// The uploads for `local` (a file, or a directory tree when `tree`) under the normalised
/// `dest_dir`.
StatusOr<std::vector<Upload>> plan_uploads(const std::string& local, const std::string& dest_dir,
                                           bool tree) {
  if (local.empty()) return Status(StatusCode::kInvalidArgument, "local path must not be empty");
  std::error_code ec;
  fs::file_status st = fs::status(local, ec);
  if (!fs::exists(st)) {
    return Status(StatusCode::kNotFound,
                  fmt::format("local {} '{}' does not exist", tree ? "directory" : "file", local));
  }
  std::vector<Upload> out;
  if (!tree) {
    if (!fs::is_regular_file(st)) {
      return Status(
          StatusCode::kInvalidArgument,
          fmt::format("'{}' is not a regular file{}", local,
                      fs::is_directory(st) ? " (use log_artifacts for directories)" : ""));
    }
    std::string name = fs::path(local).filename().string();
    auto remote = detail::normalize_artifact_path(detail::join_artifact_path(dest_dir, name),
                                                  "name of a local file");
    if (!remote.ok()) return remote.status();
    out.push_back({fs::path(local), *remote});
    return out;
  }
  if (!fs::is_directory(st)) {
    return Status(StatusCode::kInvalidArgument,
                  "'" + local + "' is not a directory (use log_artifact for a single file)");
  }
  const fs::path root(local);
  fs::recursive_directory_iterator it(root, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& e = *it;
    std::error_code sec;
    fs::file_status target = e.status(sec);  // follows symlinks
    if (e.is_symlink(sec) && !fs::exists(target)) {
      return Status(StatusCode::kNotFound,
                    "'" + e.path().string() + "' is a dangling symlink; nothing was uploaded");
    }
    if (!fs::is_regular_file(target)) continue;  // directories are walked; special files skipped
    std::string rel = e.path().lexically_relative(root).generic_string();
    auto remote = detail::normalize_artifact_path(detail::join_artifact_path(dest_dir, rel),
                                                  "name of a local file");
    if (!remote.ok()) return remote.status();
    out.push_back({e.path(), *remote});
  }
  if (ec) return io_error("cannot walk local directory", root, ec);
  std::sort(out.begin(), out.end(),
            [](const Upload& a, const Upload& b) { return a.remote < b.remote; });
  return out;
}

Status put_bytes(const MlflowClient::Impl& impl, const ArtifactRoot& root,
                 const std::string& remote, std::string bytes) {
  return impl
      .exchange("PUT", detail::artifact_file_url(root, remote), std::move(bytes),
                {{"Content-Type", detail::guess_content_type(remote)}}, /*absolute_url=*/true)
      .status();
}

Status put_all(const MlflowClient::Impl& impl, const ArtifactRoot& root,
               const std::vector<Upload>& uploads) {
  for (const auto& u : uploads) {
    auto bytes = read_local_file(u.local);
    if (!bytes.ok()) return bytes.status();
    MLFLOW_CPP_RETURN_IF_ERROR(put_bytes(impl, root, u.remote, std::move(*bytes))
                                   .with_context("uploading '" + u.remote + "'"));
  }
  return Status();
}

StatusOr<std::string> get_bytes(const MlflowClient::Impl& impl, const ArtifactRoot& root,
                                const std::string& remote) {
  auto resp =
      impl.exchange("GET", detail::artifact_file_url(root, remote), {}, {}, /*absolute_url=*/true);
  if (!resp.ok()) return resp.status();
  return std::move(resp->body);
}

/// Entries directly under `dir` through the proxy's listing endpoint, paths relative to the root.
StatusOr<std::vector<FileInfo>> list_proxy(const MlflowClient::Impl& impl, const ArtifactRoot& root,
                                           const std::string& dir) {
  if (root.list_url.empty()) {
    return Status(
        StatusCode::kUnimplemented,
        "cannot list artifacts under '" + detail::redact_url(root.files_url) +
            "': only roots served by an MLflow artifact proxy (.../mlflow-artifacts/artifacts/...) "
            "can be listed");
  }
  std::string url = root.list_url;
  std::string path = detail::join_artifact_path(root.list_path, dir);
  if (!path.empty()) url += "?" + detail::build_query({{"path", path}});
  auto resp = impl.exchange("GET", url, {}, {}, /*absolute_url=*/true);
  if (!resp.ok()) return resp.status();
  auto j = json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status(StatusCode::kInternal,
                  "malformed artifact listing from " + impl.host_port + ": expected a JSON object",
                  resp->status);
  }
  std::vector<FileInfo> out;
  for (auto f : detail::decode_list(j, "files", detail::decode_file_info)) {
    auto p = detail::checked_listed_path(dir, f.path, /*relative_to_dir=*/true);
    if (!p.ok()) return p.status();
    f.path = *p;
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return out;
}

/// Downloads the file or tree at `path` (normalised) under `root` into `local_dir`, mirroring the
/// path.
StatusOr<std::string> download_tree(const MlflowClient::Impl& impl, const ArtifactRoot& root,
                                    const std::string& path, const std::string& local_dir) {
  if (local_dir.empty())
    return Status(StatusCode::kInvalidArgument, "local directory must not be empty");
  const fs::path dest = path.empty() ? fs::path(local_dir) : fs::path(local_dir) / path;
  // A root outside the proxy cannot be listed, but a single file under it can still be fetched.
  StatusOr<std::vector<FileInfo>> entries = std::vector<FileInfo>();
  if (!root.list_url.empty() || path.empty()) entries = list_proxy(impl, root, path);
  if (!entries.ok()) return entries.status();
  if (entries->empty() && !path.empty()) {
    // A file, a missing path or an empty directory: the listing cannot tell them apart.
    auto bytes = get_bytes(impl, root, path);
    if (!bytes.ok()) return bytes.status();
    MLFLOW_CPP_RETURN_IF_ERROR(write_download(dest, *bytes));
    return dest.string();
  }
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return io_error("cannot create local directory", dest, ec);
  for (const auto& e : *entries) {
    if (e.is_dir) {
      auto sub = download_tree(impl, root, e.path, local_dir);
      if (!sub.ok()) return sub.status();
      continue;
    }
    auto bytes = get_bytes(impl, root, e.path);
    if (!bytes.ok()) return bytes.status();
    MLFLOW_CPP_RETURN_IF_ERROR(write_download(fs::path(local_dir) / e.path, *bytes));
  }
  return dest.string();
}

StatusOr<ArtifactRoot> resolve_root(MlflowClient& client, const MlflowClient::Impl& impl,
                                    const std::string& root_uri) {
  auto uri = resolve_artifact_location(client, root_uri);
  if (!uri.ok()) return uri.status();
  return detail::resolve_artifact_root(*uri, impl.base_url);
}

// "runs:/<id>": a run's artifacts are the URI variants applied to the run's root.
StatusOr<std::string> run_uri(const std::string& run_id) {
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  if (run_id.find('/') != std::string::npos) {
    return Status(StatusCode::kInvalidArgument, "run id '" + run_id + "' must not contain '/'");
  }
  return "runs:/" + run_id;
}

StatusOr<ArtifactRoot> run_root(MlflowClient& client, const MlflowClient::Impl& impl,
                                const std::string& run_id) {
  auto uri = run_uri(run_id);
  if (!uri.ok()) return uri.status();
  return resolve_root(client, impl, *uri);
}

StatusOr<std::string> file_path(const std::string& artifact_file) {
  auto p = detail::normalize_artifact_path(artifact_file);
  if (!p.ok()) return p.status();
  if (p->empty() || artifact_file.back() == '/') {
    return Status(StatusCode::kInvalidArgument,
                  "artifact file '" + artifact_file + "' must name a file");
  }
  return p;
}

}  // namespace

StatusOr<std::string> MlflowClient::artifact_url(const std::string& artifact_uri) const {
  auto root = detail::resolve_artifact_root(artifact_uri, impl_->base_url);
  if (!root.ok()) return root.status();
  return root->files_url;
}

Status MlflowClient::log_artifact(const std::string& run_id, const std::string& local_file,
                                  const std::string& artifact_path) {
  auto dir = detail::normalize_artifact_path(artifact_path);
  if (!dir.ok()) return dir.status();
  auto uploads = plan_uploads(local_file, *dir, /*tree=*/false);
  if (!uploads.ok()) return uploads.status();
  auto root = run_root(*this, *impl_, run_id);
  if (!root.ok()) return root.status();
  return put_all(*impl_, *root, *uploads);
}

Status MlflowClient::log_artifacts(const std::string& run_id, const std::string& local_dir,
                                   const std::string& artifact_path) {
  auto dir = detail::normalize_artifact_path(artifact_path);
  if (!dir.ok()) return dir.status();
  auto uploads = plan_uploads(local_dir, *dir, /*tree=*/true);
  if (!uploads.ok()) return uploads.status();
  auto root = run_root(*this, *impl_, run_id);
  if (!root.ok()) return root.status();
  return put_all(*impl_, *root, *uploads);
}

Status MlflowClient::log_artifact_bytes(const std::string& run_id, const std::string& bytes,
                                        const std::string& artifact_file) {
  auto uri = run_uri(run_id);
  if (!uri.ok()) return uri.status();
  return upload_bytes_to(*uri, bytes, artifact_file);
}

StatusOr<std::vector<FileInfo>> MlflowClient::list_artifacts(const std::string& run_id,
                                                             const std::string& path) {
  auto dir = detail::normalize_artifact_path(path);
  if (!dir.ok()) return dir.status();
  MLFLOW_CPP_RETURN_IF_ERROR(require_nonempty("run id", run_id));
  return impl_->list_artifact_pages(std::string(kApi) + "/artifacts/list", {{"run_id", run_id}},
                                    "path", *dir);
}

StatusOr<std::vector<FileInfo>> MlflowClient::Impl::list_artifact_pages(
    const std::string& endpoint, QueryParams query, const char* dir_param,
    const std::string& dir) const {
  if (!dir.empty()) query.emplace_back(dir_param, dir);
  std::vector<FileInfo> out;
  std::string token;
  do {
    QueryParams q = query;
    if (!token.empty()) q.emplace_back("page_token", token);
    auto r = get(endpoint, q);
    if (!r.ok()) return r.status();
    for (auto f : detail::decode_list(*r, "files", detail::decode_file_info)) {
      auto p = detail::checked_listed_path(dir, f.path, /*relative_to_dir=*/false);
      if (!p.ok()) return p.status();
      f.path = *p;
      out.push_back(std::move(f));
    }
    token = detail::str(*r, "next_page_token");
  } while (!token.empty());
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return out;
}

StatusOr<std::string> MlflowClient::read_artifact(const std::string& run_id,
                                                  const std::string& path) {
  auto file = file_path(path);
  if (!file.ok()) return file.status();
  auto root = run_root(*this, *impl_, run_id);
  if (!root.ok()) return root.status();
  return get_bytes(*impl_, *root, *file);
}

StatusOr<std::string> MlflowClient::download_artifacts(const std::string& run_id,
                                                       const std::string& path,
                                                       const std::string& local_dir) {
  auto uri = run_uri(run_id);
  if (!uri.ok()) return uri.status();
  return download_artifacts_from(*uri, path, local_dir);
}

Status MlflowClient::upload_artifacts_to(const std::string& root_uri, const std::string& local_path,
                                         const std::string& artifact_path) {
  auto dir = detail::normalize_artifact_path(artifact_path);
  if (!dir.ok()) return dir.status();
  std::error_code ec;
  bool tree = fs::is_directory(local_path, ec);
  auto uploads = plan_uploads(local_path, *dir, tree);
  if (!uploads.ok()) return uploads.status();
  auto root = resolve_root(*this, *impl_, root_uri);
  if (!root.ok()) return root.status();
  return put_all(*impl_, *root, *uploads);
}

Status MlflowClient::upload_bytes_to(const std::string& root_uri, const std::string& bytes,
                                     const std::string& artifact_file) {
  auto path = file_path(artifact_file);
  if (!path.ok()) return path.status();
  auto root = resolve_root(*this, *impl_, root_uri);
  if (!root.ok()) return root.status();
  return put_bytes(*impl_, *root, *path, bytes);
}

StatusOr<std::vector<FileInfo>> MlflowClient::list_artifacts_at(const std::string& root_uri,
                                                                const std::string& path) {
  auto dir = detail::normalize_artifact_path(path);
  if (!dir.ok()) return dir.status();
  auto root = resolve_root(*this, *impl_, root_uri);
  if (!root.ok()) return root.status();
  return list_proxy(*impl_, *root, *dir);
}

StatusOr<std::string> MlflowClient::download_artifacts_from(const std::string& root_uri,
                                                            const std::string& path,
                                                            const std::string& local_dir) {
  auto rel = detail::normalize_artifact_path(path);
  if (!rel.ok()) return rel.status();
  if (local_dir.empty())
    return Status(StatusCode::kInvalidArgument, "local directory must not be empty");
  auto root = resolve_root(*this, *impl_, root_uri);
  if (!root.ok()) return root.status();
  return download_tree(*impl_, *root, *rel, local_dir);
}

}  // namespace mlflow

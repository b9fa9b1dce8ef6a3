// SPDX-License-Identifier: Apache-2.0
// Artifact root URIs to artifact-proxy URLs and artifact path hygiene (private).
#pragma once

#include <string>

#include "mlflow/status.h"

namespace mlflow::detail {

/// Where an artifact root lives on the artifact proxy.
struct ArtifactRoot {
  /// URL of the root directory; a file's URL is this + "/" + its encoded relative path.
  std::string files_url;
  /// ".../api/2.0/mlflow-artifacts/artifacts", the proxy's listing endpoint; empty when the root is
  /// an http(s) URL outside the proxy, which cannot be listed.
  std::string list_url;
  /// The root's path under the proxy (decoded, no leading or trailing '/'), the listing's `path`.
  std::string list_path;
};

/// Resolves an artifact root URI against the tracking server's base URL
/// ("scheme://host[:port][/prefix]"), as MlflowArtifactsRepository.resolve_uri does (mlflow-rest.md
/// §3.2):
///  * mlflow-artifacts:/p and mlflow-artifacts://host:port/p ->
///  <scheme>://<host:port><prefix>/api/2.0/
///    mlflow-artifacts/artifacts/p, the host:port defaulting to the tracking server's;
///  * http(s):// roots are used as they are.
/// kUnimplemented for stores the server does not proxy (s3://, gs://, file://, local paths, ...);
/// kInvalidArgument for runs:/ and models:/ URIs (resolve them first) and malformed URIs.
StatusOr<ArtifactRoot> resolve_artifact_root(const std::string& artifact_uri,
                                             const std::string& tracking_base_url);

/// A relative artifact path checked with validate_artifact_path() (and for '#', which the server
/// refuses) and normalised: '.' and empty
/// segments dropped, no leading or trailing '/'. `what`, when given, is put in front of errors.
StatusOr<std::string> normalize_artifact_path(const std::string& path, const char* what = nullptr);

/// A path the server listed under the directory `dir` (normalised), checked before it is trusted:
/// `listed` is the entry's name relative to `dir` when `relative_to_dir`, otherwise its path
/// relative to the root, which must lie strictly inside `dir`. Returns the path relative to the
/// root; kInternal for traversal ('..', absolute) or paths outside `dir`.
StatusOr<std::string> checked_listed_path(const std::string& dir, const std::string& listed,
                                          bool relative_to_dir);

/// "a/b" from two normalised relative paths, either of which may be empty.
std::string join_artifact_path(const std::string& dir, const std::string& name);

/// The URL of `relative_path` (normalised) under `root`: each segment percent-encoded, '/' kept.
std::string artifact_file_url(const ArtifactRoot& root, const std::string& relative_path);

/// Percent-decodes %XX sequences (invalid ones are kept as they are).
std::string url_decode(const std::string& s);

/// A guess of a file's MIME type from its extension; application/octet-stream when unknown.
std::string guess_content_type(const std::string& file_name);

}  // namespace mlflow::detail

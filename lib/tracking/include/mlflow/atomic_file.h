// SPDX-License-Identifier: Apache-2.0
// Writing files and replacing directories atomically and durably: the toolkit's one policy.
//
// The policy: a file is written to a hidden temporary file in its own directory
// (".NAME.tmp-XXXXXX", so listings and artifact uploads running meanwhile skip it), fsync'd,
// renamed over NAME, and the directory is fsync'd. Readers see the old file or the whole new one,
// never a part; after a crash the new file is there whole or not at all; a failure leaves the old
// file untouched and no temporary file behind. A directory is replaced by a staged sibling: the old
// one renamed aside, the staged one renamed in, the old one removed, the parent fsync'd.
#pragma once

#include <string>
#include <string_view>

#include "mlflow/status.h"

namespace mlflow {

/// Permissions of files written here: readable by all (charts, models, downloads) or private
/// (spool sessions and records, which may hold parameters and tags).
inline constexpr unsigned kSharedFileMode = 0644;
/// Permissions of private files (see kSharedFileMode).
inline constexpr unsigned kPrivateFileMode = 0600;

/// A file being written that appears at path() complete, or not at all, once commit() returns OK.
/// Write it with append(), or let another library write temp_path() (e.g. a serializer that only
/// takes a path) and then commit(). Destroyed without a successful commit(), the temporary file is
/// removed. Errors name the path; their code follows errno (a full disk is kResourceExhausted, a
/// missing directory kNotFound, a denied one kPermissionDenied, else kInternal).
class AtomicFile {
 public:
  /// Creates the temporary file beside `path` (whose directory must exist) with `mode`.
  /// kInvalidArgument for an empty path or one ending in '/'.
  static StatusOr<AtomicFile> create(const std::string& path, unsigned mode = kSharedFileMode);

  /// Takes over `other`'s temporary file; `other` then owns none.
  AtomicFile(AtomicFile&& other) noexcept;
  /// Discards this one's uncommitted temporary file, then takes over `other`'s.
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  /// Where the file appears on commit().
  const std::string& path() const { return path_; }
  /// The hidden temporary file being written, beside path().
  const std::string& temp_path() const { return temp_; }
  /// Appends `bytes` to the temporary file.
  Status append(std::string_view bytes);
  /// fsync, rename over path(), fsync of the directory. kFailedPrecondition when called twice.
  Status commit();

 private:
  AtomicFile(std::string path, std::string temp, int fd);
  void discard();

  std::string path_;
  std::string temp_;
  int fd_ = -1;
};

/// Writes `bytes` as the whole content of `path` by the policy above.
Status write_file_atomically(const std::string& path, std::string_view bytes,
                             unsigned mode = kSharedFileMode);

/// fsync of a directory: makes the creation, rename or removal of its entries durable (a file
/// system that cannot sync directories is not an error).
Status sync_directory(const std::string& dir);

/// Creates an empty hidden sibling of `target` (".NAME.stage-XXXXXX", mode 0700; `target`'s parent
/// directories are created) to fill and then hand to replace_directory(); returns its path.
StatusOr<std::string> make_staging_directory(const std::string& target);

/// Puts the directory `staged` (a sibling of `target`, e.g. from make_staging_directory(), whose
/// files the caller wrote durably) in place of `target`, which may be missing. On failure `target`
/// is as it was and `staged` is left for the caller to remove.
Status replace_directory(const std::string& staged, const std::string& target);

}  // namespace mlflow

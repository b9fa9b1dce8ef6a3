// SPDX-License-Identifier: Apache-2.0
// The one atomic-write policy: whole files or none, no temporary file left, modes, paths named in
// errors, and directories replaced by a staged sibling.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "mlflow/atomic_file.h"
#include "support/test_support.h"

using mlflow::AtomicFile;
using mlflow::StatusCode;
using mlflow::testing::file_mode;
using mlflow::testing::read_file;
using mlflow::testing::TempDir;
using mlflow::testing::write_file;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("atomic file: written whole, replacing the old content, with the mode asked for") {
  TempDir dir;
  const std::string path = dir.path() + "/state.json";
  write_file(path, "old");
  REQUIRE(mlflow::write_file_atomically(path, "new content").ok());
  CHECK(read_file(path) == "new content");
  CHECK(file_mode(path) == mlflow::kSharedFileMode);
  REQUIRE(mlflow::write_file_atomically(path, "private", mlflow::kPrivateFileMode).ok());
  CHECK(file_mode(path) == mlflow::kPrivateFileMode);
  CHECK(entries(dir.path()) == std::vector<std::string>{"state.json"});
}

TEST_CASE("atomic file: nothing is visible at the path before commit, and nothing after a drop") {
  TempDir dir;
  const std::string path = dir.path() + "/rejected.jsonl";
  {
    auto file = AtomicFile::create(path);
    REQUIRE(file.ok());
    REQUIRE(file->append("line 1\n").ok());
    CHECK_FALSE(fs::exists(path));
    // Hidden, in the same directory (so the rename stays on one file system).
    CHECK(fs::path(file->temp_path()).parent_path() == fs::path(dir.path()));
    CHECK(fs::path(file->temp_path()).filename().string().rfind(".rejected.jsonl.tmp-", 0) == 0);
  }
  CHECK(entries(dir.path()).empty());

  auto file = AtomicFile::create(path);
  REQUIRE(file.ok());
  REQUIRE(file->append("line 1\n").ok());
  REQUIRE(file->append("line 2\n").ok());
  REQUIRE(file->commit().ok());
  CHECK(read_file(path) == "line 1\nline 2\n");
  CHECK(file->commit().code() == StatusCode::kFailedPrecondition);
  CHECK(entries(dir.path()) == std::vector<std::string>{"rejected.jsonl"});
}

TEST_CASE("atomic file: a writer that only takes a path writes temp_path(), commit publishes it") {
  TempDir dir;
  const std::string path = dir.path() + "/model.pt";
  auto file = AtomicFile::create(path);
  REQUIRE(file.ok());
  write_file(file->temp_path(), "weights");  // e.g. a serializer opening the path itself
  REQUIRE(file->commit().ok());
  CHECK(read_file(path) == "weights");
  CHECK(entries(dir.path()) == std::vector<std::string>{"model.pt"});
}

TEST_CASE("atomic file: errors name the path and leave the old file and no temporary file") {
  TempDir dir;
  SUBCASE("missing directory") {
    const std::string path = dir.path() + "/no/such/file.txt";
    const mlflow::Status st = mlflow::write_file_atomically(path, "x");
    CHECK(st.code() == StatusCode::kNotFound);
    CHECK_MESSAGE(st.message().find(path) != std::string::npos, st.message());
  }
  SUBCASE("the path is a directory") {
    const std::string path = dir.path() + "/taken";
    fs::create_directory(path);
    const mlflow::Status st = mlflow::write_file_atomically(path, "x");
    CHECK_FALSE(st.ok());
    CHECK_MESSAGE(st.message().find(path) != std::string::npos, st.message());
    CHECK(fs::is_directory(path));
    CHECK(entries(dir.path()) == std::vector<std::string>{"taken"});
  }
  SUBCASE("empty path or a directory name") {
    CHECK(mlflow::write_file_atomically("", "x").code() == StatusCode::kInvalidArgument);
    CHECK(mlflow::write_file_atomically(dir.path() + "/", "x").code() ==
          StatusCode::kInvalidArgument);
  }
}

TEST_CASE("atomic directory: a staged sibling replaces the directory, or creates it") {
  TempDir dir;
  const std::string target = dir.path() + "/models/best";
  auto staged = mlflow::make_staging_directory(target);
  REQUIRE(staged.ok());
  CHECK(fs::path(*staged).parent_path() == fs::path(dir.path() + "/models"));
  CHECK(fs::path(*staged).filename().string().rfind(".best.stage-", 0) == 0);
  REQUIRE(mlflow::write_file_atomically(*staged + "/a.txt", "first").ok());
  REQUIRE(mlflow::replace_directory(*staged, target).ok());
  CHECK(read_file(target + "/a.txt") == "first");

  auto again = mlflow::make_staging_directory(target + "/");
  REQUIRE(again.ok());
  REQUIRE(mlflow::write_file_atomically(*again + "/b.txt", "second").ok());
  REQUIRE(mlflow::replace_directory(*again, target + "/").ok());
  CHECK(entries(target) == std::vector<std::string>{"b.txt"});
  CHECK(entries(dir.path() + "/models") == std::vector<std::string>{"best"});  // nothing aside
}

TEST_CASE("atomic directory: a failed replacement leaves the target as it was") {
  TempDir dir;
  const std::string target = dir.path() + "/ckpt";
  write_file(target + "/model.pt", "old");
  SUBCASE("the staged directory is missing") {
    const mlflow::Status st = mlflow::replace_directory(dir.path() + "/.gone", target);
    CHECK(st.code() == StatusCode::kNotFound);
    CHECK_MESSAGE(st.message().find(dir.path() + "/.gone") != std::string::npos, st.message());
  }
  SUBCASE("the target is a file") {
    auto staged = mlflow::make_staging_directory(dir.path() + "/file");
    REQUIRE(staged.ok());
    write_file(dir.path() + "/file", "x");
    const mlflow::Status st = mlflow::replace_directory(*staged, dir.path() + "/file");
    CHECK_FALSE(st.ok());
    CHECK_MESSAGE(st.message().find(dir.path() + "/file") != std::string::npos, st.message());
    CHECK(read_file(dir.path() + "/file") == "x");
    fs::remove_all(*staged);
  }
  CHECK(read_file(target + "/model.pt") == "old");
  CHECK(entries(dir.path()).size() == (fs::exists(dir.path() + "/file") ? 2u : 1u));
}

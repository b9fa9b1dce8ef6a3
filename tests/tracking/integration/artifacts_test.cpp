// SPDX-License-Identifier: Apache-2.0
// Artifacts against the real server: uploads, listings and downloads through the artifact proxy.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "mlflow/client.h"
#include "support/test_support.h"

using mlflow::FileInfo;
using mlflow::MlflowClient;
using mlflow::StatusCode;
using mlflow::testing::new_run;
using mlflow::testing::read_file;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;
namespace fs = std::filesystem;

namespace {

std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

/// "path:size" or "path/" for each entry, in order.
std::vector<std::string> summary(const std::vector<FileInfo>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) {
    out.push_back(f.is_dir ? f.path + "/" : f.path + ":" + std::to_string(f.file_size));
  }
  return out;
}

std::vector<std::string> local_tree(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("artifacts: bytes round trip unchanged, binary and large, with awkward names") {
  auto c = test_client();
  auto run = new_run(c, "cpp-artifacts").run_id;
  const std::string binary = all_bytes() + std::string(1, '\0') + all_bytes();
  std::string large(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>((i * 131) % 251);

  REQUIRE(c.log_artifact_bytes(run, binary, "bin/all bytes.bin").ok());
  REQUIRE(c.log_artifact_bytes(run, large, "large.dat").ok());
  REQUIRE(c.log_artifact_bytes(run, "{\"k\": 1}", "odd/a+b=c&d@e%f é.json").ok());
  REQUIRE(c.log_artifact_bytes(run, "", "empty.txt").ok());

  CHECK(*c.read_artifact(run, "bin/all bytes.bin") == binary);
  CHECK(*c.read_artifact(run, "large.dat") == large);
  CHECK(*c.read_artifact(run, "odd/a+b=c&d@e%f é.json") == "{\"k\": 1}");
  CHECK(c.read_artifact(run, "empty.txt")->empty());

  // Overwriting is allowed and the last upload wins.
  REQUIRE(c.log_artifact_bytes(run, "v2", "empty.txt").ok());
  CHECK(*c.read_artifact(run, "empty.txt") == "v2");

  auto root = c.list_artifacts(run);
  REQUIRE_MESSAGE(root.ok(), root.status().to_string());
  CHECK(summary(*root) == std::vector<std::string>{"bin/", "empty.txt:2",
                                                   "large.dat:" + std::to_string(large.size()),
                                                   "odd/"});
  CHECK(summary(*c.list_artifacts(run, "odd")) ==
        std::vector<std::string>{"odd/a+b=c&d@e%f é.json:8"});
}

TEST_CASE("artifacts: upload a directory tree and download it back") {
  auto c = test_client();
  auto run = new_run(c, "cpp-artifacts").run_id;
  TempDir src;
  write_file(src.path() + "/MLmodel", "flavors: {}\n");
  write_file(src.path() + "/data/x.csv", "a,b\n1,2\n");
  write_file(src.path() + "/data/nested/deeper/y.bin", all_bytes());
  write_file(src.path() + "/data/nested/z.json", "[]");
  fs::create_symlink(src.path() + "/MLmodel",
                     src.path() + "/MLmodel.link");  // file symlink: followed
  TempDir outside;
  write_file(outside.path() + "/secret.txt", "not part of the tree");
  fs::create_symlink(outside.path(),
                     src.path() + "/linked-dir");  // directory symlink: not followed

  REQUIRE(c.log_artifacts(run, src.path(), "model").ok());

  CHECK(summary(*c.list_artifacts(run)) == std::vector<std::string>{"model/"});
  CHECK(summary(*c.list_artifacts(run, "model")) ==
        std::vector<std::string>{"model/MLmodel:12", "model/MLmodel.link:12", "model/data/"});
  CHECK(summary(*c.list_artifacts(run, "model/data")) ==
        std::vector<std::string>{"model/data/nested/", "model/data/x.csv:8"});
  CHECK(summary(*c.list_artifacts(run, "model/data/nested/")) ==
        std::vector<std::string>{"model/data/nested/deeper/", "model/data/nested/z.json:2"});

  TempDir dst;
  auto whole = c.download_artifacts(run, "", dst.path());
  REQUIRE_MESSAGE(whole.ok(), whole.status().to_string());
  CHECK(*whole == dst.path());
  CHECK(local_tree(dst.path()) == std::vector<std::string>{"model/MLmodel", "model/MLmodel.link",
                                                           "model/data/nested/deeper/y.bin",
                                                           "model/data/nested/z.json",
                                                           "model/data/x.csv"});
  CHECK(read_file(dst.path() + "/model/data/nested/deeper/y.bin") == all_bytes());
  CHECK(read_file(dst.path() + "/model/data/x.csv") == "a,b\n1,2\n");
  CHECK(read_file(dst.path() + "/model/MLmodel.link") == "flavors: {}\n");

  TempDir sub;
  auto nested = c.download_artifacts(run, "model/data/nested", sub.path());
  REQUIRE(nested.ok());
  CHECK(*nested == (fs::path(sub.path()) / "model/data/nested").string());
  CHECK(local_tree(sub.path()) ==
        std::vector<std::string>{"model/data/nested/deeper/y.bin", "model/data/nested/z.json"});

  TempDir one;
  auto file = c.download_artifacts(run, "model/data/x.csv", one.path());
  REQUIRE(file.ok());
  CHECK(*file == (fs::path(one.path()) / "model/data/x.csv").string());
  CHECK(read_file(*file) == "a,b\n1,2\n");
  CHECK(local_tree(one.path()) == std::vector<std::string>{"model/data/x.csv"});
}

TEST_CASE("artifacts: log_artifact puts one file under a directory, or at the root") {
  auto c = test_client();
  auto run = new_run(c, "cpp-artifacts").run_id;
  TempDir src;
  write_file(src.path() + "/metrics.json", "{\"acc\": 0.9}");
  write_file(src.path() + "/notes.txt", "hello");
  REQUIRE(c.log_artifact(run, src.path() + "/metrics.json", "reports/eval").ok());
  REQUIRE(c.log_artifact(run, src.path() + "/notes.txt").ok());
  CHECK(summary(*c.list_artifacts(run)) == std::vector<std::string>{"notes.txt:5", "reports/"});
  CHECK(*c.read_artifact(run, "reports/eval/metrics.json") == "{\"acc\": 0.9}");
  CHECK(*c.read_artifact(run, "notes.txt") == "hello");
}

TEST_CASE("artifacts: the tracking listing and the proxy listing agree") {
  auto c = test_client();
  auto run = new_run(c, "cpp-artifacts").run_id;
  REQUIRE(c.log_artifact_bytes(run, "1", "d/a.txt").ok());
  REQUIRE(c.log_artifact_bytes(run, "22", "d/e/b.txt").ok());
  auto info = c.get_run(run);
  REQUIRE(info.ok());
  for (const char* dir : {"", "d", "d/e"}) {
    CAPTURE(dir);
    auto via_tracking = c.list_artifacts(run, dir);
    auto via_proxy = c.list_artifacts_at(info->info.artifact_uri, dir);
    REQUIRE(via_tracking.ok());
    REQUIRE_MESSAGE(via_proxy.ok(), via_proxy.status().to_string());
    CHECK(summary(*via_tracking) == summary(*via_proxy));
  }
  // A file or a missing path lists as empty on both.
  CHECK(c.list_artifacts(run, "d/a.txt")->empty());
  CHECK(c.list_artifacts_at(info->info.artifact_uri, "d/a.txt")->empty());
  CHECK(c.list_artifacts(run, "nope")->empty());
}

TEST_CASE("artifacts: *_to/_at/_from work on any root, including runs:/ URIs") {
  auto c = test_client();
  auto run = new_run(c, "cpp-artifacts").run_id;
  auto info = c.get_run(run);
  REQUIRE(info.ok());
  const std::string root = info->info.artifact_uri;
  CHECK(root.rfind("mlflow-artifacts:/", 0) == 0);
  auto url = c.artifact_url(root);
  REQUIRE(url.ok());
  CHECK(*url == c.tracking_uri() + "/api/2.0/mlflow-artifacts/artifacts/" + root.substr(18));

  TempDir src;
  write_file(src.path() + "/w/a.txt", "A");
  write_file(src.path() + "/w/b/c.txt", "C");
  write_file(src.path() + "/single.txt", "S");
  REQUIRE(c.upload_artifacts_to(root, src.path() + "/w", "tree").ok());
  REQUIRE(c.upload_artifacts_to(root, src.path() + "/single.txt", "one").ok());
  REQUIRE(c.upload_bytes_to("runs:/" + run + "/via-runs-uri", "R", "r.txt").ok());

  CHECK(summary(*c.list_artifacts_at(root)) ==
        std::vector<std::string>{"one/", "tree/", "via-runs-uri/"});
  CHECK(summary(*c.list_artifacts_at(root, "tree")) ==
        std::vector<std::string>{"tree/a.txt:1", "tree/b/"});
  CHECK(summary(*c.list_artifacts_at("runs:/" + run + "/tree", "b")) ==
        std::vector<std::string>{"b/c.txt:1"});
  CHECK(*c.read_artifact(run, "via-runs-uri/r.txt") == "R");
  CHECK(*c.read_artifact(run, "one/single.txt") == "S");

  TempDir dst;
  auto got = c.download_artifacts_from(root, "tree", dst.path());
  REQUIRE(got.ok());
  CHECK(local_tree(dst.path()) == std::vector<std::string>{"tree/a.txt", "tree/b/c.txt"});
  TempDir dst2;
  auto via_runs = c.download_artifacts_from("runs:/" + run + "/tree", "", dst2.path());
  REQUIRE(via_runs.ok());
  CHECK(*via_runs == dst2.path());
  CHECK(local_tree(dst2.path()) == std::vector<std::string>{"a.txt", "b/c.txt"});
}

TEST_CASE("artifacts: missing artifacts and unknown runs are kNotFound") {
  auto c = test_client();
  auto run = new_run(c, "cpp-artifacts").run_id;
  auto missing = c.read_artifact(run, "nope.txt");
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().error_code() == "RESOURCE_DOES_NOT_EXIST");
  CHECK(missing.status().http_status() == 404);
  TempDir dst;
  auto dl = c.download_artifacts(run, "nope/x.txt", dst.path());
  CHECK(dl.status().code() == StatusCode::kNotFound);
  CHECK(local_tree(dst.path()).empty());
  auto no_run = c.list_artifacts("0123456789abcdef0123456789abcdef");
  CHECK(no_run.status().code() == StatusCode::kNotFound);
  CHECK(c.log_artifact_bytes("0123456789abcdef0123456789abcdef", "x", "a.txt").code() ==
        StatusCode::kNotFound);
}

TEST_CASE("artifacts: traversal attempts are kInvalidArgument and nothing reaches the server") {
  auto c = test_client();
  auto run = new_run(c, "cpp-artifacts").run_id;
  auto info = c.get_run(run);
  REQUIRE(info.ok());
  TempDir src;
  write_file(src.path() + "/f.txt", "x");
  std::vector<mlflow::Status> results = {
      c.log_artifact_bytes(run, "x", "../../escape.txt"),
      c.log_artifact_bytes(run, "x", "/tmp/abs.txt"),
      c.log_artifact(run, src.path() + "/f.txt", "../up"),
      c.log_artifacts(run, src.path(), "a/../../b"),
      c.upload_bytes_to(info->info.artifact_uri, "x", "..\\win.txt"),
      c.upload_artifacts_to(info->info.artifact_uri, src.path(), ".."),
      c.read_artifact(run, "../../../mlflow.db").status(),
      c.list_artifacts(run, "..").status(),
      c.list_artifacts_at(info->info.artifact_uri, "../..").status(),
      c.download_artifacts(run, "x/../../y", src.path()).status(),
      c.download_artifacts_from(info->info.artifact_uri, "/etc", src.path()).status(),
  };
  for (size_t i = 0; i < results.size(); ++i) {
    CAPTURE(i);
    CHECK(results[i].code() == StatusCode::kInvalidArgument);
    CHECK(results[i].http_status() == 0);  // refused before any request
    CHECK(results[i].message().find("artifact path '") != std::string::npos);
  }
  CHECK(c.list_artifacts(run)->empty());
}

TEST_CASE("artifacts: a run whose artifacts live in an unproxied store is kUnimplemented") {
  auto c = test_client();
  auto exp = c.create_experiment(unique_name("cpp-s3-root"), {}, "s3://mlflow-cpp-test-bucket/exp");
  REQUIRE_MESSAGE(exp.ok(), exp.status().to_string());
  auto run = c.create_run({*exp, "s3", std::nullopt, {}});
  REQUIRE(run.ok());
  CHECK(run->info.artifact_uri.rfind("s3://mlflow-cpp-test-bucket/exp/", 0) == 0);
  auto st = c.log_artifact_bytes(run->info.run_id, "x", "a.txt");
  CHECK(st.code() == StatusCode::kUnimplemented);
  CHECK(st.message().find("uses the 's3' store, which the MLflow server does not proxy") !=
        std::string::npos);
  TempDir dst;
  CHECK(c.download_artifacts(run->info.run_id, "", dst.path()).status().code() ==
        StatusCode::kUnimplemented);
}

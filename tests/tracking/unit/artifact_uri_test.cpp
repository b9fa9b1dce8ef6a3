// SPDX-License-Identifier: Apache-2.0
// Artifact URI -> proxy URL mapping, path checks and artifact request shapes (fake transport).
#include "artifact_uri.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "mlflow/client.h"
#include "support/test_support.h"

using mlflow::ClientOptions;
using mlflow::HttpRequest;
using mlflow::HttpResponse;
using mlflow::MlflowClient;
using mlflow::StatusCode;
using mlflow::StatusOr;
using mlflow::testing::FakeClock;
using mlflow::testing::FakeTransport;
using mlflow::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr const char* kRunJson =
    R"({"run":{"info":{"run_id":"r1","experiment_id":"7","artifact_uri":"mlflow-artifacts:/7/r1/artifacts"}}})";

struct Fixture {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  MlflowClient make(const std::string& uri = "http://h:5000") {
    ClientOptions o;
    o.tracking_uri = uri;
    o.retry.max_retries = 0;
    auto c = MlflowClient::make(o, {transport, std::make_shared<FakeClock>(), [] { return 0.0; }});
    REQUIRE(c.ok());
    return *c;
  }
};

HttpResponse respond(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string url_of(MlflowClient& c, const std::string& uri) {
  auto u = c.artifact_url(uri);
  REQUIRE_MESSAGE(u.ok(), u.status().to_string());
  return *u;
}

}  // namespace

TEST_CASE("artifact_url: mlflow-artifacts URIs map onto the tracking server's artifact proxy") {
  Fixture f;
  auto c = f.make("http://h:5000");
  CHECK(url_of(c, "mlflow-artifacts:/1/abc/artifacts") ==
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts");
  CHECK(url_of(c, "mlflow-artifacts:/1/models/m-1/artifacts/") ==
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/models/m-1/artifacts");
  CHECK(url_of(c, "mlflow-artifacts:///1//abc") ==
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/abc");
  CHECK(url_of(c, "mlflow-artifacts:/") == "http://h:5000/api/2.0/mlflow-artifacts/artifacts");
  CHECK(url_of(c, "mlflow-artifacts:/my exp/a+b") ==
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts/my%20exp/a%2Bb");
  // Already-encoded URIs are not encoded twice.
  CHECK(url_of(c, "mlflow-artifacts:/my%20exp") ==
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts/my%20exp");
  CHECK(f.transport->requests().empty());
}

TEST_CASE(
    "artifact_url: the tracking URI's scheme and path prefix are kept, a netloc in the URI wins") {
  Fixture f;
  auto c = f.make("https://user:pw@track.example/mlflow/");
  CHECK(url_of(c, "mlflow-artifacts:/1/abc/artifacts") ==
        "https://track.example/mlflow/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts");
  CHECK(url_of(c, "mlflow-artifacts://other.example:7000/1/abc") ==
        "https://other.example:7000/mlflow/api/2.0/mlflow-artifacts/artifacts/1/abc");
  CHECK(url_of(c, "mlflow-artifacts://[::1]:7000/1") ==
        "https://[::1]:7000/mlflow/api/2.0/mlflow-artifacts/artifacts/1");
}

TEST_CASE("artifact_url: a numeric host without a port is rejected") {
  Fixture f;
  auto c = f.make();
  auto u = c.artifact_url("mlflow-artifacts://5000/1/abc");
  CHECK(u.status().code() == StatusCode::kInvalidArgument);
  CHECK(u.status().message().find("port number (5000) but no host") != std::string::npos);
}

TEST_CASE("artifact_url: http(s) roots are used as they are") {
  Fixture f;
  auto c = f.make();
  CHECK(url_of(c, "http://store.example:8080/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/") ==
        "http://store.example:8080/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts");
  CHECK(url_of(c, "https://files.example/some/root") == "https://files.example/some/root");
}

TEST_CASE("artifact_url: stores the server does not proxy are kUnimplemented") {
  Fixture f;
  auto c = f.make();
  for (const char* uri :
       {"s3://bucket/1/abc/artifacts", "gs://bucket/x", "file:///tmp/mlruns/1/abc",
        "wasbs://c@acct.blob.core.windows.net/x", "hdfs://nn:8020/x"}) {
    CAPTURE(uri);
    auto u = c.artifact_url(uri);
    CHECK(u.status().code() == StatusCode::kUnimplemented);
    CHECK(u.status().message().find("does not proxy") != std::string::npos);
  }
  auto local = c.artifact_url("/srv/mlruns/1/abc/artifacts");
  CHECK(local.status().code() == StatusCode::kUnimplemented);
  CHECK(local.status().message().find("local path") != std::string::npos);
}

TEST_CASE(
    "artifact_url: runs:/ and models:/ URIs must be resolved first, junk is kInvalidArgument") {
  Fixture f;
  auto c = f.make();
  auto runs = c.artifact_url("runs:/abc/model");
  CHECK(runs.status().code() == StatusCode::kInvalidArgument);
  CHECK(runs.status().message().find("names artifacts indirectly") != std::string::npos);
  CHECK(c.artifact_url("models:/m-123").status().code() == StatusCode::kInvalidArgument);
  CHECK(c.artifact_url("").status().code() == StatusCode::kInvalidArgument);
  CHECK(c.artifact_url("no-scheme/path").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("artifact paths: normalised, traversal refused") {
  using mlflow::detail::normalize_artifact_path;
  CHECK(*normalize_artifact_path("") == "");
  CHECK(*normalize_artifact_path("a/./b//c/") == "a/b/c");
  CHECK(*normalize_artifact_path("./x") == "x");
  for (const char* bad : {"/etc/passwd", "..", "../x", "a/../../b", "a/..", "a\\b", "C:/x"}) {
    CAPTURE(bad);
    auto p = normalize_artifact_path(bad);
    CHECK(p.status().code() == StatusCode::kInvalidArgument);
    CHECK(p.status().message().find("artifact path '" + std::string(bad) + "' must") == 0);
  }
  auto hash = normalize_artifact_path("a#b.txt", "name of a local file");
  CHECK(hash.status().code() == StatusCode::kInvalidArgument);
  CHECK(hash.status().message() ==
        "name of a local file: artifact path 'a#b.txt' contains '#', which the MLflow server "
        "refuses");
}

TEST_CASE("artifact paths: server-listed paths must stay inside the listed directory") {
  using mlflow::detail::checked_listed_path;
  CHECK(*checked_listed_path("a", "b.txt", true) == "a/b.txt");
  CHECK(*checked_listed_path("", "b.txt", true) == "b.txt");
  CHECK(*checked_listed_path("a", "a/b.txt", false) == "a/b.txt");
  CHECK(*checked_listed_path("", "a/b.txt", false) == "a/b.txt");
  for (auto [dir, listed_path, rel] :
       {std::tuple{"a", "../x", true}, std::tuple{"a", "/etc/x", true}, std::tuple{"a", "", true},
        std::tuple{"a", "ab/x", false}, std::tuple{"a", "a", false},
        std::tuple{"a", "a/../../x", false}, std::tuple{"", ".", true}}) {
    // A copy for CAPTURE, whose lambda may not capture a structured binding in C++17 (clang
    // refuses).
    const char* listed = listed_path;
    CAPTURE(listed);
    auto p = checked_listed_path(dir, listed, rel);
    CHECK(p.status().code() == StatusCode::kInternal);
    CHECK(p.status().message().find("unsafe artifact path") != std::string::npos);
  }
}

TEST_CASE("artifacts: traversal in any artifact path is kInvalidArgument and sends nothing") {
  Fixture f;
  auto c = f.make();
  TempDir tmp;
  mlflow::testing::write_file(tmp.path() + "/f.txt", "x");
  const std::string root = "mlflow-artifacts:/7/r1/artifacts";
  std::vector<mlflow::Status> results = {
      c.log_artifact_bytes("r1", "x", "../evil.txt"),
      c.log_artifact_bytes("r1", "x", "/abs.txt"),
      c.log_artifact("r1", tmp.path() + "/f.txt", "a/../../b"),
      c.log_artifacts("r1", tmp.path(), ".."),
      c.list_artifacts("r1", "../other-run").status(),
      c.read_artifact("r1", "a/../../../etc/passwd").status(),
      c.download_artifacts("r1", "../x", tmp.path()).status(),
      c.upload_artifacts_to(root, tmp.path(), "x/../.."),
      c.upload_bytes_to(root, "x", "..\\evil"),
      c.list_artifacts_at(root, "/").status(),
      c.download_artifacts_from(root, "..", tmp.path()).status(),
      c.list_logged_model_artifacts("m-1", "../../x").status(),
  };
  for (size_t i = 0; i < results.size(); ++i) {
    CAPTURE(i);
    CHECK(results[i].code() == StatusCode::kInvalidArgument);
    CHECK(results[i].message().find("artifact") != std::string::npos);
  }
  CHECK(f.transport->requests().empty());
}

TEST_CASE("artifacts: log_artifact_bytes PUTs to the run's proxied root with encoded segments") {
  Fixture f;
  auto c = f.make();
  f.transport->push(200, kRunJson);
  f.transport->push(200, "");  // the real server answers a PUT with an empty body
  REQUIRE(c.log_artifact_bytes("r1", "{\"a\":1}", "dir one/./m+1.json").ok());
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[0].url == "http://h:5000/api/2.0/mlflow/runs/get?run_id=r1");
  CHECK(reqs[1].method == "PUT");
  CHECK(reqs[1].url ==
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts/7/r1/artifacts/dir%20one/m%2B1.json");
  CHECK(reqs[1].body == "{\"a\":1}");
  bool typed = false;
  for (const auto& [k, v] : reqs[1].headers)
    typed |= k == "Content-Type" && v == "application/json";
  CHECK(typed);
}

TEST_CASE("artifacts: a directory tree is uploaded one PUT per file, symlinked dirs not followed") {
  Fixture f;
  auto c = f.make();
  TempDir tmp;
  const std::string src = tmp.path() + "/src";
  mlflow::testing::write_file(src + "/a.txt", "A");
  mlflow::testing::write_file(src + "/sub/deep/b.bin", "B");
  mlflow::testing::write_file(tmp.path() + "/outside/secret.txt", "S");
  fs::create_symlink(tmp.path() + "/outside", src + "/linkdir");
  fs::create_symlink(src + "/a.txt", src + "/link.txt");
  f.transport->set_handler([](const HttpRequest& r) -> StatusOr<HttpResponse> {
    if (r.method == "GET") return respond(200, kRunJson);
    return respond(200, "");
  });
  REQUIRE(c.log_artifacts("r1", src, "model").ok());
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 4);  // get_run + 3 files
  const std::string base = "http://h:5000/api/2.0/mlflow-artifacts/artifacts/7/r1/artifacts/model/";
  CHECK(reqs[1].url == base + "a.txt");
  CHECK(reqs[1].body == "A");
  CHECK(reqs[2].url == base + "link.txt");
  CHECK(reqs[2].body == "A");
  CHECK(reqs[3].url == base + "sub/deep/b.bin");
  CHECK(reqs[3].body == "B");
}

TEST_CASE("artifacts: local problems are reported before anything is sent") {
  Fixture f;
  auto c = f.make();
  TempDir tmp;
  auto missing = c.log_artifact("r1", tmp.path() + "/nope.txt");
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(missing.message().find("does not exist") != std::string::npos);
  auto dir_as_file = c.log_artifact("r1", tmp.path());
  CHECK(dir_as_file.code() == StatusCode::kInvalidArgument);
  CHECK(dir_as_file.message().find("use log_artifacts") != std::string::npos);
  mlflow::testing::write_file(tmp.path() + "/d/ok.txt", "x");
  fs::create_symlink(tmp.path() + "/gone", tmp.path() + "/d/dangling");
  auto dangling = c.log_artifacts("r1", tmp.path() + "/d");
  CHECK(dangling.code() == StatusCode::kNotFound);
  CHECK(dangling.message().find("dangling symlink") != std::string::npos);
  CHECK(c.log_artifact_bytes("r1", "x", "").code() == StatusCode::kInvalidArgument);
  CHECK(c.log_artifact_bytes("r1", "x", "dir/").code() == StatusCode::kInvalidArgument);
  CHECK(f.transport->requests().empty());
}

TEST_CASE(
    "artifacts: a hostile listing cannot make a download write outside the target directory") {
  Fixture f;
  auto c = f.make();
  TempDir tmp;
  f.transport->set_handler([](const HttpRequest& r) -> StatusOr<HttpResponse> {
    if (r.url.find("/runs/get") != std::string::npos) return respond(200, kRunJson);
    if (r.url.find("?path=") != std::string::npos) {
      return respond(200,
                     R"({"files":[{"path":"../../escaped.txt","is_dir":false,"file_size":1}]})");
    }
    return respond(200, "x");
  });
  auto r = c.download_artifacts("r1", "", tmp.path() + "/out");
  CHECK(r.status().code() == StatusCode::kInternal);
  CHECK(r.status().message().find("unsafe artifact path '../../escaped.txt'") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path() + "/escaped.txt"));
  CHECK_FALSE(fs::exists(fs::path(tmp.path()).parent_path() / "escaped.txt"));
}

TEST_CASE("artifacts: a tree download mirrors paths and leaves no temporary files") {
  Fixture f;
  auto c = f.make();
  TempDir tmp;
  f.transport->set_handler([](const HttpRequest& r) -> StatusOr<HttpResponse> {
    const std::string& u = r.url;
    if (u.find("/runs/get") != std::string::npos) return respond(200, kRunJson);
    if (u.find("?path=7%2Fr1%2Fartifacts%2Fm%2Fsub") != std::string::npos) {
      return respond(200, R"({"files":[{"path":"c.txt","is_dir":false,"file_size":1}]})");
    }
    if (u.find("?path=7%2Fr1%2Fartifacts%2Fm") != std::string::npos) {
      return respond(200, R"({"files":[{"path":"b.txt","is_dir":false,"file_size":2},
                                       {"path":"sub","is_dir":true}]})");
    }
    if (u.find("?path=") != std::string::npos) return respond(200, "{}");  // unknown path: empty
    if (u.size() > 6 && u.compare(u.size() - 6, 6, "/b.txt") == 0) return respond(200, "BB");
    if (u.size() > 6 && u.compare(u.size() - 6, 6, "/c.txt") == 0) return respond(200, "C");
    return respond(404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"No such artifact"})");
  });
  auto local = c.download_artifacts("r1", "m", tmp.path());
  REQUIRE_MESSAGE(local.ok(), local.status().to_string());
  CHECK(*local == (fs::path(tmp.path()) / "m").string());
  CHECK(mlflow::testing::read_file(tmp.path() + "/m/b.txt") == "BB");
  CHECK(mlflow::testing::read_file(tmp.path() + "/m/sub/c.txt") == "C");
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(tmp.path())) {
    if (e.is_regular_file()) ++files;
  }
  CHECK(files == 2);

  auto missing = c.download_artifacts("r1", "nope.txt", tmp.path());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK_FALSE(fs::exists(tmp.path() + "/nope.txt"));
}

TEST_CASE(
    "artifacts: listing a root outside the proxy is kUnimplemented, its files can still be read") {
  Fixture f;
  auto c = f.make();
  auto l = c.list_artifacts_at("https://files.example/root", "");
  CHECK(l.status().code() == StatusCode::kUnimplemented);
  CHECK(f.transport->requests().empty());
  TempDir tmp;
  f.transport->push(200, "data");
  auto got = c.download_artifacts_from("https://files.example/root", "x/y.bin", tmp.path());
  REQUIRE(got.ok());
  CHECK(f.transport->requests().back().url == "https://files.example/root/x/y.bin");
  CHECK(mlflow::testing::read_file(tmp.path() + "/x/y.bin") == "data");
}

TEST_CASE("artifacts: runs:/ roots are resolved through get_run") {
  Fixture f;
  auto c = f.make();
  f.transport->push(200, kRunJson);
  f.transport->push(200, R"({"files":[{"path":"MLmodel","is_dir":false,"file_size":3}]})");
  auto l = c.list_artifacts_at("runs:/r1/model", "");
  REQUIRE_MESSAGE(l.ok(), l.status().to_string());
  REQUIRE(l->size() == 1);
  CHECK((*l)[0].path == "MLmodel");
  CHECK(f.transport->requests()[1].url ==
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts?path=7%2Fr1%2Fartifacts%2Fmodel");
}

TEST_CASE("artifacts: the guessed Content-Type follows the extension") {
  using mlflow::detail::guess_content_type;
  CHECK(guess_content_type("a/b.TXT") == "text/plain");
  CHECK(guess_content_type("x.json") == "application/json");
  CHECK(guess_content_type("img.png") == "image/png");
  CHECK(guess_content_type("MLmodel") == "application/octet-stream");
  CHECK(guess_content_type("weights.pt") == "application/octet-stream");
  CHECK(guess_content_type(".hidden") == "application/octet-stream");
}

TEST_CASE("artifacts: a download that cannot be written locally is kFailedPrecondition") {
  Fixture f;
  auto c = f.make();
  TempDir tmp;
  mlflow::testing::write_file(tmp.path() + "/blocker", "a file where a directory is needed");
  f.transport->set_handler([](const HttpRequest& r) -> StatusOr<HttpResponse> {
    if (r.url.find("/runs/get") != std::string::npos) return respond(200, kRunJson);
    if (r.url.find("?path=") != std::string::npos) return respond(200, "{}");
    return respond(200, "bytes");
  });
  auto r = c.download_artifacts("r1", "sub/x.txt", tmp.path() + "/blocker");
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK(r.status().message().find("cannot create local directory '" + tmp.path() +
                                  "/blocker/sub'") == 0);
  CHECK(mlflow::testing::read_file(tmp.path() + "/blocker") ==
        "a file where a directory is needed");
}

// SPDX-License-Identifier: Apache-2.0
// Runs the built mlflowctl against the test server; checks exit codes, output and effects.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/test_support.h"

using mlflow::StatusCode;
using mlflow::testing::read_file;
using mlflow::testing::server_url;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;
using nlohmann::json;

namespace {

namespace fs = std::filesystem;

using CtlResult = mlflow::testing::ProcessResult;

/// Runs mlflowctl with `args`, MLFLOW_TRACKING_URI set to `tracking_uri` and one retry at most.
CtlResult run_ctl_at(const std::string& tracking_uri, const std::vector<std::string>& args) {
  return mlflow::testing::run_process(
      MLFLOWCTL_PATH, args,
      {"MLFLOW_TRACKING_URI=" + tracking_uri, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1",
       "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=0.1"});
}

CtlResult run_ctl(const std::vector<std::string>& args) { return run_ctl_at(server_url(), args); }

/// Output of a command that must succeed, parsed as JSON.
json run_json(std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  CtlResult r = run_ctl(args);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

/// One "mlflowctl: error: ..." line and nothing else on stderr.
void check_one_error_line(const CtlResult& r) {
  INFO("stderr: " << r.err);
  CHECK(r.err.rfind("mlflowctl: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

std::string new_run(const std::string& experiment_prefix = "ctl") {
  auto c = test_client();
  auto exp = c.create_experiment(unique_name(experiment_prefix));
  REQUIRE_MESSAGE(exp.ok(), exp.status().to_string());
  mlflow::MlflowClient::RunCreate create;
  create.experiment_id = *exp;
  auto run = c.create_run(create);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  return run->info.run_id;
}

/// A loopback port nothing listens on (bound, then released).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("mlflowctl: --help and --version exit 0 everywhere") {
  auto top = run_ctl({"--help"});
  CHECK(top.exit_code == 0);
  for (const char* group :
       {"experiments", "runs", "artifacts", "models", "--tracking-uri", "--json"}) {
    CHECK_MESSAGE(top.out.find(group) != std::string::npos, group);
  }
  auto leaf = run_ctl({"runs", "log-metric", "--help"});
  CHECK(leaf.exit_code == 0);
  CHECK(leaf.out.find("RUN_ID") != std::string::npos);
  CHECK(leaf.out.find("--step") != std::string::npos);
  CHECK(run_ctl({"models", "--help"}).exit_code == 0);
  auto version = run_ctl({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("mlflowctl ", 0) == 0);
}

TEST_CASE("mlflowctl: sync --help documents --force and the rejected file, a bad path exits 2") {
  auto help = run_ctl({"sync", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--force") != std::string::npos);
  CHECK(help.out.find("another server") != std::string::npos);
  CHECK(help.out.find("rejected-<session>.jsonl") != std::string::npos);
  TempDir dir;
  auto missing = run_ctl({"sync", dir.path() + "/none", "--to", server_url()});
  CHECK(missing.exit_code == 2);
  check_one_error_line(missing);
  CHECK(missing.err.find(dir.path() + "/none") != std::string::npos);
}

TEST_CASE("mlflowctl: bad usage exits 2 with one error line") {
  SUBCASE("no command") {
    auto r = run_ctl({});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
  }
  SUBCASE("unknown command") {
    auto r = run_ctl({"runs", "frobnicate"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
    CHECK(r.err.find("frobnicate") != std::string::npos);
  }
  SUBCASE("missing argument names the command") {
    auto r = run_ctl({"runs", "log-param", "abc", "lr"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
    CHECK(r.err.find("VALUE") != std::string::npos);
    CHECK(r.err.find("mlflowctl runs log-param --help") != std::string::npos);
  }
  SUBCASE("bad option value") {
    auto r = run_ctl({"experiments", "list", "--max", "0"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
  }
  SUBCASE("runs search without an experiment") {
    auto r = run_ctl({"runs", "search"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
    CHECK(r.err.find("--experiment") != std::string::npos);
  }
}

TEST_CASE("mlflowctl: bad input is rejected client-side with exit 2 and nothing is logged") {
  std::string run_id = new_run();
  SUBCASE("a bad param key") {
    auto r = run_ctl({"runs", "log-param", run_id, "bad key!", "1"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
    CHECK(r.err.find("bad key!") != std::string::npos);
  }
  SUBCASE("a metric value that is not a number") {
    auto r = run_ctl({"runs", "log-metric", run_id, "loss", "abc"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
    CHECK(r.err.find("'abc'") != std::string::npos);
    CHECK(r.err.find("loss") != std::string::npos);
  }
  SUBCASE("a tag given without '='") {
    auto r = run_ctl({"experiments", "create", unique_name("ctl-bad"), "--tag", "novalue"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
    CHECK(r.err.find("novalue") != std::string::npos);
  }
  auto run = test_client().get_run(run_id);
  REQUIRE(run.ok());
  CHECK(run->data.params.empty());
  CHECK(run->data.metrics.empty());
}

TEST_CASE("mlflowctl: experiments create, then list and search find it") {
  std::string name = unique_name("ctl-exp");
  auto created = run_json({"experiments", "create", name, "--tag", "team=vision"});
  std::string id = created.at("experiment_id").get<std::string>();
  CHECK(created.at("name") == name);

  auto c = test_client();
  auto exp = c.get_experiment(id);
  REQUIRE(exp.ok());
  CHECK(exp->name == name);
  CHECK(mlflow::find_value(exp->tags, "team") == "vision");

  auto found = run_json({"experiments", "search", "--filter", "name = '" + name + "'"});
  REQUIRE(found.size() == 1);
  CHECK(found[0].at("experiment_id") == id);
  CHECK(found[0].at("tags").at("team") == "vision");

  auto table = run_ctl({"experiments", "list", "--filter", "name = '" + name + "'"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.rfind("ID", 0) == 0);
  CHECK(table.out.find(name) != std::string::npos);

  auto again = run_ctl({"experiments", "create", name});
  CHECK(again.exit_code == 1);
  check_one_error_line(again);
  CHECK(again.err.find(name) != std::string::npos);
}

TEST_CASE("mlflowctl: log a param, metric and tag, then read them back") {
  std::string run_id = new_run();
  auto p = run_ctl({"runs", "log-param", run_id, "lr", "0.01"});
  INFO("stderr: " << p.err);
  CHECK(p.exit_code == 0);
  CHECK(run_ctl({"runs", "log-metric", run_id, "loss", "0.25", "--step", "3"}).exit_code == 0);
  CHECK(run_ctl({"runs", "log-metric", run_id, "loss", "-1.5", "--step", "4"}).exit_code == 0);
  CHECK(run_ctl({"runs", "set-tag", run_id, "stage", "search"}).exit_code == 0);

  auto c = test_client();
  auto run = c.get_run(run_id);
  REQUIRE(run.ok());
  CHECK(run->data.params.size() == 1);
  CHECK(run->data.params.at(0).key == "lr");
  CHECK(run->data.params.at(0).value == "0.01");
  CHECK(mlflow::find_value(run->data.tags, "stage") == "search");
  auto history = c.get_metric_history(run_id, "loss");
  REQUIRE(history.ok());
  REQUIRE(history->size() == 2);
  std::sort(history->begin(), history->end(),
            [](const mlflow::Metric& a, const mlflow::Metric& b) { return a.step < b.step; });
  CHECK(history->at(0).value == doctest::Approx(0.25));
  CHECK(history->at(0).step == 3);
  CHECK(history->at(1).value == doctest::Approx(-1.5));

  auto shown = run_json({"runs", "show", run_id});
  CHECK(shown.at("info").at("run_id") == run_id);
  CHECK(shown.at("data").at("params").at("lr") == "0.01");
  CHECK(shown.at("data").at("metrics").at("loss").at("step") == 4);
  CHECK(shown.at("data").at("metrics").at("loss").at("value") == doctest::Approx(-1.5));
  CHECK(shown.at("data").at("tags").at("stage") == "search");

  auto human = run_ctl({"runs", "show", run_id});
  CHECK(human.exit_code == 0);
  CHECK(human.out.find("Run ID:") != std::string::npos);
  CHECK(human.out.find("Params (1)") != std::string::npos);
  CHECK(human.out.find("\nKEY  VALUE\n---  -----\nlr    0.01\n") != std::string::npos);

  // A param cannot change: the server refuses, which is a server-side error (exit 1).
  auto changed = run_ctl({"runs", "log-param", run_id, "lr", "0.02"});
  CHECK(changed.exit_code == 1);
  check_one_error_line(changed);
  CHECK(changed.err.find("lr") != std::string::npos);
}

TEST_CASE("mlflowctl: runs create, search by experiment name, and end") {
  std::string experiment = unique_name("ctl-search");
  auto first = run_ctl({"runs", "create", "--experiment", experiment, "--name", "first"});
  INFO("stderr: " << first.err);
  REQUIRE(first.exit_code == 0);
  std::string first_id = first.out.substr(0, first.out.find('\n'));
  auto second = run_json({"runs", "create", "--experiment", experiment, "--name", "second"});
  std::string second_id = second.at("run_id").get<std::string>();

  auto all = run_json({"runs", "search", "--experiment", experiment});
  REQUIRE(all.size() == 2);
  std::vector<std::string> ids{all[0].at("info").at("run_id"), all[1].at("info").at("run_id")};
  CHECK(std::count(ids.begin(), ids.end(), first_id) == 1);
  CHECK(std::count(ids.begin(), ids.end(), second_id) == 1);

  auto one = run_json({"runs", "search", "--experiment", experiment, "--max", "1"});
  CHECK(one.size() == 1);
  auto filtered = run_json(
      {"runs", "search", "--experiment", experiment, "--filter", "attributes.run_name = 'second'"});
  REQUIRE(filtered.size() == 1);
  CHECK(filtered[0].at("info").at("run_id") == second_id);

  auto ended = run_ctl({"runs", "end", first_id, "--status", "KILLED"});
  CHECK(ended.exit_code == 0);
  auto run = test_client().get_run(first_id);
  REQUIRE(run.ok());
  CHECK(run->info.status == mlflow::RunStatus::kKilled);

  auto missing = run_ctl({"runs", "search", "--experiment", unique_name("ctl-missing")});
  CHECK(missing.exit_code == 1);
  check_one_error_line(missing);
  CHECK(missing.err.find("ctl-missing") != std::string::npos);
}

TEST_CASE("mlflowctl: upload, list and download a small tree") {
  std::string run_id = new_run();
  TempDir src;
  write_file(src.path() + "/tree/a.txt", "alpha");
  write_file(src.path() + "/tree/sub/b.txt", "bravo!");
  write_file(src.path() + "/single.json", "{}");

  auto up =
      run_ctl({"artifacts", "upload", run_id, src.path() + "/tree", "--artifact-path", "data"});
  INFO("stderr: " << up.err);
  REQUIRE(up.exit_code == 0);
  CHECK(up.out.find("2 files") != std::string::npos);
  REQUIRE(run_ctl({"artifacts", "upload", run_id, src.path() + "/single.json"}).exit_code == 0);

  auto listed = run_json({"artifacts", "list", run_id, "--recursive"});
  std::vector<std::string> files;
  for (const auto& f : listed) {
    if (!f.at("is_dir").get<bool>()) files.push_back(f.at("path"));
  }
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"data/a.txt", "data/sub/b.txt", "single.json"});
  for (const auto& f : listed) {
    if (f.at("path") == "data/sub/b.txt") CHECK(f.at("file_size") == 6);
  }

  auto top = run_ctl({"artifacts", "ls", run_id});
  CHECK(top.exit_code == 0);
  CHECK(top.out.find("data/") != std::string::npos);
  CHECK(top.out.find("single.json") != std::string::npos);
  CHECK(top.out.find("sub") == std::string::npos);

  TempDir dest;
  auto down = run_ctl({"artifacts", "download", run_id, "data", "--dest", dest.path() + "/out"});
  INFO("stderr: " << down.err);
  REQUIRE(down.exit_code == 0);
  CHECK(read_file(dest.path() + "/out/data/a.txt") == "alpha");
  CHECK(read_file(dest.path() + "/out/data/sub/b.txt") == "bravo!");

  auto one =
      run_json({"artifacts", "download", run_id, "data/sub/b.txt", "--dest", dest.path() + "/one"});
  CHECK(read_file(one.at("local_path").get<std::string>()) == "bravo!");
}

TEST_CASE(
    "mlflowctl: an artifact path with '..' or a missing local file exits 2 and uploads nothing") {
  std::string run_id = new_run();
  TempDir src;
  write_file(src.path() + "/f.txt", "x");
  SUBCASE("'..' in --artifact-path") {
    auto r = run_ctl(
        {"artifacts", "upload", run_id, src.path() + "/f.txt", "--artifact-path", "a/../../b"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
    CHECK(r.err.find("'..'") != std::string::npos);
    CHECK(r.err.find("a/../../b") != std::string::npos);
  }
  SUBCASE("a missing local file") {
    auto r = run_ctl({"artifacts", "upload", run_id, src.path() + "/nope.txt"});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
    CHECK(r.err.find("nope.txt") != std::string::npos);
  }
  SUBCASE("'..' in a download path") {
    TempDir dest;
    auto r = run_ctl({"artifacts", "download", run_id, "../x", "--dest", dest.path()});
    CHECK(r.exit_code == 2);
    check_one_error_line(r);
  }
  auto listed = test_client().list_artifacts(run_id);
  REQUIRE_MESSAGE(listed.ok(), listed.status().to_string());
  CHECK(listed->empty());
}

TEST_CASE("mlflowctl: create a model version, then set and get an alias") {
  std::string run_id = new_run();
  std::string model = unique_name("ctl-model");
  auto v1 = run_json({"models", "create-version", model, "--source", "runs:/" + run_id + "/model",
                      "--run-id", run_id});
  CHECK(v1.at("name") == model);
  CHECK(v1.at("version") == "1");
  CHECK(v1.at("run_id") == run_id);
  // The model exists now; a second version goes to the same model.
  auto v2 = run_ctl({"models", "create-version", model, "--source", "runs:/" + run_id + "/model"});
  INFO("stderr: " << v2.err);
  REQUIRE(v2.exit_code == 0);
  CHECK(v2.out.find("Created version 2 of registered model '" + model + "'") != std::string::npos);
  auto v2_read = test_client().get_model_version(model, "2");
  REQUIRE_MESSAGE(v2_read.ok(), v2_read.status().to_string());
  CHECK(v2_read->run_id == run_id);  // taken from the runs:/ source

  auto set = run_ctl({"models", "set-alias", model, "champion", "1"});
  INFO("stderr: " << set.err);
  REQUIRE(set.exit_code == 0);
  auto got = run_json({"models", "get-alias", model, "champion"});
  CHECK(got.at("version") == "1");
  CHECK(got.at("source") == "runs:/" + run_id + "/model");
  auto human = run_ctl({"models", "get-alias", model, "champion"});
  CHECK(human.exit_code == 0);
  CHECK(human.out.find("champion") != std::string::npos);

  auto via_client = test_client().get_model_version_by_alias(model, "champion");
  REQUIRE_MESSAGE(via_client.ok(), via_client.status().to_string());
  CHECK(via_client->version == "1");

  auto unknown = run_ctl({"models", "get-alias", model, "nosuchalias"});
  CHECK(unknown.exit_code == 1);
  check_one_error_line(unknown);
  CHECK(unknown.err.find("nosuchalias") != std::string::npos);
}

TEST_CASE("mlflowctl: an unknown run id exits 1 with a clear message") {
  const std::string missing = "0123456789abcdef0123456789abcdef";
  auto show = run_ctl({"runs", "show", missing});
  CHECK(show.exit_code == 1);
  check_one_error_line(show);
  CHECK(show.err.find(missing) != std::string::npos);
  CHECK(show.err.find("RESOURCE_DOES_NOT_EXIST") != std::string::npos);
  CHECK(show.out.empty());

  auto log = run_ctl({"runs", "log-param", missing, "lr", "1"});
  CHECK(log.exit_code == 1);
  check_one_error_line(log);
  CHECK(log.err.find(missing) != std::string::npos);
}

TEST_CASE("mlflowctl: an unreachable server exits 1 naming it, without credentials") {
  std::string host_port = "127.0.0.1:" + std::to_string(closed_port());
  auto r =
      run_ctl_at("http://alice:s3cr3t@" + host_port, {"--max-retries", "0", "experiments", "list"});
  CHECK(r.exit_code == 1);
  check_one_error_line(r);
  CHECK(r.err.find(host_port) != std::string::npos);
  CHECK(r.err.find("s3cr3t") == std::string::npos);

  // --tracking-uri overrides the environment.
  auto flag = run_ctl_at(server_url(), {"--tracking-uri", "http://" + host_port, "--max-retries",
                                        "0", "experiments", "list"});
  CHECK(flag.exit_code == 1);
  CHECK(flag.err.find(host_port) != std::string::npos);

  auto scheme = run_ctl_at("ftp://example.com", {"experiments", "list"});
  CHECK(scheme.exit_code == 2);
  check_one_error_line(scheme);
  CHECK(scheme.err.find("ftp") != std::string::npos);
}

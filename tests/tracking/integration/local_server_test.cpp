// SPDX-License-Identifier: Apache-2.0
// Local mode against the real MLflow server: URI rules, startup failures, sharing and stopping the
// server.
#include "mlflow/local_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using mlflow::StatusCode;
using mlflow::testing::read_file;
using mlflow::testing::TempDir;
using mlflow::testing::write_file;

mlflow::LocalServerOptions in_dir(const std::string& dir) {
  mlflow::LocalServerOptions local;
  local.working_dir = dir;
  return local;
}

mlflow::ClientOptions with_uri(const std::string& uri) {
  mlflow::ClientOptions o;
  o.tracking_uri = uri;
  return o;
}

// Sets an environment variable for one scope, restoring the previous value afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

std::string write_script(const std::string& path, const std::string& body) {
  write_file(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
  return path;
}

// The server.json files local mode wrote under `dir`.
std::vector<std::string> state_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir + "/.mlflow-cpp", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (fs::exists(it->path() / "server.json"))
      out.push_back((it->path() / "server.json").string());
  }
  return out;
}

bool pid_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  // A zombie (exited, not yet reaped by its new parent) is gone for our purposes.
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

bool wait_gone(pid_t pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pid_gone(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// Stops a process group at the end of a scope (the `mlflow ui` server, or a local server left
// running when a check failed halfway): SIGTERM, then SIGKILL after 15 s.
struct GroupGuard {
  pid_t pgid = 0;
  ~GroupGuard() {
    if (pgid <= 0) return;
    auto group_gone = [this] {
      ::waitpid(pgid, nullptr, WNOHANG);  // reaps the leader when it is our child
      return ::kill(-pgid, 0) != 0 && errno == ESRCH;
    };
    if (group_gone()) return;
    ::kill(-pgid, SIGTERM);
    for (int i = 0; i < 150 && !group_gone(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!group_gone()) ::kill(-pgid, SIGKILL);
  }
};

// A forked process that runs `body`, reports its one-line result, then waits for the word to exit
// normally (std::exit, so local mode's at-exit release runs as in a real program).
class Child {
 public:
  explicit Child(const std::function<std::string()>& body) {
    int report[2], go[2];
    REQUIRE(::pipe(report) == 0);
    REQUIRE(::pipe(go) == 0);
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(report[0]);
      ::close(go[1]);
      std::string line;
      try {
        line = body();
      } catch (const std::exception& e) {
        line = std::string("exception ") + e.what();
      }
      line += "\n";
      ssize_t ignored = ::write(report[1], line.data(), line.size());
      (void)ignored;
      char c;
      ignored = ::read(go[0], &c, 1);
      std::exit(0);
    }
    ::close(report[1]);
    ::close(go[0]);
    report_fd_ = report[0];
    go_fd_ = go[1];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { finish(); }

  pid_t pid() const { return pid_; }

  /// The child's report; empty when it sent none within `limit`.
  std::string report(std::chrono::seconds limit) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (line.empty() || line.back() != '\n') {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      pollfd p{report_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      ssize_t n = ::read(report_fd_, buf, sizeof(buf));
      if (n <= 0) return line;
      line.append(buf, static_cast<size_t>(n));
    }
    line.pop_back();
    return line;
  }

  /// Tells the child to exit and returns its wait status.
  int finish() {
    if (pid_ <= 0) return exit_status_;
    if (::waitpid(pid_, &exit_status_, WNOHANG) == 0) {
      // A child that died meanwhile must not turn this write into a SIGPIPE for the test process.
      auto old = ::signal(SIGPIPE, SIG_IGN);
      ssize_t ignored = ::write(go_fd_, "x", 1);
      (void)ignored;
      ::signal(SIGPIPE, old);
      ::waitpid(pid_, &exit_status_, 0);
    }
    ::close(go_fd_);
    ::close(report_fd_);
    pid_ = -1;
    return exit_status_;
  }

  /// SIGKILLs the child, as a crash would: no at-exit code runs.
  void crash() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    finish();
  }

 private:
  pid_t pid_ = -1;
  int report_fd_ = -1;
  int go_fd_ = -1;
  int exit_status_ = -1;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// A port on 127.0.0.1 the kernel calls free; a server binds it moments later.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool health_ok(const std::string& url) {
  mlflow::HttpRequest req;
  req.method = "GET";
  req.url = url + "/health";
  req.timeout = std::chrono::seconds(2);
  auto resp = mlflow::make_curl_transport()->send(req);
  return resp.ok() && resp->status == 200;
}

}  // namespace

TEST_CASE(
    "local mode: tracking URIs other than http(s) and sqlite:/// are rejected with the supported "
    "list") {
  TempDir dir;
  struct Case {
    std::string uri;
    std::string scheme;
  };
  for (const Case& c : {Case{"file:///tmp/mlruns", "'file'"}, Case{"./mlruns", "'file'"},
                        Case{"/abs/mlruns", "'file'"}, Case{"s3://bucket/runs", "'s3'"},
                        Case{"ftp://host/x", "'ftp'"}, Case{"postgresql://u@h/db", "'postgresql'"},
                        Case{"databricks", "'file'"}}) {
    CAPTURE(c.uri);
    auto client = mlflow::connect(with_uri(c.uri), {}, in_dir(dir.path()));
    REQUIRE_FALSE(client.ok());
    CHECK(client.status().code() == StatusCode::kInvalidArgument);
    CHECK(client.status().message().find(c.scheme) != std::string::npos);
    CHECK(client.status().message().find("sqlite:///relative.db") != std::string::npos);
    CHECK(client.status().message().find("http://") != std::string::npos);
  }
  // SQLite URIs that name no shareable file.
  for (const std::string uri : {"sqlite://", "sqlite:///", "sqlite:///:memory:",
                                "sqlite://host/x.db", "sqlite:///x.db?mode=ro"}) {
    CAPTURE(uri);
    auto client = mlflow::connect(with_uri(uri), {}, in_dir(dir.path()));
    REQUIRE_FALSE(client.ok());
    CHECK(client.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(fs::exists(dir.path() + "/.mlflow-cpp"));
}

TEST_CASE("local mode: an http tracking URI connects to that server and starts nothing") {
  TempDir dir;
  ScopedEnv env("MLFLOW_TRACKING_URI", std::nullopt);
  auto client = mlflow::connect(with_uri(mlflow::testing::server_url()), {}, in_dir(dir.path()));
  REQUIRE_MESSAGE(client.ok(), client.status().to_string());
  CHECK(client->tracking_uri() == mlflow::testing::server_url());
  auto page = client->search_experiments();
  CHECK_MESSAGE(page.ok(), page.status().to_string());
  CHECK_FALSE(fs::exists(dir.path() + "/.mlflow-cpp"));
  CHECK(std::getenv("MLFLOW_TRACKING_URI") == nullptr);
}

TEST_CASE("local mode: no mlflow executable gives kFailedPrecondition with the install hint") {
  TempDir dir;
  SUBCASE("from LocalServerOptions.server_exe") {
    auto local = in_dir(dir.path());
    local.server_exe = dir.path() + "/no-such-mlflow";
    auto client = mlflow::connect(with_uri(""), {}, local);
    REQUIRE_FALSE(client.ok());
    CHECK(client.status().code() == StatusCode::kFailedPrecondition);
    CHECK(client.status().message().find("no MLflow server executable found") != std::string::npos);
    CHECK(client.status().message().find("no-such-mlflow") != std::string::npos);
    CHECK(client.status().message().find("bash cmake/install-deps.sh") != std::string::npos);
    CHECK(client.status().message().find("MLFLOW_CPP_SERVER_EXE=/path/to/mlflow") !=
          std::string::npos);
  }
  SUBCASE("from $MLFLOW_CPP_SERVER_EXE (a file that is not executable)") {
    write_file(dir.path() + "/not-executable", "text");
    ScopedEnv env("MLFLOW_CPP_SERVER_EXE", dir.path() + "/not-executable");
    // Read at the edge (LocalServerOptions::from_env), before anything is started.
    auto client = mlflow::connect_from_env();
    REQUIRE_FALSE(client.ok());
    CHECK(client.status().code() == StatusCode::kFailedPrecondition);
    CHECK(client.status().message().find("MLFLOW_CPP_SERVER_EXE '" + dir.path() +
                                         "/not-executable'") != std::string::npos);
    CHECK(client.status().message().find("bash cmake/install-deps.sh") != std::string::npos);
  }
  CHECK(state_files(dir.path()).empty());
}

TEST_CASE("local mode: a server that exits during startup is reported with the tail of its log") {
  TempDir dir;
  auto local = in_dir(dir.path());
  local.server_exe = write_script(dir.path() + "/fake-mlflow",
                                  "echo \"fake mlflow was run with: $*\"\n"
                                  "echo 'Error: the database is on fire' >&2\n"
                                  "exit 3\n");
  auto client = mlflow::connect(with_uri(""), {}, local);
  REQUIRE_FALSE(client.ok());
  CHECK(client.status().code() == StatusCode::kUnavailable);
  const std::string& m = client.status().message();
  CHECK(m.find("exited during startup") != std::string::npos);
  CHECK(m.find("the database is on fire") != std::string::npos);
  // The flags local mode passes (the log shows them through the fake's echo).
  const std::string root = fs::canonical(dir.path()).string();
  CHECK(m.find("fake mlflow was run with: server --host 127.0.0.1 --port ") != std::string::npos);
  CHECK(m.find("--backend-store-uri sqlite:///" + root + "/mlflow.db") != std::string::npos);
  CHECK(m.find("--artifacts-destination " + root + "/mlartifacts --serve-artifacts") !=
        std::string::npos);
  CHECK(state_files(dir.path()).empty());
}

TEST_CASE("local mode: a server that never answers /health is stopped at the startup timeout") {
  TempDir dir;
  auto local = in_dir(dir.path());
  local.startup_timeout = std::chrono::milliseconds(1500);
  local.server_exe = write_script(dir.path() + "/silent-mlflow",
                                  "echo $$ > \"" + dir.path() + "/pid\"\nexec sleep 60\n");
  auto client = mlflow::connect(with_uri(""), {}, local);
  REQUIRE_FALSE(client.ok());
  CHECK(client.status().code() == StatusCode::kDeadlineExceeded);
  CHECK(client.status().message().find("did not answer") != std::string::npos);
  const pid_t pid = std::atoi(read_file(dir.path() + "/pid").c_str());
  REQUIRE(pid > 0);
  GroupGuard guard{pid};
  CHECK(wait_gone(pid, std::chrono::seconds(5)));
  CHECK(state_files(dir.path()).empty());
}

TEST_CASE(
    "local mode: processes share one server that the last live user stops at exit and mlflow "
    "ui then shows the run") {
  TempDir dir;
  const std::string root = fs::canonical(dir.path()).string();
  const auto startup = std::chrono::seconds(240);

  // First user: the default URI, then the same database by its absolute sqlite:////path URI; logs a
  // run with an artifact.
  Child first([&] {
    auto a = mlflow::connect(with_uri(""), {}, in_dir(root));
    if (!a.ok()) return "error " + a.status().to_string();
    auto b = mlflow::connect(with_uri("sqlite:///" + root + "/mlflow.db"), {}, in_dir(root));
    if (!b.ok()) return "error " + b.status().to_string();
    auto experiment = a->get_or_create_experiment("local-mode");
    if (!experiment.ok()) return "error " + experiment.status().to_string();
    auto run = a->create_run({*experiment, "local", std::nullopt, {}});
    if (!run.ok()) return "error " + run.status().to_string();
    mlflow::Status st = a->log_param(run->info.run_id, "lr", "0.1");
    if (st.ok()) st = a->log_artifact_bytes(run->info.run_id, "hello", "notes/hello.txt");
    if (!st.ok()) return "error " + st.to_string();
    const char* env = std::getenv("MLFLOW_TRACKING_URI");
    return "ok|" + a->tracking_uri() + "|" + b->tracking_uri() + "|" + (env ? env : "") + "|" +
           run->info.run_id;
  });
  // Second user, at the same time, by the relative sqlite:///mlflow.db URI: the lock makes one of
  // them start the server and the other reuse it.
  Child second([&] {
    auto c = mlflow::connect(with_uri("sqlite:///mlflow.db"), {}, in_dir(root));
    return c.ok() ? "ok|" + c->tracking_uri() : "error " + c.status().to_string();
  });
  const auto first_report = split(first.report(startup), '|');
  REQUIRE_MESSAGE(first_report.size() == 5, first_report.at(0));
  REQUIRE(first_report[0] == "ok");
  const std::string url = first_report[1];
  const std::string run_id = first_report[4];
  CHECK(url.rfind("http://127.0.0.1:", 0) == 0);
  CHECK(std::stoi(url.substr(url.rfind(':') + 1)) > 0);
  CHECK(first_report[2] == url);  // same database, same server
  CHECK(first_report[3] == url);  // exported for child processes
  CHECK(second.report(startup) == "ok|" + url);

  // The state file describes the server.
  const auto states = state_files(root);
  REQUIRE(states.size() == 1);
  const std::string state = read_file(states[0]);
  const std::string state_dir = fs::path(states[0]).parent_path().string();
  const auto state_json = nlohmann::json::parse(state, nullptr, /*allow_exceptions=*/false);
  REQUIRE(state_json.is_object());
  REQUIRE(state_json.contains("pid"));
  const pid_t server_pid = state_json["pid"].get<pid_t>();
  GroupGuard server_guard{server_pid};
  CHECK(state.find("\"port\": " + url.substr(url.rfind(':') + 1)) != std::string::npos);
  CHECK(state.find("\"db_path\": \"" + root + "/mlflow.db\"") != std::string::npos);
  CHECK(state.find("\"artifacts_destination\": \"" + root + "/mlartifacts\"") != std::string::npos);
  CHECK(fs::exists(state_dir + "/server.log"));
  CHECK(fs::exists(state_dir + "/clients/" + std::to_string(first.pid())));
  CHECK(fs::exists(state_dir + "/clients/" + std::to_string(second.pid())));
  CHECK(health_ok(url));

  // A third user crashes: its registration stays behind, but must not keep the server alive.
  Child third([&] {
    auto c = mlflow::connect(with_uri(""), {}, in_dir(root));
    return c.ok() ? "ok|" + c->tracking_uri() : "error " + c.status().to_string();
  });
  CHECK(third.report(startup) == "ok|" + url);
  CHECK(fs::exists(state_dir + "/clients/" + std::to_string(third.pid())));
  third.crash();
  CHECK_FALSE(pid_gone(server_pid));

  // The first user leaves: the second still uses the server, so it keeps running.
  const int first_status = first.finish();
  CHECK(WIFEXITED(first_status));
  CHECK(WEXITSTATUS(first_status) == 0);
  CHECK_FALSE(pid_gone(server_pid));
  CHECK(health_ok(url));
  CHECK(fs::exists(states[0]));

  // The last live user leaves: the server is stopped and its state removed.
  const int second_status = second.finish();
  CHECK(WIFEXITED(second_status));
  CHECK(wait_gone(server_pid, std::chrono::seconds(5)));
  CHECK_FALSE(fs::exists(states[0]));
  CHECK(fs::is_empty(state_dir + "/clients"));
  CHECK_FALSE(health_ok(url));

  // `mlflow ui` in that directory (the server with default stores: sqlite:///mlflow.db,
  // ./mlartifacts) shows the run and its artifact.
  const std::string exe = state_json.value("exe", std::string());
  REQUIRE(fs::exists(exe));
  const std::string port = std::to_string(free_port());
  const pid_t ui_pid = ::fork();
  REQUIRE(ui_pid >= 0);
  if (ui_pid == 0) {
    ::setsid();
    if (::chdir(root.c_str()) != 0) ::_exit(126);
    std::freopen((root + "/ui.log").c_str(), "w", stdout);
    ::dup2(::fileno(stdout), 2);
    ::unsetenv("MLFLOW_TRACKING_URI");
    ::execl(exe.c_str(), exe.c_str(), "ui", "--port", port.c_str(), "--workers", "1",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  GroupGuard ui_guard{ui_pid};
  const std::string ui_url = "http://127.0.0.1:" + port;
  auto deadline = std::chrono::steady_clock::now() + startup;
  while (!health_ok(ui_url) && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    REQUIRE_MESSAGE(::waitpid(ui_pid, &status, WNOHANG) == 0, read_file(root + "/ui.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE_MESSAGE(health_ok(ui_url), read_file(root + "/ui.log"));
  mlflow::ClientOptions o;
  o.tracking_uri = ui_url;
  o.retry.max_retries = 2;
  auto ui = mlflow::MlflowClient::make(o);
  REQUIRE(ui.ok());
  auto run = ui->get_run(run_id);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  REQUIRE(run->data.params.size() == 1);
  CHECK(run->data.params[0].key == "lr");
  auto bytes = ui->read_artifact(run_id, "notes/hello.txt");
  REQUIRE_MESSAGE(bytes.ok(), bytes.status().to_string());
  CHECK(*bytes == "hello");
}

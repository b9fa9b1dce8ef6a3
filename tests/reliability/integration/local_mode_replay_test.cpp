// SPDX-License-Identifier: Apache-2.0
// Local mode (MLFLOW_TRACKING_URI unset: the library starts the real MLflow server over
// ./mlflow.db on a free port) and the spool: what a crashed writer left is replayed by the next
// local-mode start in that directory, although its server has another port.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "mlflow/async_logger.h"
#include "mlflow/local_server.h"
#include "reliability_support.h"
#include "support/process.h"
#include "support/test_support.h"

using namespace mlflow;
using namespace mlflow::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kRuns = 2;
constexpr int kMetrics = 500;

/// The local server recorded in ROOT/.mlflow-cpp/*/server.json: (process group, port).
std::pair<pid_t, int> local_server(const std::string& root) {
  for (const auto& e : fs::directory_iterator(root + "/.mlflow-cpp")) {
    const std::string path = e.path().string() + "/server.json";
    if (!fs::exists(path)) continue;
    const auto j = nlohmann::json::parse(read_file(path));
    return {j.at("pid").get<pid_t>(), j.at("port").get<int>()};
  }
  FAIL("no server.json under " << root << "/.mlflow-cpp");
  return {0, 0};
}

/// SIGTERM to a server's process group at the end of a scope (whatever the test got to).
struct GroupGuard {
  pid_t pgid = 0;
  ~GroupGuard() {
    if (pgid > 0) ::kill(-pgid, SIGTERM);
  }
};

/// Binds 127.0.0.1:`port` without listening, once its server has let go of it: connections are
/// refused at once, and no server started meanwhile can get that port.
int hold_port(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(50ms);  // the killed server's socket is not closed yet
  }
  FAIL("port " << port << " stays in use after its server was killed");
  return -1;
}

/// MLFLOW_TRACKING_URI as it was: local mode exports its server's address into the environment.
class RestoreTrackingUri {
 public:
  RestoreTrackingUri() {
    if (const char* v = std::getenv("MLFLOW_TRACKING_URI")) old_ = v;
  }
  ~RestoreTrackingUri() {
    if (old_) {
      ::setenv("MLFLOW_TRACKING_URI", old_->c_str(), 1);
    } else {
      ::unsetenv("MLFLOW_TRACKING_URI");
    }
  }

 private:
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE(
    "local mode: a SIGKILLed writer's spool is replayed once by the next start, on another port") {
  TempDir dir;
  const std::string root = fs::canonical(dir.path()).string();
  const std::string spool = root + "/spool";
  const std::string go = root + "/go";
  const std::string experiment = unique_name("local-crash");

  // The writer in local mode over ROOT/mlflow.db: it starts the server, then that server dies (as
  // when the machine's MLflow is killed) before anything is logged, so everything is spooled.
  BackgroundProcess writer(LOG_WRITER_PATH,
                           {"--uri",
                            "",
                            "--cwd",
                            root,
                            "--spool",
                            spool,
                            "--experiment",
                            experiment,
                            "--prefix",
                            "local",
                            "--runs",
                            std::to_string(kRuns),
                            "--metrics",
                            std::to_string(kMetrics),
                            "--nested",
                            "--wait-file",
                            go,
                            "--wait-spooled",
                            "--hold",
                            "--request-timeout-ms",
                            "2000"},
                           {}, root + "/writer.out");
  const bool opened = wait_for_output(writer, "OPENED", 300s);  // a new database: migrations
  INFO(writer.output());
  REQUIRE(opened);
  const auto [first_server, first_port] = local_server(root);
  GroupGuard first_guard{first_server};
  ::kill(-first_server, SIGKILL);
  const int held = hold_port(first_port);
  write_file(go, "");
  const bool spooled = wait_for_output(writer, "SPOOLED");
  REQUIRE(spooled);
  ::kill(static_cast<pid_t>(writer.pid()), SIGKILL);
  writer.stop();

  // The next local-mode logger in that directory: a new server, on another port (the old one is
  // held), over the same database.
  RestoreTrackingUri restore;
  LocalServerOptions local;
  local.working_dir = root;
  auto client = connect(ClientOptions{}, {}, local);
  REQUIRE_MESSAGE(client.ok(), client.status().to_string());
  ::close(held);
  GroupGuard second_guard{local_server(root).first};
  CHECK(client->tracking_uri() != "http://127.0.0.1:" + std::to_string(first_port));
  CHECK(client->store_uri() == "sqlite:///" + root + "/mlflow.db");
  auto logger = AsyncLogger::open(*client, quiet_options(spool));
  REQUIRE(logger.ok());
  auto report = (*logger)->close(120s);
  INFO(report.status().message());
  CHECK(report.complete);
  CHECK(report.counters.rejected == 0);
  // The metrics, a param and a tag per child, the starts.
  CHECK(report.counters.replayed >= kRuns * kMetrics + kRuns * 2 + kRuns + 1);
  CHECK(files_under(spool) == 0);

  // Every value once, in the database both servers serve.
  auto stored = stored_runs(*client, experiment);
  REQUIRE(stored.size() == kRuns + 1);
  for (int i = 0; i < kRuns; ++i) {
    const auto& r = stored["local-" + std::to_string(i)];
    CHECK(r.parent_id == stored["local-parent"].run_id);
    CHECK(r.params.at("run_index") == std::to_string(i));
    CHECK(r.status == "RUNNING");  // never ended: the writer was killed
    check_history(r, i, kMetrics);
  }
}

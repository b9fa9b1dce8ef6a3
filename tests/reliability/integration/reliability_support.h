// SPDX-License-Identifier: Apache-2.0
// What the reliability tests share: a server of their own they can kill and restart on the same
// port, counting what arrived through the API, and running the writer program.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "mlflow/async_logger.h"
#include "mlflow/client.h"
#include "support/process.h"

namespace mlflow::testing {

/// A real MLflow server in its own directory on a fixed port (mlflow/server.sh), which a test may
/// SIGKILL and start again. Stopped when destroyed. Its store is its own, like the fixture's kind:
/// a new SQLite file, or under the PostgreSQL fixture a new database in the test cluster.
class OwnServer {
 public:
  /// Picks a free port, starts the server; `start_args` go to `server.sh start` as well, e.g.
  /// {"--backend-store-uri", "postgresql://...", "--workers", "2"} (default: a store of the
  /// fixture's kind, as above).
  explicit OwnServer(std::vector<std::string> start_args = {});
  ~OwnServer();
  OwnServer(const OwnServer&) = delete;
  OwnServer& operator=(const OwnServer&) = delete;

  const std::string& url() const { return url_; }
  void start();
  void stop();   ///< orderly (server.sh stop)
  void kill9();  ///< SIGKILL to the server's whole process group, no cleanup
  MlflowClient client() const;

 private:
  std::vector<std::string> start_args_;
  std::string dir_;
  int port_ = 0;
  std::string url_;
};

/// A URL where nothing listens (a port that was free a moment ago).
std::string dead_url();

/// Waits until `process` has printed `marker` (the writer's "READY" or "SPOOLED"): true once it
/// has, false when the process ended first or `timeout` passed.
bool wait_for_output(BackgroundProcess& process, const std::string& marker,
                     std::chrono::seconds timeout = std::chrono::seconds(60));

/// Logger options for tests: the spool under `spool`, quick probes, one retry of 5 s requests, no
/// log output.
AsyncLoggerOptions quiet_options(const std::string& spool);

/// Regular files under `dir`, recursively (0 when it does not exist).
std::size_t files_under(const std::string& dir);

/// What one run holds on the server, as the tests compare it.
struct StoredRun {
  std::string run_id;
  std::string name;
  std::string status;
  std::string parent_id;
  std::vector<Metric> history;  ///< metric "m"
  std::map<std::string, std::string> params;
};

/// Every run of experiment `name` by run name (fails the test when the experiment is missing or two
/// runs share a name: a duplicated run is a failure of exactly-once).
std::map<std::string, StoredRun> stored_runs(MlflowClient& client, const std::string& experiment);

/// Checks that `run` holds metric "m" exactly once for each step in [0, metrics) with value
/// index*metrics+step (the writer's pattern, also used in-process).
void check_history(const StoredRun& run, int index, int metrics);

}  // namespace mlflow::testing

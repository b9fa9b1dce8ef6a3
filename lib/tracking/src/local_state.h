// SPDX-License-Identifier: Apache-2.0
// Local mode's state on disk: the lock, the server record and the registered clients (private).
#pragma once

#include <optional>
#include <string>

#include "local_process.h"
#include "mlflow/status.h"

namespace mlflow::detail {

/// Layout of one local server's state directory, <working_dir>/.mlflow-cpp/<db name>-<hash>/:
///   lock          flock'ed while a process looks for, starts, joins or leaves the server
///   server.json   the running server (written once it answers /health, removed when stopped)
///   server.log    the server's stdout and stderr
///   clients/<pid> one file per process using the server; holds the process's start time
struct StatePaths {
  std::string dir;
  std::string lock() const { return dir + "/lock"; }
  std::string server_json() const { return dir + "/server.json"; }
  std::string server_log() const { return dir + "/server.log"; }
  std::string clients() const { return dir + "/clients"; }
};

/// The state directory for `db_path` (absolute) under `working_dir` (absolute).
StatePaths state_paths(const std::string& working_dir, const std::string& db_path);

/// What server.json records about a server we started.
struct ServerRecord {
  ProcessId process;  ///< also the process group id (the server runs in its own session)
  int port = 0;
  std::string url;        ///< http://127.0.0.1:<port>
  std::string db_path;    ///< absolute
  std::string artifacts;  ///< absolute --artifacts-destination
  std::string exe;
};

/// The record in `path`; nullopt when missing or unreadable.
std::optional<ServerRecord> read_server_record(const std::string& path);
/// Writes the record atomically (temporary file + rename).
Status write_server_record(const std::string& path, const ServerRecord& record);

/// An exclusive flock on a file, held until destruction. The descriptor is close-on-exec, so a
/// spawned server never inherits (and never keeps holding) the lock.
class FileLock {
 public:
  /// Blocks until the lock is held; creates the file (and its directory) if needed.
  static StatusOr<FileLock> acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Adds this process (`self`) to `clients_dir`.
Status register_client(const std::string& clients_dir, const ProcessId& self);
/// Removes `pid` from `clients_dir`.
void deregister_client(const std::string& clients_dir, pid_t pid);
/// Registered processes that are still alive; entries of dead (or recycled) pids are removed.
int count_live_clients(const std::string& clients_dir);

}  // namespace mlflow::detail

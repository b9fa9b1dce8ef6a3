// SPDX-License-Identifier: Apache-2.0
// Process helpers for local mode: spawn a detached server, check liveness, stop a group (private).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::detail {

/// A process identified robustly: pid plus its start time (clock ticks since boot, from
/// /proc/<pid>/stat), so a recycled pid is not mistaken for the original process.
struct ProcessId {
  pid_t pid = 0;
  /// 0 when unknown (no /proc): liveness then rests on the pid alone.
  std::uint64_t start_time = 0;
};

/// The identity of `pid` now; start_time 0 when it cannot be read.
ProcessId process_identity(pid_t pid);

/// True when the process exists, is not a zombie and (when both are known) started at
/// `id.start_time`.
bool process_alive(const ProcessId& id);

/// Absolute path of an executable: `name` itself when it contains '/', else the first match on
/// $PATH. Empty when there is none.
std::string find_executable(const std::string& name);

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
StatusOr<int> free_loopback_port();

/// What to run and where its output goes.
struct SpawnSpec {
  std::string exe;
  std::vector<std::string> args;               ///< without argv[0]
  std::map<std::string, std::string> set_env;  ///< added to (or overriding) the current environment
  std::vector<std::string> unset_env;
  std::string cwd;
  std::string log_file;  ///< stdout and stderr, truncated first; stdin is /dev/null
};

/// Starts `spec` with fork/exec in a new session (so it is its own process group leader and
/// survives the caller), with no inherited descriptors beyond 0-2. Returns its pid (== its process
/// group id).
StatusOr<pid_t> spawn_detached(const SpawnSpec& spec);

/// Reaps `pid` if it is our child and has exited; returns its wait status then, -1 otherwise.
int reap_if_exited(pid_t pid);

/// SIGTERM to the process group `leader.pid`, waits up to `grace` for the whole group to exit, then
/// SIGKILL. Does nothing when the leader is no longer the process we started. True when the group
/// is gone.
bool stop_process_group(const ProcessId& leader, std::chrono::milliseconds grace);

/// Whether a process of group `pgid` owns the socket listening on 127.0.0.1:`port`, from
/// /proc/net/tcp and /proc/<pid>/fd; nullopt when that cannot be told (no /proc). Guards against
/// trusting another server that took a port we picked before our server could bind it.
std::optional<bool> group_listens_on(pid_t pgid, int port);

/// The last `max_lines` lines of a text file (empty when unreadable).
std::string tail_file(const std::string& path, int max_lines);

}  // namespace mlflow::detail

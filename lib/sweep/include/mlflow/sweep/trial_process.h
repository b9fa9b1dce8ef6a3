// SPDX-License-Identifier: Apache-2.0
// A trial's program as a child process: its own process group (so Ctrl-C reaches it once, from us),
// stdin from /dev/null, stdout and stderr into a log file, and SIGTERM when the runner dies (even
// by SIGKILL), so no trial outlives its runner.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::sweep {

/// How a trial process ended.
struct ProcessExit {
  int code = -1;   ///< exit status when it exited
  int signal = 0;  ///< the signal that ended it, else 0
  /// True for exit status 0 (not killed).
  bool ok() const { return signal == 0 && code == 0; }
  bool interrupted() const;      ///< ended by SIGINT/SIGTERM, or exit 130 (a handled Ctrl-C)
  std::string describe() const;  ///< "exit 0", "exit 1", "killed by signal 9 (Killed)"
};

/// A trial's program running as a child process in its own process group. Move-only; not
/// thread-safe.
class TrialProcess {
 public:
  /// Starts argv[0] (a path) with `env` overriding or adding environment variables; stdout goes to
  /// `log_file`, stderr too unless `err_file` is given. kFailedPrecondition naming the program when
  /// it cannot be started, or the log cannot be opened.
  static StatusOr<TrialProcess> spawn(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& env,
                                      const std::string& log_file,
                                      const std::string& err_file = {});
  /// Takes over the process; the moved-from object owns none.
  TrialProcess(TrialProcess&& other) noexcept;
  /// Kills (SIGKILL) and reaps this object's process if it still runs, then takes over `other`'s.
  TrialProcess& operator=(TrialProcess&& other) noexcept;
  TrialProcess(const TrialProcess&) = delete;
  TrialProcess& operator=(const TrialProcess&) = delete;
  /// Kills (SIGKILL) and reaps a process still running: a runner never leaves orphans behind by
  /// accident.
  ~TrialProcess();

  /// The process id (also its process group's).
  pid_t pid() const { return pid_; }
  /// Reaps the process if it has ended, without blocking. True once it has.
  bool poll();
  /// True once poll() has reaped the process.
  bool done() const { return done_; }
  /// How the process ended; meaningful once done().
  const ProcessExit& exit() const { return exit_; }
  /// Sends `sig` to the process group.
  void signal(int sig) const;

 private:
  TrialProcess() = default;
  pid_t pid_ = -1;
  bool done_ = false;
  ProcessExit exit_;
};

/// The last non-empty line of a text file (for status lines), at most `max_len` characters.
std::string last_line(const std::string& path, std::size_t max_len = 100);
/// Its last `count` non-empty lines (of the last 16 KiB), oldest first, each at most `max_len`
/// characters.
std::vector<std::string> last_lines(const std::string& path, std::size_t count,
                                    std::size_t max_len = 200);

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
// Runs a built program the way a user would, capturing exit code, stdout and stderr (for app
// tests), or keeps one running in the background.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace mlflow::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// `s` quoted for /bin/sh.
std::string shell_quote(const std::string& s);

/// Runs `exe args...` through /bin/sh with `env` ("NAME=value" entries) added to the environment
/// and stdin from /dev/null. Fails the current test (REQUIRE) when the program cannot be run or is
/// killed.
ProcessResult run_process(const std::string& exe, const std::vector<std::string>& args,
                          const std::vector<std::string>& env = {});

/// A program running in the background (a helper server or proxy), stdin from /dev/null and
/// stdout plus stderr into one file. stop() or the destructor ends it: SIGTERM, then SIGKILL after
/// the grace time. Not thread-safe.
class BackgroundProcess {
 public:
  /// Starts `exe args...` with `env` ("NAME=value") added to this process's environment. Fails the
  /// current test (REQUIRE) when it cannot be started.
  BackgroundProcess(const std::string& exe, const std::vector<std::string>& args,
                    const std::vector<std::string>& env, const std::string& output_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  long pid() const { return pid_; }
  /// False once the program has exited (it is reaped then).
  bool running();
  /// What the program wrote to stdout and stderr so far.
  std::string output() const;
  /// Ends the program (if still running) and returns its wait status; idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  long pid_ = -1;
  int wait_status_ = -1;
  std::string output_path_;
};

}  // namespace mlflow::testing

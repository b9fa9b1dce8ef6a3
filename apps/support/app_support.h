// SPDX-License-Identifier: Apache-2.0
// What the command-line apps share: exit codes (and the one Status -> exit code mapping), error
// lines, Ctrl-C as a flag the work polls.
#pragma once

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill/sigaction, not in <csignal>

#include <csignal>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "mlflow/run.h"
#include "mlflow/status.h"

namespace mlflow::apps {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  ///< the work, a trial or the server failed
inline constexpr int kExitUsage = 2;   ///< bad usage or input, caught before anything was created
inline constexpr int kExitTrialsFailed = 3;   ///< sweep_runner: it ran, but trials failed
inline constexpr int kExitInterrupted = 130;  ///< Ctrl-C or SIGTERM

/// The exit code for a failed Status: kInvalidArgument raised client-side (no HTTP response) is
/// bad input (kExitUsage); everything else, the server refusing a value included, is kExitFailed.
inline int exit_code_for(const Status& status) {
  if (status.ok()) return kExitOk;
  if (status.code() == StatusCode::kInvalidArgument && status.http_status() == 0) return kExitUsage;
  return kExitFailed;
}

/// Ends `run` by the outcome of the work logged to it: FINISHED when `status` is ok, else FAILED
/// with the error in its mlflow_cpp.error tag (cut to MLflow's tag limit). Returns `status`, or the
/// end's own error.
inline Status end_run(ActiveRun& run, const Status& status) {
  if (status.ok()) return run.end();
  (void)run.set_tag("mlflow_cpp.error", status.to_string().substr(0, 5000));
  (void)run.end(RunStatus::kFailed);
  return status;
}

/// `return fail(code, "...")`: prints "PROGRAM: error: MESSAGE" on stderr and gives back the code.
class ErrorExit {
 public:
  explicit constexpr ErrorExit(const char* program) : program_(program) {}
  int operator()(int code, const std::string& message) const {
    fmt::print(stderr, "{}: error: {}\n", program_, message);
    return code;
  }

 private:
  const char* program_;
};

namespace detail {
inline volatile std::sig_atomic_t interrupt_flag = 0;
}  // namespace detail

}  // namespace mlflow::apps

extern "C" inline void mlflow_apps_on_interrupt(int) { mlflow::apps::detail::interrupt_flag = 1; }

namespace mlflow::apps {

/// From now on SIGINT and SIGTERM only set the flag interrupted() reads; the work loop polls it and
/// ends cleanly. With `second_kills` a second signal ends the process at once.
inline void catch_interrupts(bool second_kills) {
  struct sigaction sa {};
  sa.sa_handler = mlflow_apps_on_interrupt;
  sa.sa_flags = second_kills ? SA_RESETHAND : 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

inline bool interrupted() { return detail::interrupt_flag != 0; }

}  // namespace mlflow::apps

// SPDX-License-Identifier: Apache-2.0
// The check the app tests make of bad input: exit 2, a clear error line, and nothing created on the
// server.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/process.h"
#include "support/test_support.h"

namespace mlflow::testing {

/// Runs `exe args... --experiment <fresh name>` against the test server and checks that it exits 2,
/// that stderr holds "PROGRAM: error:" and `expected`, and that the experiment (so any run) was not
/// created.
inline void check_usage_error(const std::string& exe, const std::string& program,
                              std::vector<std::string> args, const std::string& expected) {
  const std::string experiment = unique_name(program + "-bad");
  args.insert(args.end(), {"--experiment", experiment});
  const ProcessResult r = run_process(exe, args, server_env());
  CAPTURE(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(program + ": error:") != std::string::npos);
  CHECK(r.err.find(expected) != std::string::npos);
  CHECK_FALSE(test_client().get_experiment_by_name(experiment).ok());
}

}  // namespace mlflow::testing

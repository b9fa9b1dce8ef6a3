// SPDX-License-Identifier: Apache-2.0
// Runs a built program the way a user would, capturing exit code, stdout and stderr (for app tests).
#pragma once

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

/// Runs `exe args...` through /bin/sh with `env` ("NAME=value" entries) added to the environment and
/// stdin from /dev/null. Fails the current test (REQUIRE) when the program cannot be run or is killed.
ProcessResult run_process(const std::string& exe, const std::vector<std::string>& args,
                          const std::vector<std::string>& env = {});

}  // namespace mlflow::testing

// SPDX-License-Identifier: Apache-2.0
#include "support/process.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>

#include "support/test_support.h"

namespace mlflow::testing {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

ProcessResult run_process(const std::string& exe, const std::vector<std::string>& args,
                          const std::vector<std::string>& env) {
  TempDir tmp;
  const std::string err_file = tmp.path() + "/stderr";
  std::string cmd;
  for (const auto& e : env) cmd += shell_quote(e) + " ";
  if (!env.empty()) cmd = "env " + cmd;
  cmd += shell_quote(exe);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " </dev/null 2>" + shell_quote(err_file);
  ProcessResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  REQUIRE_MESSAGE(WIFEXITED(status), "killed: " << cmd);
  r.exit_code = WEXITSTATUS(status);
  r.err = read_file(err_file);
  return r;
}

}  // namespace mlflow::testing

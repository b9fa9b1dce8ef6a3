// SPDX-License-Identifier: Apache-2.0
#include "support/process.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

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

BackgroundProcess::BackgroundProcess(const std::string& exe, const std::vector<std::string>& args,
                                     const std::vector<std::string>& env,
                                     const std::string& output_path)
    : output_path_(output_path) {
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  // The inherited environment, with `env` overriding variables of the same name.
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& x : env) {
      overridden = overridden || x.compare(0, name.size() + 1, name + "=") == 0;
    }
    if (!overridden) env_s.push_back(entry);
  }
  env_s.insert(env_s.end(), env.begin(), env.end());
  auto pointers = [](std::vector<std::string>& v) {
    std::vector<char*> p;
    for (auto& s : v) p.push_back(s.data());
    p.push_back(nullptr);
    return p;
  };
  std::vector<char*> argv = pointers(argv_s), envp = pointers(env_s);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE_MESSAGE(rc == 0, "cannot start " << exe << ": " << std::strerror(rc));
  pid_ = pid;
}

BackgroundProcess::~BackgroundProcess() { stop(); }

bool BackgroundProcess::running() {
  if (wait_status_ != -1 || pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(static_cast<pid_t>(pid_), &status, WNOHANG) == 0) return true;
  wait_status_ = status;
  return false;
}

std::string BackgroundProcess::output() const { return read_file(output_path_); }

int BackgroundProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return wait_status_;
  ::kill(static_cast<pid_t>(pid_), SIGTERM);
  const auto give_up = std::chrono::steady_clock::now() + grace;
  while (running()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      ::kill(static_cast<pid_t>(pid_), SIGKILL);
      int status = 0;
      while (::waitpid(static_cast<pid_t>(pid_), &status, 0) < 0 && errno == EINTR) {
      }
      wait_status_ = status;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return wait_status_;
}

}  // namespace mlflow::testing

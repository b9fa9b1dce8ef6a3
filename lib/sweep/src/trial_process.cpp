// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/trial_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

extern char** environ;

namespace mlflow::sweep {

std::string ProcessExit::describe() const {
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
  return fmt::format("exit {}", code);
}

bool ProcessExit::interrupted() const { return signal == SIGINT || signal == SIGTERM || code == 130; }

StatusOr<TrialProcess> TrialProcess::spawn(const std::vector<std::string>& argv,
                                           const std::map<std::string, std::string>& env,
                                           const std::string& log_file) {
  if (argv.empty()) return Status(StatusCode::kInvalidArgument, "no program to run");
  // The environment: ours, with `env` replacing same-named entries.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (env.count(entry.substr(0, entry.find('='))) == 0) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  // The child starts with default SIGINT/SIGTERM handling whatever we installed.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("cannot start {} (output to {}): {}", argv[0], log_file, std::strerror(rc)));
  }
  TrialProcess p;
  p.pid_ = pid;
  return p;
}

TrialProcess::TrialProcess(TrialProcess&& other) noexcept
    : pid_(other.pid_), done_(other.done_), exit_(other.exit_) {
  other.pid_ = -1;
}

TrialProcess& TrialProcess::operator=(TrialProcess&& other) noexcept {
  if (this != &other) {
    this->~TrialProcess();
    pid_ = other.pid_;
    done_ = other.done_;
    exit_ = other.exit_;
    other.pid_ = -1;
  }
  return *this;
}

TrialProcess::~TrialProcess() {
  if (pid_ > 0 && !done_) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool TrialProcess::poll() {
  if (done_ || pid_ <= 0) return done_;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    done_ = true;
    if (WIFEXITED(status)) exit_.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) exit_.signal = WTERMSIG(status);
  } else if (r < 0 && errno == ECHILD) {
    done_ = true;  // reaped elsewhere; nothing more to learn
  }
  return done_;
}

void TrialProcess::signal(int sig) const {
  if (pid_ > 0 && !done_) ::kill(-pid_, sig);
}

std::string last_line(const std::string& path, std::size_t max_len) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > 4096 ? size - 4096 : 0;
  in.seekg(from);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Progress bars rewrite one line with '\r': treat it as a line break too.
  for (char& c : tail) c = c == '\r' ? '\n' : c;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  const auto nl = tail.rfind('\n');
  std::string line = nl == std::string::npos ? tail : tail.substr(nl + 1);
  if (line.size() > max_len) line = line.substr(0, max_len - 3) + "...";
  return line;
}

}  // namespace mlflow::sweep

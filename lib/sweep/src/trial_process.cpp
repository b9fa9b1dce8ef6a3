// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/trial_process.h"

#include <fcntl.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill/sigaction, not in <csignal>
#include <sys/prctl.h>
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

bool ProcessExit::interrupted() const {
  return signal == SIGINT || signal == SIGTERM || code == 130;
}

namespace {

// Runs in the child between fork and exec: only async-signal-safe calls. On failure the errno goes
// to the parent through `report` (closed on exec, so a successful start sends nothing).
[[noreturn]] void report_errno_and_exit(int report) {
  const int e = errno;
  (void)!::write(report, &e, sizeof e);
  ::_exit(127);
}

[[noreturn]] void exec_child(char* const* args, char* const* envp, const char* out, const char* err,
                             pid_t parent, int report) {
  auto die = [report]() { report_errno_and_exit(report); };
  ::setpgid(0, 0);  // its own group: Ctrl-C in the terminal reaches us, and we stop the trial
  // A runner that dies (even by SIGKILL) takes its trials with it. The re-check covers a parent
  // that died before the prctl.
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) die();
  if (::getppid() != parent) ::_exit(127);
  // The child starts with default SIGINT/SIGTERM handling and no blocked signals, whatever we set.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &dfl, nullptr);
  ::sigaction(SIGTERM, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const int in = ::open("/dev/null", O_RDONLY);
  if (in < 0 || ::dup2(in, 0) < 0) die();
  const int fd = ::open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0 || ::dup2(fd, 1) < 0) die();
  const int efd = err == nullptr ? 1 : ::open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (efd < 0 || ::dup2(efd, 2) < 0) die();
  ::execve(args[0], args, envp);
  report_errno_and_exit(report);
}

}  // namespace

StatusOr<TrialProcess> TrialProcess::spawn(const std::vector<std::string>& argv,
                                           const std::map<std::string, std::string>& env,
                                           const std::string& log_file,
                                           const std::string& err_file) {
  if (argv.empty()) return Status(StatusCode::kInvalidArgument, "no program to run");
  // The environment: ours, with `env` replacing same-named entries.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (env.count(entry.substr(0, entry.find('='))) == 0) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(fmt::format("{}={}", k, v));
  std::vector<char*> envp, args;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  args.reserve(argv_copy.size() + 1);
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("cannot start {}: {}", argv[0], std::strerror(errno)));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    exec_child(args.data(), envp.data(), log_file.c_str(),
               err_file.empty() ? nullptr : err_file.c_str(), parent, report[1]);
  }
  const int fork_errno = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("cannot start {}: {}", argv[0], std::strerror(fork_errno)));
  }
  ::setpgid(pid, pid);  // also here: a signal to the group right after spawn must find it
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("cannot start {} (output to {}): {}", argv[0], log_file,
                              std::strerror(child_errno)));
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

std::vector<std::string> last_lines(const std::string& path, std::size_t count,
                                    std::size_t max_len) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > 16384 ? size - 16384 : 0;
  in.seekg(from);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Progress bars rewrite one line with '\r': treat it as a line break too.
  for (char& c : tail) c = c == '\r' ? '\n' : c;
  std::vector<std::string> lines;
  std::size_t end = tail.size();
  while (lines.size() < count && end > 0) {
    const auto nl = tail.rfind('\n', end - 1);
    const std::size_t begin = nl == std::string::npos ? 0 : nl + 1;
    std::string line = tail.substr(begin, end - begin);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) {
      if (line.size() > max_len) line = line.substr(0, max_len - 3) + "...";
      lines.insert(lines.begin(), std::move(line));
    }
    if (nl == std::string::npos) break;
    end = nl;
  }
  return lines;
}

std::string last_line(const std::string& path, std::size_t max_len) {
  auto lines = last_lines(path, 1, max_len);
  return lines.empty() ? std::string() : lines.front();
}

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
// Process helpers for local mode: spawn a detached server, check liveness, stop a group.
#include "local_process.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill/sigaction, not in <csignal>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace mlflow::detail {

namespace {

struct ProcStat {
  char state = '?';
  pid_t pgrp = 0;
  std::uint64_t start_time = 0;
};

// /proc/<pid>/stat; the command name (field 2) may contain spaces and ')', so fields are counted
// from the last ')'.
bool read_proc_stat(pid_t pid, ProcStat* out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(line.substr(close + 1));
  std::string f;
  for (int field = 3; field <= 22 && (fields >> f); ++field) {
    if (field == 3) out->state = f.empty() ? '?' : f[0];
    if (field == 5) out->pgrp = static_cast<pid_t>(std::strtol(f.c_str(), nullptr, 10));
    if (field == 22) out->start_time = std::strtoull(f.c_str(), nullptr, 10);
  }
  return true;
}

bool is_dead_state(char state) { return state == 'Z' || state == 'X'; }

// True while some process of group `pgid` runs. Zombies do not count: an exited member whose parent
// has not reaped it yet must not hold up a stop.
bool group_alive(pid_t pgid) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return !(::kill(-pgid, 0) != 0 && errno == ESRCH);
  bool alive = false;
  while (dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    ProcStat st;
    if (read_proc_stat(static_cast<pid_t>(pid), &st) && st.pgrp == pgid &&
        !is_dead_state(st.state)) {
      alive = true;
      break;
    }
  }
  ::closedir(proc);
  return alive;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

ProcessId process_identity(pid_t pid) {
  ProcStat st;
  read_proc_stat(pid, &st);
  return ProcessId{pid, st.start_time};
}

bool process_alive(const ProcessId& id) {
  if (id.pid <= 0) return false;
  if (::kill(id.pid, 0) != 0 && errno == ESRCH) return false;
  ProcStat st;
  if (!read_proc_stat(id.pid, &st)) return true;  // no /proc: kill() is all we know
  if (is_dead_state(st.state)) return false;
  return id.start_time == 0 || st.start_time == 0 || st.start_time == id.start_time;
}

std::string find_executable(const std::string& name) {
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

StatusOr<int> free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(StatusCode::kInternal, errno_text("socket()"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status st(StatusCode::kUnavailable, errno_text("no free port on 127.0.0.1"));
    ::close(fd);
    return st;
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

StatusOr<pid_t> spawn_detached(const SpawnSpec& spec) {
  // Everything the child needs is built before fork(): between fork and exec only async-signal-safe
  // calls are allowed, since the caller may have other threads.
  std::vector<std::string> argv_s;
  argv_s.push_back(spec.exe);
  argv_s.insert(argv_s.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  argv.reserve(argv_s.size() + 1);
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_s;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool drop = spec.set_env.count(name) > 0;
    for (const auto& u : spec.unset_env) drop = drop || u == name;
    if (!drop) env_s.push_back(std::move(entry));
  }
  for (const auto& [k, v] : spec.set_env) env_s.push_back(fmt::format("{}={}", k, v));
  std::vector<char*> envp;
  envp.reserve(env_s.size() + 1);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int log_fd = ::open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Status(StatusCode::kFailedPrecondition, errno_text("cannot open " + spec.log_file));
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // The child reports an exec failure's errno through this pipe; a successful exec closes it empty.
  int report[2] = {-1, -1};
  if (null_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    Status st(StatusCode::kInternal, errno_text("cannot set up the server's descriptors"));
    for (int fd : {log_fd, null_fd, report[0], report[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return st;
  }
  // Keep our descriptors clear of 0-3 (a caller may have closed stdin), so the child's dup2 calls
  // below never overwrite one before it is used.
  for (int* fd : {&log_fd, &null_fd, &report[1]}) {
    if (*fd <= 3) {
      int moved = ::fcntl(*fd, F_DUPFD_CLOEXEC, 4);
      ::close(*fd);
      *fd = moved;
    }
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    Status st(StatusCode::kInternal, errno_text("fork()"));
    for (int fd : {log_fd, null_fd, report[0], report[1]}) ::close(fd);
    return st;
  }
  if (pid == 0) {
    ::setsid();
    int err = 0;
    int report_fd = report[1];
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) err = errno;
    if (err == 0 && (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0 ||
                     ::dup2(report[1], 3) < 0 || ::fcntl(3, F_SETFD, FD_CLOEXEC) < 0)) {
      err = errno;
    }
    if (err == 0) {
      report_fd = 3;
      // Descriptors the caller opened without O_CLOEXEC (lock files, pipes) must not stay open in a
      // long-lived server: a held flock or an open pipe end would outlive the caller.
#ifdef SYS_close_range
      if (::syscall(SYS_close_range, 4U, ~0U, 0U) != 0)
#endif
      {
        long max_fd = ::sysconf(_SC_OPEN_MAX);
        if (max_fd < 0 || max_fd > 65536) max_fd = 65536;
        for (int fd = 4; fd < max_fd; ++fd) ::close(fd);
      }
      ::execve(argv[0], argv.data(), envp.data());
      err = errno;
    }
    ssize_t ignored = ::write(report_fd, &err, sizeof(err));
    (void)ignored;
    ::_exit(127);
  }
  for (int fd : {log_fd, null_fd, report[1]}) ::close(fd);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    ::waitpid(pid, nullptr, 0);
    return Status(StatusCode::kFailedPrecondition,
                  "cannot run " + spec.exe + ": " + std::strerror(child_errno));
  }
  return pid;
}

int reap_if_exited(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  return r == pid ? status : -1;
}

bool stop_process_group(const ProcessId& leader, std::chrono::milliseconds grace) {
  if (leader.pid <= 0) return true;
  // While any member of the group lives, its id cannot be handed out as a new pid, so a leader that
  // is gone (or a zombie) with a live group still means the group is ours. A live process with that
  // pid but another start time means the pid was recycled after the whole group had exited.
  ProcessId now = process_identity(leader.pid);
  if (leader.start_time != 0 && now.start_time != 0 && now.start_time != leader.start_time) {
    return true;
  }
  auto group_gone = [&] {
    reap_if_exited(leader.pid);
    return !group_alive(leader.pid);
  };
  if (group_gone()) return true;
  ::kill(-leader.pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (group_gone()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-leader.pid, SIGKILL);
  for (int i = 0; i < 100; ++i) {
    if (group_gone()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<bool> group_listens_on(pid_t pgid, int port) {
  std::ifstream tcp("/proc/net/tcp");
  if (!tcp) return std::nullopt;
  // Lines: "sl local_address rem_address st ... inode ..."; 127.0.0.1 is 0100007F in this
  // little-endian hex form, the port is big-endian hex; state 0A is LISTEN.
  char wanted[32];
  std::snprintf(wanted, sizeof(wanted), "0100007F:%04X", static_cast<unsigned>(port));
  std::string line, inode;
  std::getline(tcp, line);  // header
  while (inode.empty() && std::getline(tcp, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, node;
    f >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> node;
    if (local == wanted && state == "0A") inode = node;
  }
  if (inode.empty()) return false;
  const std::string target = "socket:[" + inode + "]";
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return std::nullopt;
  bool found = false;
  while (!found) {
    dirent* e = ::readdir(proc);
    if (e == nullptr) break;
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    ProcStat st;
    if (pid <= 0 || *end != '\0' || !read_proc_stat(static_cast<pid_t>(pid), &st) ||
        st.pgrp != pgid) {
      continue;
    }
    const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* fd = ::readdir(fds)) {
      char link[64];
      ssize_t n = ::readlink((fd_dir + "/" + fd->d_name).c_str(), link, sizeof(link) - 1);
      if (n > 0 && std::string(link, static_cast<size_t>(n)) == target) {
        found = true;
        break;
      }
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return found;
}

std::string tail_file(const std::string& path, int max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(std::move(line));
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// Local mode's state on disk: the lock, the server record and the registered clients.
#include "local_state.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "mlflow/atomic_file.h"

namespace mlflow::detail {

namespace fs = std::filesystem;
using nlohmann::json;

StatePaths state_paths(const std::string& working_dir, const std::string& db_path) {
  // FNV-1a of the absolute path keeps databases with the same file name apart.
  std::uint32_t h = 2166136261u;
  for (unsigned char c : db_path) {
    h ^= c;
    h *= 16777619u;
  }
  std::string name = fs::path(db_path).filename().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  }
  return StatePaths{fmt::format("{}/.mlflow-cpp/{}-{:08x}", working_dir, name, h)};
}

std::optional<ServerRecord> read_server_record(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  ServerRecord r;
  r.process.pid = j.value("pid", 0);
  r.process.start_time = j.value("pid_start_time", std::uint64_t{0});
  r.port = j.value("port", 0);
  r.url = j.value("url", "");
  r.db_path = j.value("db_path", "");
  r.artifacts = j.value("artifacts_destination", "");
  r.exe = j.value("exe", "");
  if (r.process.pid <= 0 || r.port <= 0 || r.url.empty()) return std::nullopt;
  return r;
}

Status write_server_record(const std::string& path, const ServerRecord& record) {
  json j;
  j["pid"] = record.process.pid;
  j["pid_start_time"] = record.process.start_time;
  j["port"] = record.port;
  j["url"] = record.url;
  j["db_path"] = record.db_path;
  j["artifacts_destination"] = record.artifacts;
  j["exe"] = record.exe;
  return write_file_atomically(path, j.dump(2) + "\n");
}

StatusOr<FileLock> FileLock::acquire(const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot create " + fs::path(path).parent_path().string() + ": " + ec.message());
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot open " + path + ": " + std::strerror(errno));
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    Status st(StatusCode::kFailedPrecondition, "cannot lock " + path + ": " + std::strerror(errno));
    ::close(fd);
    return st;
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the flock
}

Status register_client(const std::string& clients_dir, const ProcessId& self) {
  std::error_code ec;
  fs::create_directories(clients_dir, ec);
  std::ofstream out(clients_dir + "/" + std::to_string(self.pid), std::ios::trunc);
  out << self.start_time << "\n";
  if (ec || !out.flush()) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot register this process in " + clients_dir);
  }
  return Status();
}

void deregister_client(const std::string& clients_dir, pid_t pid) {
  std::error_code ec;
  fs::remove(clients_dir + "/" + std::to_string(pid), ec);
}

int count_live_clients(const std::string& clients_dir) {
  int live = 0;
  std::error_code ec;
  for (fs::directory_iterator it(clients_dir, ec), end; !ec && it != end; it.increment(ec)) {
    ProcessId id;
    const std::string name = it->path().filename().string();
    char* rest = nullptr;
    id.pid = static_cast<pid_t>(std::strtol(name.c_str(), &rest, 10));
    std::ifstream in(it->path());
    in >> id.start_time;
    std::error_code rm;
    if (rest == nullptr || *rest != '\0' || id.pid <= 0 || !process_alive(id)) {
      fs::remove(it->path(), rm);
    } else {
      ++live;
    }
  }
  return live;
}

}  // namespace mlflow::detail

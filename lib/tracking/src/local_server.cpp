// SPDX-License-Identifier: Apache-2.0
// Local mode: finds or starts the MLflow server over a SQLite file; the last user stops it.
#include "mlflow/local_server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "client_impl.h"
#include "local_process.h"
#include "local_state.h"
#include "local_uri.h"
#include "url.h"

namespace mlflow {

namespace {

namespace fs = std::filesystem;
using detail::ProcessId;
using detail::ServerRecord;
using detail::StatePaths;

constexpr const char* kInstallHint =
    "run `bash cmake/install-deps.sh` (installs it into mlflow/.venv) or set "
    "MLFLOW_CPP_SERVER_EXE=/path/to/mlflow";

// How long stopping waits after SIGTERM before SIGKILL: uvicorn finishes in-flight requests first.
constexpr std::chrono::milliseconds kStopGrace{10'000};

// ---- which mlflow executable -----------------------------------------------------------------

/// mlflow/.venv/bin/mlflow in the nearest ancestor directory of this program that has one: the venv
/// cmake/install-deps.sh creates in a checkout, seen from a build tree inside it. Found at run
/// time, so no path of the checkout is built into the library.
std::string find_checkout_venv_mlflow() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int depth = 0; !ec && !dir.empty() && depth < 16; ++depth) {
    if (std::string exe = detail::find_executable((dir / "mlflow/.venv/bin/mlflow").string());
        !exe.empty()) {
      return exe;
    }
    if (dir == dir.root_path()) break;
    dir = dir.parent_path();
  }
  return {};
}

/// The executable `value` names (a path or a name on $PATH); `source` is where it came from.
StatusOr<std::string> explicit_exe(const std::string& value, const std::string& source) {
  std::string found = detail::find_executable(value);
  if (found.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("no MLflow server executable found: {} '{}' is not an executable "
                              "file; {}",
                              source, value, kInstallHint));
  }
  return found;
}

StatusOr<std::string> find_server_exe(const LocalServerOptions& local) {
  if (!local.server_exe.empty()) {
    return explicit_exe(local.server_exe, "LocalServerOptions.server_exe");
  }
  if (std::string on_path = detail::find_executable("mlflow"); !on_path.empty()) return on_path;
  if (std::string venv = find_checkout_venv_mlflow(); !venv.empty()) return venv;
  return Status(StatusCode::kFailedPrecondition,
                std::string("no MLflow server executable found: ") + kInstallHint);
}

// ---- health ----------------------------------------------------------------------------------

bool health_ok(HttpTransport& transport, const std::string& url,
               std::chrono::milliseconds timeout) {
  HttpRequest req;
  req.method = "GET";
  req.url = url + "/health";
  req.timeout = timeout;
  auto resp = transport.send(req);
  return resp.ok() && resp->status == 200 && resp->body.rfind("OK", 0) == 0;
}

// ---- this process's registrations, undone at exit -------------------------------------------

struct Registration {
  StatePaths paths;
  ProcessId self;    // the registering process; a fork()ed child inherits the list but is not it
  ProcessId server;  // as last seen, to stop it even if its state directory was deleted meanwhile
  std::string url;   // as last seen
  std::string db_path;  // what it serves
};

struct Registry {
  std::mutex mu;
  std::vector<Registration> items;
};

// Never destroyed: release_all() runs from atexit, possibly after static destructors.
Registry& registry() {
  static auto* r = new Registry();
  return *r;
}

// Leaves every server this process joined; stops those nobody else uses any more.
void release_all() {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  const pid_t me = ::getpid();
  for (const Registration& r : reg.items) {
    if (r.self.pid != me) continue;
    std::error_code ec;
    if (!fs::is_directory(r.paths.dir, ec)) {
      // Nobody can find the server any more (its state was deleted): stop it rather than leak it.
      detail::stop_process_group(r.server, kStopGrace);
      continue;
    }
    auto file_lock = detail::FileLock::acquire(r.paths.lock());
    detail::deregister_client(r.paths.clients(), me);
    if (!file_lock.ok() || detail::count_live_clients(r.paths.clients()) > 0) continue;
    if (auto rec = detail::read_server_record(r.paths.server_json())) {
      detail::stop_process_group(rec->process, kStopGrace);
    }
    fs::remove(r.paths.server_json(), ec);
  }
  reg.items.clear();
}

Status register_self(const StatePaths& paths, const ServerRecord& server) {
  ProcessId self = detail::process_identity(::getpid());
  MLFLOW_CPP_RETURN_IF_ERROR(detail::register_client(paths.clients(), self));
  static std::once_flag at_exit_once;
  std::call_once(at_exit_once, [] { std::atexit(release_all); });
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  for (Registration& r : reg.items) {
    if (r.paths.dir == paths.dir && r.self.pid == self.pid) {
      r.server = server.process;
      r.url = server.url;
      return Status();
    }
  }
  reg.items.push_back(Registration{paths, self, server.process, server.url, server.db_path});
  return Status();
}

// The database of the local-mode server at `url` that this process started or joined, if any.
std::optional<std::string> joined_database(const std::string& url) {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  for (const Registration& r : reg.items) {
    if (r.self.pid == ::getpid() && detail::same_server(r.url, url)) return r.db_path;
  }
  return std::nullopt;
}

// Where a local-mode server's runs live, whatever port it has: its database, as MLflow names it.
std::string store_of(const std::string& db_path) { return "sqlite:///" + db_path; }

// ---- finding or starting the server ----------------------------------------------------------

// The server recorded in `paths` if it is alive and healthy; nullopt when there is none (stale
// records are cleaned up); an error when it is alive but does not answer.
StatusOr<std::optional<ServerRecord>> find_running(const StatePaths& paths, const std::string& db,
                                                   HttpTransport& transport) {
  auto rec = detail::read_server_record(paths.server_json());
  if (!rec) return std::optional<ServerRecord>();
  const bool alive = detail::process_alive(rec->process);
  if (alive && rec->db_path != db) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("{} records a server for {}, not {}; remove it if that is wrong",
                              paths.server_json(), rec->db_path, db));
  }
  if (alive) {
    // A busy server may be slow to answer; give it a few chances before giving up.
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (health_ok(transport, rec->url, std::chrono::seconds(5))) return std::optional(*rec);
    }
    return Status(StatusCode::kUnavailable,
                  fmt::format("the local MLflow server for {} (pid {}, {}) is running but does not "
                              "answer {}/health; see {} or stop it with `kill -TERM -{}`",
                              db, rec->process.pid, rec->url, rec->url, paths.server_log(),
                              rec->process.pid));
  }
  // Dead leader: stop any workers it left behind, then forget it.
  detail::stop_process_group(rec->process, kStopGrace);
  std::error_code ec;
  fs::remove(paths.server_json(), ec);
  return std::optional<ServerRecord>();
}

StatusOr<ServerRecord> start_server(const StatePaths& paths, const std::string& db,
                                    const std::string& working_dir, const LocalServerOptions& local,
                                    HttpTransport& transport) {
  auto exe = find_server_exe(local);
  if (!exe.ok()) return exe.status();
  std::error_code ec;
  fs::create_directories(fs::path(db).parent_path(), ec);

  ServerRecord rec;
  rec.db_path = db;
  rec.artifacts = (fs::path(working_dir) / "mlartifacts").string();
  rec.exe = *exe;

  detail::SpawnSpec spec;
  spec.exe = *exe;
  spec.cwd = working_dir;
  spec.log_file = paths.server_log();
  // The server's own environment: no telemetry or background job runner unless asked for, and no
  // client-side tracking URI (it would point at the server itself).
  for (auto [name, value] : {std::pair{"MLFLOW_DISABLE_TELEMETRY", "true"},
                             std::pair{"MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false"}}) {
    if (std::getenv(name) == nullptr) spec.set_env[name] = value;
  }
  spec.set_env["PYTHONUNBUFFERED"] = "1";
  spec.unset_env = {"MLFLOW_TRACKING_URI"};

  const auto deadline = std::chrono::steady_clock::now() + local.startup_timeout;
  // A port picked free can be taken by someone else before the server binds it: retry then.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    auto port = detail::free_loopback_port();
    if (!port.ok()) return port.status();
    rec.port = *port;
    rec.url = fmt::format("http://127.0.0.1:{}", rec.port);
    // One worker: a single user's server; each extra worker is another Python process to start.
    // clang-format off
    spec.args = {"server",
                 "--host", "127.0.0.1",
                 "--port", std::to_string(rec.port),
                 "--backend-store-uri", "sqlite:///" + db,
                 "--artifacts-destination", rec.artifacts,
                 "--serve-artifacts",
                 "--workers", "1"};
    // clang-format on
    auto pid = detail::spawn_detached(spec);
    if (!pid.ok()) return pid.status().with_context("starting the local MLflow server");
    rec.process = detail::process_identity(*pid);

    while (true) {
      // Healthy and ours: someone else's server may have taken the port before ours bound it.
      if (health_ok(transport, rec.url, std::chrono::seconds(2)) &&
          detail::group_listens_on(rec.process.pid, rec.port).value_or(true)) {
        return rec;
      }
      int wait_status = detail::reap_if_exited(*pid);
      if (wait_status >= 0) {
        detail::stop_process_group(rec.process, std::chrono::seconds(5));  // leftover workers
        std::string tail = detail::tail_file(paths.server_log(), 30);
        if (attempt < kAttempts && (tail.find("Address already in use") != std::string::npos ||
                                    tail.find("Errno 98") != std::string::npos)) {
          break;
        }
        return Status(StatusCode::kUnavailable,
                      fmt::format("the local MLflow server ({} server, database {}) exited during "
                                  "startup; last lines of {}:\n{}",
                                  *exe, db, paths.server_log(), tail));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        detail::stop_process_group(rec.process, std::chrono::seconds(5));
        return Status(
            StatusCode::kDeadlineExceeded,
            fmt::format("the local MLflow server did not answer {}/health within {} ms "
                        "(raise LocalServerOptions.startup_timeout?); last lines of {}:\n{}",
                        rec.url, local.startup_timeout.count(), paths.server_log(),
                        detail::tail_file(paths.server_log(), 30)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

// The URL of a healthy server over `db`, joined by this process.
StatusOr<std::string> local_server_url(const std::string& db, const std::string& working_dir,
                                       const LocalServerOptions& local, HttpTransport& transport) {
  StatePaths paths = detail::state_paths(working_dir, db);
  // Held while looking, starting and registering, so concurrent processes agree on one server and
  // a last user leaving cannot stop it between our check and our registration.
  auto file_lock = detail::FileLock::acquire(paths.lock());
  if (!file_lock.ok()) return file_lock.status();
  auto running = find_running(paths, db, transport);
  if (!running.ok()) return running.status();
  ServerRecord rec;
  if (running->has_value()) {
    rec = **running;
  } else {
    auto started = start_server(paths, db, working_dir, local, transport);
    if (!started.ok()) return started.status();
    rec = *started;
    Status written = detail::write_server_record(paths.server_json(), rec);
    if (!written.ok()) {
      detail::stop_process_group(rec.process, kStopGrace);
      return written;
    }
  }
  Status registered = register_self(paths, rec);
  if (!registered.ok()) return registered;
  return rec.url;
}

}  // namespace

StatusOr<MlflowClient> connect(const ClientOptions& options, ClientDeps deps,
                               const LocalServerOptions& local) {
  std::error_code ec;
  fs::path wd =
      local.working_dir.empty() ? fs::current_path(ec) : fs::absolute(local.working_dir, ec);
  if (!ec) wd = fs::weakly_canonical(wd, ec);
  auto target = detail::resolve_tracking_uri(options.tracking_uri, ec ? "/" : wd.string());
  if (!target.ok()) return target.status();
  if (!target->local) {
    auto client = MlflowClient::make(options, std::move(deps));
    if (!client.ok()) return client;
    // The address local mode exported (MLFLOW_TRACKING_URI), read again in this process, e.g. by
    // AsyncLogger::open_from_env after connect_from_env: the same database.
    if (auto db = joined_database(client->tracking_uri())) {
      return detail::ClientAccess::with_store(*client, store_of(*db));
    }
    return client;
  }
  if (ec) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot resolve the local-mode working directory '" + local.working_dir +
                      "': " + ec.message());
  }

  // One local-mode connect at a time per process: setenv below is not safe against itself.
  static std::mutex connect_mu;
  std::lock_guard<std::mutex> serial(connect_mu);
  std::shared_ptr<HttpTransport> transport =
      deps.transport ? deps.transport : make_curl_transport();
  auto url = local_server_url(target->db_path, wd.string(), local, *transport);
  if (!url.ok()) return url.status();
  ClientOptions remote = options;
  remote.tracking_uri = *url;
  auto client = MlflowClient::make(remote, std::move(deps));
  if (!client.ok()) return client;
  ::setenv("MLFLOW_TRACKING_URI", url->c_str(), 1);
  return detail::ClientAccess::with_store(*client, store_of(target->db_path));
}

StatusOr<LocalServerOptions> LocalServerOptions::from_env(const ClientOptions::EnvLookup& env_in) {
  const ClientOptions::EnvLookup env = env_in ? env_in : ClientOptions::EnvLookup(process_env);
  LocalServerOptions local;
  if (auto exe = env("MLFLOW_CPP_SERVER_EXE"); exe && !exe->empty()) {
    auto found = explicit_exe(*exe, "MLFLOW_CPP_SERVER_EXE");
    if (!found.ok()) return found.status();
    local.server_exe = *exe;
  }
  return local;
}

StatusOr<MlflowClient> connect_from_env() {
  auto options = ClientOptions::from_env();
  if (!options.ok()) return options.status();
  auto local = LocalServerOptions::from_env();
  if (!local.ok()) return local.status();
  return connect(*options, {}, *local);
}

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
// Process hooks: SIGINT/SIGTERM, std::terminate and std::exit end the open runs of every live
// logger and close it (a bounded flush, then the rest to the spool) before the process goes.
#include "process_hooks.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "async_logger_impl.h"

namespace mlflow::detail {

namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::vector<std::weak_ptr<AsyncLogger>>& registry() {
  static std::vector<std::weak_ptr<AsyncLogger>> loggers;
  return loggers;
}

std::vector<std::shared_ptr<AsyncLogger>> live_loggers() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::shared_ptr<AsyncLogger>> out;
  for (auto& w : registry()) {
    if (auto l = w.lock()) out.push_back(std::move(l));
  }
  return out;
}

std::atomic<std::int64_t> g_timeout_ms{10'000};
std::atomic<bool> g_hooks_installed{false};
int g_pipe[2] = {-1, -1};
std::terminate_handler g_previous_terminate = nullptr;

void on_signal(int sig) {
  // Async-signal-safe: hand the signal to the hook thread.
  const auto b = static_cast<unsigned char>(sig);
  ssize_t ignored = ::write(g_pipe[1], &b, 1);
  (void)ignored;
}

void end_and_close(RunStatus status) {
  const std::chrono::milliseconds timeout(g_timeout_ms.load());
  for (auto& logger : live_loggers()) (void)logger->end_runs_and_close(status, timeout);
}

void on_terminate() {
  end_and_close(RunStatus::kFailed);
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

// std::exit() does not unwind the stack, so loggers held by main's locals are never destroyed:
// close them here. Registered once both the hooks and a logger exist: after the registry's statics
// (constructed by register_logger) and after local mode's atexit that stops the server it started
// (connect() runs before a logger opens), so this runs before both go.
void ensure_exit_hook() {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit([] { end_and_close(RunStatus::kFinished); }); });
}

}  // namespace

void register_logger(const std::shared_ptr<AsyncLogger>& logger) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& loggers = registry();
  loggers.erase(std::remove_if(loggers.begin(), loggers.end(),
                               [](const std::weak_ptr<AsyncLogger>& w) { return w.expired(); }),
                loggers.end());
  loggers.push_back(logger);
  if (g_hooks_installed.load()) ensure_exit_hook();
}

void unregister_logger(const AsyncLogger* logger) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& loggers = registry();
  loggers.erase(std::remove_if(loggers.begin(), loggers.end(),
                               [&](const std::weak_ptr<AsyncLogger>& w) {
                                 auto l = w.lock();
                                 return !l || l.get() == logger;
                               }),
                loggers.end());
}

}  // namespace mlflow::detail

namespace mlflow {

FlushReport AsyncLogger::end_runs_and_close(RunStatus status, std::chrono::milliseconds timeout) {
  // Closing waits for the worker: never from the worker itself.
  if (std::this_thread::get_id() == impl_->worker_id) return FlushReport{};
  impl_->end_open_runs(status);
  return close(timeout);
}

void AsyncLogger::install_process_hooks(std::chrono::milliseconds timeout) {
  static std::once_flag once;
  detail::g_timeout_ms.store(timeout.count());
  std::call_once(once, [] {
    if (::pipe2(detail::g_pipe, O_CLOEXEC) != 0) return;
    std::thread([] {
      unsigned char sig = 0;
      for (;;) {
        ssize_t n = ::read(detail::g_pipe[0], &sig, 1);
        if (n == 1) break;
        if (n < 0 && errno == EINTR) continue;
        return;
      }
      detail::end_and_close(RunStatus::kKilled);
      std::signal(sig, SIG_DFL);
      std::raise(sig);
    }).detach();
    struct sigaction sa {};
    sa.sa_handler = detail::on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    detail::g_previous_terminate = std::set_terminate(detail::on_terminate);
  });
  detail::g_hooks_installed.store(true);
  if (!detail::live_loggers().empty()) detail::ensure_exit_hook();
}

}  // namespace mlflow

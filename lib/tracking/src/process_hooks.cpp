// SPDX-License-Identifier: Apache-2.0
// Process hooks: SIGINT/SIGTERM and std::terminate end the open runs of every live logger and flush
// them (bounded) before the process goes.
#include "process_hooks.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <csignal>
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

std::chrono::milliseconds g_timeout{10'000};
int g_pipe[2] = {-1, -1};
std::terminate_handler g_previous_terminate = nullptr;

void on_signal(int sig) {
  // Async-signal-safe: hand the signal to the hook thread.
  unsigned char b = static_cast<unsigned char>(sig);
  ssize_t ignored = ::write(g_pipe[1], &b, 1);
  (void)ignored;
}

void end_and_flush(RunStatus status) {
  for (auto& logger : live_loggers()) logger->end_runs_and_flush(status, g_timeout);
}

void on_terminate() {
  end_and_flush(RunStatus::kFailed);
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

}  // namespace

void register_logger(const std::shared_ptr<AsyncLogger>& logger) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& loggers = registry();
  loggers.erase(std::remove_if(loggers.begin(), loggers.end(),
                               [](const std::weak_ptr<AsyncLogger>& w) { return w.expired(); }),
                loggers.end());
  loggers.push_back(logger);
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

void AsyncLogger::end_runs_and_flush(RunStatus status, std::chrono::milliseconds timeout) {
  // Flushing waits for the worker: never from the worker itself.
  if (std::this_thread::get_id() == impl_->worker.get_id()) return;
  impl_->end_open_runs(status);
  (void)flush(timeout);
}

void AsyncLogger::install_process_hooks(std::chrono::milliseconds timeout) {
  static std::once_flag once;
  detail::g_timeout = timeout;
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
      detail::end_and_flush(RunStatus::kKilled);
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
}

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/sweep_state.h"

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill/sigaction, not in <csignal>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace mlflow::sweep {

const char* to_string(TrialState state) {
  switch (state) {
    case TrialState::kPending:
      return "pending";
    case TrialState::kFinished:
      return "finished";
    case TrialState::kFailed:
      return "failed";
    case TrialState::kRunning:
      return "running";
    case TrialState::kRunningStale:
      return "running (process gone)";
  }
  return "?";
}

std::string tag_value(const Run& run, const std::string& key) {
  return find_value(run.data.tags, key).value_or("");
}

std::optional<double> metric_value(const Run& run, const std::string& key) {
  for (const auto& m : run.data.metrics) {
    if (m.key == key) return m.value;
  }
  return std::nullopt;
}

std::optional<std::string> param_value(const Run& run, const std::string& key) {
  for (const auto& p : run.data.params) {
    if (p.key == key) return p.value;
  }
  return std::nullopt;
}

TrialState classify_attempt(const Run* latest, const Liveness& liveness) {
  if (latest == nullptr) return TrialState::kPending;
  switch (latest->info.status) {
    case RunStatus::kFinished:
      return TrialState::kFinished;
    case RunStatus::kFailed:
    case RunStatus::kKilled:
      return TrialState::kFailed;
    case RunStatus::kRunning:
    case RunStatus::kScheduled:
      break;
  }
  if (tag_value(*latest, kTagHost) == liveness.host && liveness.pid_alive) {
    // Same machine: the trial's process, or the runner that is about to start it.
    const auto alive = [&](const std::string& identity) {
      const long pid = identity.empty() ? 0L : std::strtol(identity.c_str(), nullptr, 10);
      if (pid <= 0 || !liveness.pid_alive(pid)) return false;
      const auto at = identity.find('@');
      return at == std::string::npos || !liveness.start_time ||
             liveness.start_time(pid) == identity.substr(at + 1);
    };
    const bool running =
        alive(tag_value(*latest, kTagTrialPid)) || alive(tag_value(*latest, kTagRunnerPid));
    return running ? TrialState::kRunning : TrialState::kRunningStale;
  }
  const std::string beat = tag_value(*latest, kTagHeartbeat);
  const std::int64_t last =
      beat.empty() ? latest->info.start_time : std::strtoll(beat.c_str(), nullptr, 10);
  return liveness.now_ms - last > liveness.stale_after.count() ? TrialState::kRunningStale
                                                               : TrialState::kRunning;
}

namespace {

// Every run matching `filter`, all pages.
StatusOr<std::vector<Run>> search_all(MlflowClient& client, const std::string& experiment_id,
                                      const std::string& filter,
                                      const std::vector<std::string>& order_by) {
  std::vector<Run> runs;
  SearchOptions search;
  search.filter = filter;
  search.order_by = order_by;
  do {
    auto page = client.search_runs({experiment_id}, search);
    if (!page.ok()) return page.status();
    for (auto& r : page->items) runs.push_back(std::move(r));
    search.page_token = page->next_page_token;
  } while (!search.page_token.empty());
  return runs;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("\\'") : std::string(1, c);
  return out + "'";
}

}  // namespace

StatusOr<std::optional<Run>> find_parent_run(MlflowClient& client, const std::string& experiment_id,
                                             const SweepSpec& spec) {
  auto runs = search_all(client, experiment_id,
                         fmt::format("tags.`{}` = {} and tags.`{}` = {}", kTagSweepName,
                                     quoted(spec.name), kTagSpecHash, quoted(spec.hash)),
                         {"attributes.start_time ASC"});
  if (!runs.ok())
    return runs.status().with_context("looking for the parent run of sweep '" + spec.name + "'");
  if (runs->empty()) return std::optional<Run>();
  return std::optional<Run>(std::move(runs->front()));
}

StatusOr<std::map<std::string, Run>> latest_attempts(MlflowClient& client,
                                                     const std::string& experiment_id,
                                                     const std::string& parent_run_id) {
  auto runs = search_all(client, experiment_id,
                         fmt::format("tags.mlflow.parentRunId = {}", quoted(parent_run_id)),
                         {"attributes.start_time ASC"});
  if (!runs.ok())
    return runs.status().with_context("listing the trials of parent run " + parent_run_id);
  std::map<std::string, Run> latest;
  for (auto& r : *runs) {
    const std::string hash = tag_value(r, kTagConfigHash);
    if (hash.empty()) continue;
    auto it = latest.find(hash);
    if (it == latest.end() || r.info.start_time >= it->second.info.start_time)
      latest[hash] = std::move(r);
  }
  return latest;
}

std::string process_start_time(long pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return {};
  const auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;  // starttime
  }
  return {};
}

std::string process_identity(long pid) {
  return std::to_string(pid) + "@" + process_start_time(pid);
}

bool identity_alive(const std::string& identity) {
  const long pid = std::strtol(identity.c_str(), nullptr, 10);
  const auto at = identity.find('@');
  return process_alive(pid) &&
         (at == std::string::npos || process_start_time(pid) == identity.substr(at + 1));
}

bool process_alive(long pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // A zombie (dead, not yet reaped: containers whose init does not reap) is not alive.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

}  // namespace mlflow::sweep

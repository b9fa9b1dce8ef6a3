// SPDX-License-Identifier: Apache-2.0
// bench_team_load: one of N trainers logging into a shared tracking server, and the count-back that
// checks what they logged (apps/bench/run_team_bench.sh runs both; the team fault test too).
//
//   bench_team_load trainer --uri URI --experiment E --index I --metrics M ...
//     Opens an AsyncLogger, starts run "t<I>", then (after --go-file appears) logs M metrics: K
//     keys per step, value step*0.5+k for key k, timing every log_metric call on this (the
//     caller's) thread. Ends the run, closes the logger (everything acknowledged by the server) and
//     prints one JSON line: counters, timestamps, the latency histogram and its p50/p99/max, CPU
//     seconds.
//   bench_team_load count --uri URI --experiment E --trainers N --metrics M ...
//     Reads every run of E back through the API (runs/search, metrics/get-history) and checks that
//     runs t0..t<N-1> exist once each, are FINISHED and hold every value exactly once. Prints one
//     JSON line; exit 0 only when nothing is lost, duplicated or wrong.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mlflow/async_logger.h"
#include "mlflow/client.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_team_load: error: %s\n", what.c_str());
  std::exit(2);
}

long long epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The metric keys a trainer logs per step (the first `keys` of them).
const std::vector<std::string>& key_names() {
  static const std::vector<std::string> names = {"loss",     "accuracy", "lr",      "grad_norm",
                                                 "val_loss", "val_acc",  "epoch_s", "images_s"};
  return names;
}

double expected_value(int key, std::int64_t step) { return static_cast<double>(step) * 0.5 + key; }

/// Latencies in log buckets, 8 per octave of nanoseconds (about 9 % wide), so trainers' histograms
/// merge into exact-to-a-bucket percentiles over all callers.
class Histogram {
 public:
  static constexpr int kPerOctave = 8;
  void add(double ns) {
    const int b = ns < 1 ? 0 : static_cast<int>(std::floor(std::log2(ns) * kPerOctave));
    ++buckets_[b];
    ++count_;
    max_ = std::max(max_, ns);
  }
  static double upper_ns(int bucket) {
    return std::exp2(static_cast<double>(bucket + 1) / kPerOctave);
  }
  double percentile(double p) const {
    const auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (const auto& [b, n] : buckets_) {
      seen += n;
      if (seen >= rank) return std::min(upper_ns(b), max_);
    }
    return max_;
  }
  nlohmann::json to_json() const {
    nlohmann::json b = nlohmann::json::object();
    for (const auto& [bucket, n] : buckets_) b[std::to_string(bucket)] = n;
    return {{"per_octave", kPerOctave},
            {"count", count_},
            {"max_ns", max_},
            {"p50_ns", percentile(0.5)},
            {"p99_ns", percentile(0.99)},
            {"buckets", b}};
  }

 private:
  std::map<int, std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  double max_ = 0;
};

struct TrainerSettings {
  std::string uri, experiment, spool, go_file;
  int index = 0, metrics = 10'000, keys = 4, pause_every = 0, pause_ms = 0;
  int close_timeout_s = 600, request_timeout_ms = 10'000, max_retries = 4, probe_ms = 2000;
};

double cpu_seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

int run_trainer(const TrainerSettings& s) {
  mlflow::AsyncLoggerOptions o;
  o.spool_dir = s.spool;
  o.probe_interval = std::chrono::milliseconds(s.probe_ms);
  o.retry.max_retries = s.max_retries;
  o.retry.request_timeout = std::chrono::milliseconds(s.request_timeout_ms);
  o.log = [](const std::string&) {};
  auto logger = mlflow::AsyncLogger::open_uri(s.uri, o);
  if (!logger.ok()) die("cannot open the logger: " + logger.status().message());
  mlflow::RunOptions ro;
  ro.experiment_name = s.experiment;
  ro.run_name = "t" + std::to_string(s.index);
  auto run = (*logger)->start_run(ro);
  if (!run.ok()) die("cannot start the run: " + run.status().message());
  (void)run->log_param("trainer_index", std::to_string(s.index));
  (void)run->log_param("metrics", std::to_string(s.metrics));
  if (!s.go_file.empty()) {
    std::fprintf(stderr, "READY\n");
    while (::access(s.go_file.c_str(), F_OK) != 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const long long go_ms = epoch_ms();
  const auto& names = key_names();
  const int steps = s.metrics / s.keys;
  Histogram latency;
  std::uint64_t refused = 0;
  const auto t0 = Clock::now();
  for (int step = 0; step < steps; ++step) {
    for (int k = 0; k < s.keys; ++k) {
      const auto c0 = Clock::now();
      const mlflow::Status st =
          run->log_metric(names[static_cast<std::size_t>(k)], expected_value(k, step), step);
      latency.add(static_cast<double>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - c0).count()));
      if (!st.ok()) ++refused;
    }
    if (s.pause_every > 0 && step % s.pause_every == s.pause_every - 1)
      std::this_thread::sleep_for(std::chrono::milliseconds(s.pause_ms));
  }
  const double log_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run->end();
  auto report = (*logger)->close(std::chrono::seconds(s.close_timeout_s));
  const long long stored_ms = epoch_ms();
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto& c = report.counters;
  nlohmann::json out = {{"index", s.index},
                        {"run_id", run->id()},
                        {"metrics", steps * s.keys},
                        {"complete", report.complete},
                        {"status", report.complete ? "" : report.status().message()},
                        {"refused_at_call", refused},
                        {"queued", c.queued},
                        {"sent", c.sent},
                        {"retried", c.retried},
                        {"spooled", c.spooled},
                        {"replayed", c.replayed},
                        {"rejected", c.rejected},
                        {"go_ms", go_ms},
                        {"stored_ms", stored_ms},
                        {"log_seconds", log_seconds},
                        {"cpu_user_s", cpu_seconds(usage.ru_utime)},
                        {"cpu_sys_s", cpu_seconds(usage.ru_stime)},
                        {"latency", latency.to_json()}};
  std::printf("%s\n", out.dump().c_str());
  return report.complete && c.rejected == 0 && refused == 0 ? 0 : 3;
}

struct CountSettings {
  std::string uri, experiment;
  int trainers = 1, metrics = 10'000, keys = 4;
};

template <typename T>
T unwrap(mlflow::StatusOr<T> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.status().message());
  return std::move(r).value();
}

int run_count(const CountSettings& s) {
  mlflow::ClientOptions co;
  co.tracking_uri = s.uri;
  auto client = unwrap(mlflow::MlflowClient::make(co), "client for " + s.uri);
  const auto experiment = unwrap(client.get_experiment_by_name(s.experiment), "experiment");
  std::map<std::string, std::vector<mlflow::Run>> by_name;
  std::string token;
  do {
    mlflow::SearchOptions so;
    so.page_token = token;
    auto page = unwrap(client.search_runs({experiment.experiment_id}, so, mlflow::ViewType::kAll),
                       "search runs");
    for (auto& r : page.items) by_name[r.info.run_name].push_back(std::move(r));
    token = page.next_page_token;
  } while (!token.empty());

  const int steps = s.metrics / s.keys;
  const std::uint64_t expected = static_cast<std::uint64_t>(s.trainers) * steps * s.keys;
  std::uint64_t stored = 0, missing = 0, duplicated = 0, wrong = 0;
  int runs_found = 0, finished = 0, duplicate_runs = 0, extra_runs = 0;
  for (const auto& [name, runs] : by_name) {
    const bool ours = name.size() > 1 && name.size() < 10 && name[0] == 't' &&
                      name.find_first_not_of("0123456789", 1) == std::string::npos &&
                      std::stoi(name.substr(1)) < s.trainers;
    if (!ours) {
      extra_runs += static_cast<int>(runs.size());
      continue;
    }
    duplicate_runs += static_cast<int>(runs.size()) - 1;
  }
  for (int i = 0; i < s.trainers; ++i) {
    auto it = by_name.find("t" + std::to_string(i));
    if (it == by_name.end()) {
      missing += static_cast<std::uint64_t>(steps) * s.keys;
      continue;
    }
    ++runs_found;
    const mlflow::Run& run = it->second.front();
    if (run.info.status == mlflow::RunStatus::kFinished) ++finished;
    for (int k = 0; k < s.keys; ++k) {
      const std::string& key = key_names()[static_cast<std::size_t>(k)];
      auto history = unwrap(client.get_metric_history(run.info.run_id, key), "history of " + key);
      std::vector<int> seen(static_cast<std::size_t>(steps), 0);
      for (const auto& m : history) {
        if (m.step < 0 || m.step >= steps || m.value != expected_value(k, m.step)) {
          ++wrong;
          continue;
        }
        if (seen[static_cast<std::size_t>(m.step)]++ == 0) {
          ++stored;
        } else {
          ++duplicated;
        }
      }
      for (int n : seen) missing += n == 0 ? 1 : 0;
    }
  }
  const bool ok = stored == expected && missing == 0 && duplicated == 0 && wrong == 0 &&
                  runs_found == s.trainers && finished == s.trainers && duplicate_runs == 0;
  nlohmann::json out = {{"expected", expected},
                        {"stored", stored},
                        {"missing", missing},
                        {"duplicated", duplicated},
                        {"wrong", wrong},
                        {"runs_expected", s.trainers},
                        {"runs_found", runs_found},
                        {"runs_finished", finished},
                        {"duplicate_runs", duplicate_runs},
                        {"other_runs", extra_runs},
                        {"ok", ok}};
  std::printf("%s\n", out.dump().c_str());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "One trainer of a team logging through AsyncLogger into a shared tracking server (trainer), "
      "or the count-back of what a team logged (count). See apps/bench/run_team_bench.sh.",
      "bench_team_load"};
  app.require_subcommand(1);
  const int max_keys = static_cast<int>(key_names().size());

  TrainerSettings t;
  auto* trainer = app.add_subcommand(
      "trainer",
      "Start run t<INDEX> in the experiment, log --metrics values (--keys keys per step), time "
      "each "
      "log_metric call, close the logger and print one JSON line. Exit 0 when everything was "
      "delivered and nothing rejected, 3 otherwise");
  trainer->add_option("--uri", t.uri, "Tracking URI")->required();
  trainer->add_option("--experiment", t.experiment, "Experiment name (created when missing)")
      ->required();
  trainer->add_option("--index", t.index, "This trainer's number: the run is t<INDEX>")
      ->check(CLI::NonNegativeNumber);
  trainer->add_option("--metrics", t.metrics, "Metric values to log (a multiple of --keys)")
      ->check(CLI::Range(1, 100'000'000));
  trainer->add_option("--keys", t.keys, "Metric keys logged per step")
      ->check(CLI::Range(1, max_keys));
  trainer->add_option("--spool", t.spool, "Spool directory (default: the user's cache)");
  trainer->add_option("--go-file", t.go_file,
                      "Print READY to stderr once the run is queued, then wait for this file to "
                      "exist before logging (starts a team at once)");
  trainer
      ->add_option("--pause-every", t.pause_every,
                   "Sleep --pause-ms after every this many steps (0: never): spreads the "
                   "logging over time")
      ->check(CLI::NonNegativeNumber);
  trainer->add_option("--pause-ms", t.pause_ms, "See --pause-every")->check(CLI::NonNegativeNumber);
  trainer->add_option("--close-timeout", t.close_timeout_s, "Seconds close() may take")
      ->check(CLI::Range(1, 86'400));
  trainer->add_option("--request-timeout-ms", t.request_timeout_ms, "Per-request timeout")
      ->check(CLI::Range(100, 600'000));
  trainer->add_option("--max-retries", t.max_retries, "Retries of a request before spooling")
      ->check(CLI::Range(0, 10));
  trainer->add_option("--probe-ms", t.probe_ms, "How often a degraded logger probes the server")
      ->check(CLI::Range(50, 600'000));

  CountSettings c;
  auto* count = app.add_subcommand(
      "count",
      "Check that runs t0..t<N-1> of the experiment exist once each, are FINISHED and hold every "
      "value exactly once; print one JSON line, exit 0 only then");
  count->add_option("--uri", c.uri, "Tracking server URL (http/https)")->required();
  count->add_option("--experiment", c.experiment, "Experiment name")->required();
  count->add_option("--trainers", c.trainers, "How many trainers logged")
      ->check(CLI::Range(1, 100'000));
  count->add_option("--metrics", c.metrics, "Metric values each trainer logged")
      ->check(CLI::Range(1, 100'000'000));
  count->add_option("--keys", c.keys, "Metric keys per step")->check(CLI::Range(1, max_keys));
  CLI11_PARSE(app, argc, argv);

  if (*trainer) {
    if (t.metrics % t.keys != 0)
      die(fmt::format("--metrics {} is not a multiple of --keys {}", t.metrics, t.keys));
    return run_trainer(t);
  }
  if (c.metrics % c.keys != 0)
    die(fmt::format("--metrics {} is not a multiple of --keys {}", c.metrics, c.keys));
  return run_count(c);
}

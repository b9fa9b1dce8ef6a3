// SPDX-License-Identifier: Apache-2.0
// bench_tracking: the async logger's targets, measured against a real server.
//  - latency of AsyncRun::log_metric on the calling thread (p50, p99, max), server up and server down;
//  - throughput into the server: the async logger against the floor, a loop posting pre-serialised
//    1000-metric log-batch bodies over one keep-alive connection (what the server can ingest).
// Every contender's metrics are counted back through the API. Median of --reps repetitions.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mlflow/async_logger.h"
#include "mlflow/http.h"
#include "mlflow/local_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using mlflow::AsyncLogger;

struct Settings {
  int reps = 5;
  int latency_calls = 200'000;
  int throughput_metrics = 100'000;
  std::string out = "bench_tracking.json";
  bool quick = false;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_tracking: error: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T unwrap(mlflow::StatusOr<T> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.status().message());
  return std::move(r).value();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

struct Stats {
  double min = 0, median = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v.back()};
}
nlohmann::json to_json(const Stats& s) { return {{"min", s.min}, {"median", s.median}, {"max", s.max}}; }

std::string temp_dir(const std::string& tag) {
  auto p = std::filesystem::temp_directory_path() /
           fmt::format("bench-tracking-{}-{}", tag, ::getpid());
  std::filesystem::create_directories(p);
  return p.string();
}

mlflow::AsyncLoggerOptions logger_options(const std::string& spool) {
  mlflow::AsyncLoggerOptions o;
  o.spool_dir = spool;
  o.log = [](const std::string&) {};
  return o;
}

std::size_t count_metrics(mlflow::MlflowClient& client, const std::string& run_id) {
  return unwrap(client.get_metric_history(run_id, "m"), "get metric history").size();
}

/// Per-call latency (ns) of log_metric; `client` unreachable or not.
std::vector<double> measure_latency(mlflow::MlflowClient client, int calls, const std::string& tag) {
  const std::string spool = temp_dir(tag);
  auto logger = unwrap(AsyncLogger::open(client, logger_options(spool)), "open logger");
  mlflow::RunOptions o;
  o.experiment_name = "bench-tracking";
  o.run_name = "latency-" + tag;
  auto run = unwrap(logger->start_run(o), "start run");
  std::vector<double> ns;
  ns.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    (void)run.log_metric("m", i * 0.5, i);
    ns.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
  }
  run.end();
  // Server down: nothing to wait for, the records are in the spool (deleted below).
  (void)logger->close(tag == "down" ? std::chrono::seconds(1) : std::chrono::seconds(300));
  std::filesystem::remove_all(spool);
  return ns;
}

/// Metrics per second through the async logger, first call to close() done; checks they all arrived.
double async_throughput(mlflow::MlflowClient client, int metrics) {
  const std::string spool = temp_dir("throughput");
  auto logger = unwrap(AsyncLogger::open(client, logger_options(spool)), "open logger");
  mlflow::RunOptions o;
  o.experiment_name = "bench-tracking";
  o.run_name = "async-throughput";
  auto run = unwrap(logger->start_run(o), "start run");
  const std::string run_id = unwrap(run.wait_for_id(std::chrono::seconds(60)), "create run");
  const auto t0 = Clock::now();
  for (int i = 0; i < metrics; ++i) (void)run.log_metric("m", i * 0.5, i);
  auto report = logger->flush(std::chrono::seconds(600));
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!report.complete) die("async logger did not deliver everything: " + report.status().message());
  run.end();
  (void)logger->close(std::chrono::seconds(60));
  std::filesystem::remove_all(spool);
  if (count_metrics(client, run_id) != static_cast<std::size_t>(metrics)) die("async: metrics missing");
  return metrics / seconds;
}

/// The synchronous client: one MlflowClient::log_batch call per 1000 metrics.
double client_batch_throughput(mlflow::MlflowClient client, int metrics) {
  mlflow::MlflowClient::RunCreate create;
  create.experiment_id = unwrap(client.get_or_create_experiment("bench-tracking"), "experiment");
  create.run_name = "client-log-batch";
  const std::string run_id = unwrap(client.create_run(create), "create run").info.run_id;
  const auto t0 = Clock::now();
  std::vector<mlflow::Metric> batch;
  for (int i = 0; i < metrics; ++i) {
    mlflow::Metric m;
    m.key = "m";
    m.value = i * 0.5;
    m.step = i;
    m.timestamp = mlflow::now_ms();
    batch.push_back(std::move(m));
    if (batch.size() == 1000 || i + 1 == metrics) {
      if (!client.log_batch(run_id, batch).ok()) die("client log_batch failed");
      batch.clear();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (count_metrics(client, run_id) != static_cast<std::size_t>(metrics)) die("client: metrics missing");
  return metrics / seconds;
}

/// The floor: pre-serialised 1000-metric log-batch bodies posted back to back on one connection.
double floor_throughput(mlflow::MlflowClient client, int metrics) {
  mlflow::MlflowClient::RunCreate create;
  create.experiment_id = unwrap(client.get_or_create_experiment("bench-tracking"), "experiment");
  create.run_name = "floor";
  const std::string run_id = unwrap(client.create_run(create), "create run").info.run_id;
  const long long ts = mlflow::now_ms();
  std::vector<std::string> bodies;
  for (int start = 0; start < metrics; start += 1000) {
    nlohmann::json ms = nlohmann::json::array();
    for (int i = start; i < std::min(metrics, start + 1000); ++i) {
      ms.push_back({{"key", "m"}, {"value", i * 0.5}, {"timestamp", ts}, {"step", i}});
    }
    bodies.push_back(nlohmann::json{{"run_id", run_id}, {"metrics", ms}}.dump());
  }
  auto transport = mlflow::make_curl_transport();
  mlflow::HttpRequest req;
  req.method = "POST";
  req.url = client.tracking_uri() + "/api/2.0/mlflow/runs/log-batch";
  req.headers = {{"Content-Type", "application/json"}};
  const auto t0 = Clock::now();
  for (auto& body : bodies) {
    req.body = body;
    auto r = transport->send(req);
    if (!r.ok() || r->status != 200) die("floor: log-batch failed");
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (count_metrics(client, run_id) != static_cast<std::size_t>(metrics)) die("floor: metrics missing");
  return metrics / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"Measures the async logger: log_metric latency on the caller's thread (server up and "
               "down) and throughput into the server against the floor (pre-serialised 1000-metric "
               "log-batch requests over keep-alive). Uses MLFLOW_TRACKING_URI, or a local server over "
               "./mlflow.db.",
               "bench_tracking"};
  app.add_option("--reps", s.reps, "Repetitions; figures are min/median/max")->check(CLI::Range(1, 100));
  app.add_option("--latency-calls", s.latency_calls, "log_metric calls timed per repetition")
      ->check(CLI::Range(100, 100'000'000));
  app.add_option("--metrics", s.throughput_metrics, "Metrics per throughput repetition")
      ->check(CLI::Range(1000, 100'000'000));
  app.add_option("--out", s.out, "JSON results file");
  app.add_flag("--quick", s.quick, "Small sizes, 1 repetition: checks the program works (CI)");
  CLI11_PARSE(app, argc, argv);
  if (s.quick) {
    s.reps = 1;
    s.latency_calls = 2000;
    s.throughput_metrics = 2000;
  }
  auto client = unwrap(mlflow::connect_from_env(), "connect");
  auto dead = unwrap(mlflow::MlflowClient::make([] {
                       mlflow::ClientOptions o;
                       o.tracking_uri = "http://127.0.0.1:9";  // discard port: nothing listens
                       return o;
                     }()),
                     "dead client");

  std::vector<double> up_p50, up_p99, up_max, down_p50, down_p99, down_max, async_rate, floor_rate,
      batch_rate, ratio;
  for (int rep = 0; rep < s.reps; ++rep) {
    auto up = measure_latency(client, s.latency_calls, "up");
    up_p50.push_back(percentile(up, 0.50));
    up_p99.push_back(percentile(up, 0.99));
    up_max.push_back(percentile(up, 1.0));
    auto down = measure_latency(dead, s.latency_calls, "down");
    down_p50.push_back(percentile(down, 0.50));
    down_p99.push_back(percentile(down, 0.99));
    down_max.push_back(percentile(down, 1.0));
    // The server slows down as its tables grow, so the contenders take turns going first.
    for (int k = 0; k < 3; ++k) {
      switch ((rep + k) % 3) {
        case 0: floor_rate.push_back(floor_throughput(client, s.throughput_metrics)); break;
        case 1: batch_rate.push_back(client_batch_throughput(client, s.throughput_metrics)); break;
        default: async_rate.push_back(async_throughput(client, s.throughput_metrics)); break;
      }
    }
    ratio.push_back(async_rate.back() / floor_rate.back());
    std::fprintf(stderr,
                 "rep %d/%d: latency up p50 %.0f ns p99 %.0f ns | down p50 %.0f ns p99 %.0f ns | "
                 "floor %.0f metrics/s, client log_batch %.0f metrics/s, async %.0f metrics/s\n",
                 rep + 1, s.reps, up_p50.back(), up_p99.back(), down_p50.back(), down_p99.back(),
                 floor_rate.back(), batch_rate.back(), async_rate.back());
  }
  nlohmann::json out = {
      {"reps", s.reps},
      {"latency_calls", s.latency_calls},
      {"throughput_metrics", s.throughput_metrics},
      {"log_metric_ns_server_up", {{"p50", to_json(stats(up_p50))}, {"p99", to_json(stats(up_p99))}, {"max", to_json(stats(up_max))}}},
      {"log_metric_ns_server_down", {{"p50", to_json(stats(down_p50))}, {"p99", to_json(stats(down_p99))}, {"max", to_json(stats(down_max))}}},
      {"floor_metrics_per_s", to_json(stats(floor_rate))},
      {"client_log_batch_metrics_per_s", to_json(stats(batch_rate))},
      {"async_metrics_per_s", to_json(stats(async_rate))},
      {"async_over_floor", to_json(stats(ratio))},
  };
  std::ofstream(s.out) << out.dump(2) << "\n";
  fmt::print("log_metric latency, server up:   p50 {:.0f} ns, p99 {:.0f} ns (median of {} reps)\n",
             stats(up_p50).median, stats(up_p99).median, s.reps);
  fmt::print("log_metric latency, server down: p50 {:.0f} ns, p99 {:.0f} ns\n", stats(down_p50).median,
             stats(down_p99).median);
  fmt::print("throughput: async {:.0f} metrics/s, client log_batch {:.0f} metrics/s, floor {:.0f} "
             "metrics/s; async/floor per repetition: median {:.2f} (min {:.2f}, max {:.2f})\n",
             stats(async_rate).median, stats(batch_rate).median, stats(floor_rate).median,
             stats(ratio).median, stats(ratio).min, stats(ratio).max);
  fmt::print("results: {}\n", s.out);
  return 0;
}

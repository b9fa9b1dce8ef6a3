// SPDX-License-Identifier: Apache-2.0
// bench_tracking: the async logger's targets, measured against a real server.
//  - latency of AsyncRun::log_metric on the calling thread (p50, p99, max), server up and server
//  down;
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
#include <functional>
#include <iterator>
#include <map>
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
  int single_metrics = 500;
  std::string python = MLFLOW_CPP_VENV_PYTHON;
  int buffering_seconds = 1;  // MLflow reads MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS as an integer
  bool no_python = false;
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
  const std::size_t n = v.size();
  return {v.front(), n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.back()};
}
nlohmann::json to_json(const Stats& s) {
  return {{"min", s.min}, {"median", s.median}, {"max", s.max}};
}

std::string temp_dir(const std::string& tag) {
  auto p =
      std::filesystem::temp_directory_path() / fmt::format("bench-tracking-{}-{}", tag, ::getpid());
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

/// A new run in the bench experiment, created with the synchronous client.
std::string new_run(mlflow::MlflowClient& client, const std::string& name) {
  mlflow::MlflowClient::RunCreate create;
  create.experiment_id = unwrap(client.get_or_create_experiment("bench-tracking"), "experiment");
  create.run_name = name;
  return unwrap(client.create_run(create), "create run").info.run_id;
}

/// Per-call latency (ns) of log_metric; `client` unreachable or not.
std::vector<double> measure_latency(mlflow::MlflowClient client, int calls,
                                    const std::string& tag) {
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
    ns.push_back(static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
  }
  run.end();
  // Server down: nothing to wait for, the records are in the spool (deleted below).
  (void)logger->close(tag == "down" ? std::chrono::seconds(1) : std::chrono::seconds(300));
  std::filesystem::remove_all(spool);
  return ns;
}

/// Metrics per second through the async logger, first call to close() done; checks they all
/// arrived.
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
  if (!report.complete)
    die("async logger did not deliver everything: " + report.status().message());
  run.end();
  (void)logger->close(std::chrono::seconds(60));
  std::filesystem::remove_all(spool);
  if (count_metrics(client, run_id) != static_cast<std::size_t>(metrics))
    die("async: metrics missing");
  return metrics / seconds;
}

/// The synchronous client: one MlflowClient::log_batch call per 1000 metrics.
double client_batch_throughput(mlflow::MlflowClient client, int metrics) {
  const std::string run_id = new_run(client, "client-log-batch");
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
  if (count_metrics(client, run_id) != static_cast<std::size_t>(metrics))
    die("client: metrics missing");
  return metrics / seconds;
}

/// The floor: pre-serialised 1000-metric log-batch bodies posted back to back on one connection.
double floor_throughput(mlflow::MlflowClient client, int metrics) {
  const std::string run_id = new_run(client, "floor");
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
  if (count_metrics(client, run_id) != static_cast<std::size_t>(metrics))
    die("floor: metrics missing");
  return metrics / seconds;
}

/// The synchronous client, one request per value (MlflowClient::log_metric).
double client_single_throughput(mlflow::MlflowClient client, int metrics) {
  const std::string run_id = new_run(client, "client-log-metric");
  const auto t0 = Clock::now();
  for (int i = 0; i < metrics; ++i) {
    mlflow::Metric m;
    m.key = "m";
    m.value = i * 0.5;
    m.step = i;
    m.timestamp = mlflow::now_ms();
    if (!client.log_metric(run_id, m).ok()) die("client log_metric failed");
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (count_metrics(client, run_id) != static_cast<std::size_t>(metrics))
    die("single: metrics missing");
  return metrics / seconds;
}

/// One mode of the official Python client (apps/bench/python_tracking.py) in its own process.
nlohmann::json run_python(const std::string& python, const std::string& uri,
                          const std::string& mode, int metrics, int buffering_seconds) {
  // Python's warnings go to a file: shown only when the contender fails.
  const std::string err_file = temp_dir("python") + "/stderr.txt";
  std::string cmd = fmt::format("MLFLOW_TRACKING_URI='{}' ", uri);
  if (buffering_seconds > 0)
    cmd += fmt::format("MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS={} ", buffering_seconds);
  cmd += fmt::format("'{}' '{}' --mode {} --metrics {} 2>'{}'", python,
                     MLFLOW_CPP_PYTHON_TRACKING_SCRIPT, mode, metrics, err_file);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) die("cannot run " + python);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int rc = ::pclose(pipe);
  // The JSON is the last line (mlflow prints "View run ..." lines before it).
  std::string last = out;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
  auto j = nlohmann::json::parse(last, nullptr, false);
  if (rc != 0 || j.is_discarded() || j.value("stored", -1) != metrics) {
    std::ifstream err(err_file);
    std::string err_text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    if (err_text.size() > 4000) err_text = "..." + err_text.substr(err_text.size() - 4000);
    die(fmt::format("python {} mode failed (exit {}): {}\n{}", mode, rc, out, err_text));
  }
  std::filesystem::remove_all(std::filesystem::path(err_file).parent_path());
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{
      "Measures tracking throughput and overhead against one server: the C++ client (one request "
      "per value, one log-batch per 1000, the async logger), the official Python client (the "
      "same three, async with default settings and with MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS), "
      "and the floor (pre-serialised 1000-metric log-batch bodies over one keep-alive "
      "connection); log_metric latency on the caller's thread for both async loggers, ours also "
      "with the server down. Every contender's metrics are counted back through the API. Uses "
      "MLFLOW_TRACKING_URI, or a local server over ./mlflow.db.",
      "bench_tracking"};
  app.add_option("--reps", s.reps, "Repetitions; figures are min/median/max")
      ->check(CLI::Range(1, 100));
  app.add_option("--latency-calls", s.latency_calls, "C++ log_metric calls timed per repetition")
      ->check(CLI::Range(100, 100'000'000));
  app.add_option("--metrics", s.throughput_metrics,
                 "Metrics per repetition for the batch, async and floor contenders")
      ->check(CLI::Range(1000, 100'000'000));
  app.add_option("--single-metrics", s.single_metrics,
                 "Metrics per repetition for one-request-per-value and Python's default async")
      ->check(CLI::Range(10, 10'000'000));
  app.add_option("--python", s.python,
                 "Python with mlflow installed (default: the project's venv)");
  app.add_option("--buffering-seconds", s.buffering_seconds,
                 "MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS (whole seconds) for Python's buffered "
                 "async contender")
      ->check(CLI::Range(1, 3600));
  app.add_flag("--no-python", s.no_python, "Skip the Python contenders");
  app.add_option("--out", s.out, "JSON results file");
  app.add_flag("--quick", s.quick, "Small sizes, 1 repetition: checks the program works (CI)");
  CLI11_PARSE(app, argc, argv);
  if (s.quick) {
    s.reps = 1;
    s.latency_calls = 2000;
    s.throughput_metrics = 2000;
    s.single_metrics = 20;
  }
  auto client = unwrap(mlflow::connect_from_env(), "connect");
  auto dead = unwrap(mlflow::MlflowClient::make([] {
                       mlflow::ClientOptions o;
                       o.tracking_uri = "http://127.0.0.1:9";  // discard port: nothing listens
                       return o;
                     }()),
                     "dead client");

  std::map<std::string, std::vector<double>> series;  // name -> one figure per repetition
  auto add = [&](const std::string& name, double v) { series[name].push_back(v); };
  auto add_latency = [&](const std::string& prefix, std::vector<double> ns) {
    add(prefix + "_p50_ns", percentile(ns, 0.50));
    add(prefix + "_p99_ns", percentile(ns, 0.99));
    add(prefix + "_max_ns", percentile(ns, 1.0));
  };
  for (int rep = 0; rep < s.reps; ++rep) {
    add_latency("cpp_async_latency_server_up", measure_latency(client, s.latency_calls, "up"));
    add_latency("cpp_async_latency_server_down", measure_latency(dead, s.latency_calls, "down"));
    // The server slows down as its tables grow, so the contenders take turns going first.
    std::vector<std::function<void()>> contenders = {
        [&] { add("floor", floor_throughput(client, s.throughput_metrics)); },
        [&] { add("cpp_batch", client_batch_throughput(client, s.throughput_metrics)); },
        [&] { add("cpp_async", async_throughput(client, s.throughput_metrics)); },
        [&] { add("cpp_single", client_single_throughput(client, s.single_metrics)); },
    };
    if (!s.no_python) {
      const std::string uri = client.tracking_uri();
      contenders.push_back([&, uri] {
        add("python_single",
            run_python(s.python, uri, "single", s.single_metrics, 0)["metrics_per_s"]);
      });
      contenders.push_back([&, uri] {
        add("python_batch",
            run_python(s.python, uri, "batch", s.throughput_metrics, 0)["metrics_per_s"]);
      });
      contenders.push_back([&, uri] {
        auto j = run_python(s.python, uri, "async", s.single_metrics, 0);
        add("python_async", j["metrics_per_s"]);
        for (const char* k : {"p50", "p99", "max"})
          add(std::string("python_async_latency_") + k + "_ns", j["latency_ns"][k]);
      });
      contenders.push_back([&, uri] {
        auto j = run_python(s.python, uri, "async", s.throughput_metrics, s.buffering_seconds);
        add("python_async_buffered", j["metrics_per_s"]);
        for (const char* k : {"p50", "p99", "max"}) {
          add(std::string("python_async_buffered_latency_") + k + "_ns", j["latency_ns"][k]);
        }
      });
    }
    for (std::size_t k = 0; k < contenders.size(); ++k) contenders[(rep + k) % contenders.size()]();
    // Ratios per repetition (machine drift hits both sides of each), reported as their median.
    auto ratio = [&](const std::string& name, const std::string& a, const std::string& b) {
      if (series.count(a) && series.count(b)) add(name, series[a].back() / series[b].back());
    };
    for (const char* c : {"cpp_single", "cpp_batch", "cpp_async"}) {
      ratio(std::string(c) + "_over_floor", c, "floor");
    }
    ratio("python_batch_over_floor", "python_batch", "floor");
    ratio("python_async_buffered_over_floor", "python_async_buffered", "floor");
    ratio("cpp_single_over_python_single", "cpp_single", "python_single");
    ratio("cpp_batch_over_python_batch", "cpp_batch", "python_batch");
    ratio("cpp_async_over_python_single", "cpp_async", "python_single");
    ratio("cpp_async_over_python_async", "cpp_async", "python_async");
    ratio("cpp_async_over_python_async_buffered", "cpp_async", "python_async_buffered");
    std::string line = fmt::format("rep {}/{}:", rep + 1, s.reps);
    for (const char* k : {"floor", "cpp_async", "cpp_batch", "cpp_single", "python_async_buffered",
                          "python_async", "python_batch", "python_single"}) {
      if (series.count(k)) line += fmt::format(" {} {:.0f}/s", k, series[k].back());
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }

  nlohmann::json figures = nlohmann::json::object();
  for (const auto& [name, values] : series) {
    figures[name] = to_json(stats(values));
    figures[name]["values"] = values;
  }
  nlohmann::json out = {{"reps", s.reps},
                        {"latency_calls", s.latency_calls},
                        {"metrics", s.throughput_metrics},
                        {"single_metrics", s.single_metrics},
                        {"buffering_seconds", s.buffering_seconds},
                        {"tracking_uri", client.tracking_uri()},
                        {"figures", figures}};
  std::ofstream(s.out) << out.dump(2) << "\n";
  auto med = [&](const std::string& k) { return series.count(k) ? stats(series[k]).median : 0.0; };
  fmt::print("medians of {} repetitions (metrics/s):\n", s.reps);
  for (const char* k : {"floor", "cpp_async", "cpp_batch", "cpp_single", "python_async_buffered",
                        "python_async", "python_batch", "python_single"}) {
    if (series.count(k)) fmt::print("  {:<24} {:>10.0f}\n", k, med(k));
  }
  fmt::print(
      "C++ async log_metric: p50 {:.0f} ns, p99 {:.0f} ns, max {:.0f} ns (server down: p99 {:.0f} "
      "ns)\n",
      med("cpp_async_latency_server_up_p50_ns"), med("cpp_async_latency_server_up_p99_ns"),
      med("cpp_async_latency_server_up_max_ns"), med("cpp_async_latency_server_down_p99_ns"));
  if (series.count("python_async_latency_p50_ns")) {
    fmt::print("Python async log_metric: p50 {:.0f} ns, p99 {:.0f} ns, max {:.0f} ns\n",
               med("python_async_latency_p50_ns"), med("python_async_latency_p99_ns"),
               med("python_async_latency_max_ns"));
  }
  fmt::print("async/floor {:.2f}; async/python single {:.1f}x; async/python async {:.1f}x\n",
             med("cpp_async_over_floor"), med("cpp_async_over_python_single"),
             med("cpp_async_over_python_async"));
  fmt::print("results: {}\n", s.out);
  return 0;
}

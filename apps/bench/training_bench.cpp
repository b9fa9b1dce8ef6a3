// SPDX-License-Identifier: Apache-2.0
// bench_training: one SmallCNN epoch of the C++ trainer (train_fmnist) against the same epoch in
// PyTorch-in-Python (apps/bench/pytorch_smallcnn.py, run as a subprocess), and the trainer with
// MLflow tracking on against off. The three contenders take turns rep by rep, each going first in
// turn, so machine drift hits all of them.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <torch/version.h>
#include <unistd.h>

#include "fmnist/fmnist_data.h"
#include "fmnist/fmnist_tensors.h"
#include "fmnist/models.h"
#include "fmnist/trainer.h"
#include "mlflow/async_logger.h"
#include "mlflow/local_server.h"
#include "mlflow/training/staging_dir.h"
#include "mlflow/training/training_logger.h"

#ifndef MLFLOW_CPP_BENCH_PYTHON
#define MLFLOW_CPP_BENCH_PYTHON "/usr/bin/python3"
#endif
#ifndef MLFLOW_CPP_BENCH_SCRIPT
#define MLFLOW_CPP_BENCH_SCRIPT "pytorch_smallcnn.py"
#endif

namespace {

namespace fm = mlflow::fmnist;
namespace training = mlflow::training;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Images of the validation and test splits kept: train_fmnist evaluates them after the timed
// training pass, which this benchmark does not measure, so a small slice only saves time.
constexpr std::int64_t kEvalImages = 1000;
constexpr std::int64_t kWarmupBatches =
    5;  // as pytorch_smallcnn.py: one-time costs of a process's first batches

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

json summary(std::vector<double> v) {
  if (v.empty()) return {{"min", nullptr}, {"median", nullptr}, {"max", nullptr}};
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {{"min", v.front()}, {"median", median}, {"max", v.back()}};
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Standard output of `command` (standard error passes through); kInternal naming it when it fails.
mlflow::StatusOr<std::string> run_command(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return mlflow::Status(mlflow::StatusCode::kInternal, "cannot run: " + command);
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int rc = ::pclose(pipe);
  if (rc != 0) {
    return mlflow::Status(mlflow::StatusCode::kInternal,
                          fmt::format("exit status {}: {}", rc, command));
  }
  return out;
}

// Machine facts for the report: CPU model, cores, memory, Debian's torch package versions.
json machine_facts() {
  json m = {{"hardware_threads", std::thread::hardware_concurrency()}};
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      m["cpu_model"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  std::string key;
  double kb = 0;
  if (mem >> key >> kb && key == "MemTotal:") m["memory_gib"] = kb / (1024.0 * 1024.0);
  auto packages = run_command(
      "dpkg-query -W -f='${Package} ${Version}\\n' libtorch1.13 python3-torch 2>/dev/null");
  if (packages.ok()) m["debian_packages"] = *packages;
  return m;
}

// CPU seconds (user + system) of this process, all threads.
double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (utime + stime from /proc/PID/stat) of the live processes of process group `pgid`:
// the server's `mlflow server` wrapper and its uvicorn worker. 0 when pgid is 0.
double group_cpu_seconds(long pgid) {
  if (pgid <= 0) return 0;
  double ticks = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;  // not a process
    std::ifstream f(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const std::size_t paren = stat.rfind(')');  // the command name may hold spaces
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 2));
    std::string field;
    double cpu = 0;
    bool member = false;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 5) member = std::stol(field) == pgid;
      if (i == 14 || i == 15) cpu += std::stod(field);  // utime, stime
    }
    if (member) ticks += cpu;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

json load_average() {
  std::array<double, 3> load{};
  if (::getloadavg(load.data(), 3) != 3) return nullptr;
  return load;
}

// One timed C++ epoch, as the trainer reports it (the training pass only: validation is timed
// apart).
struct CppEpoch {
  double seconds = 0;
  double images_per_second = 0;
  double train_loss = 0;
  double train_accuracy = 0;
  // Tracking on only: the trainer's per-epoch log_epoch call, and waiting for the per-batch metrics
  // to arrive.
  double epoch_log_seconds = 0;
  double batch_log_seconds = 0;  // all the log_metric calls of the epoch, on the training thread
  double flush_seconds = 0;
  double setup_seconds =
      0;  // starting the run and attaching the async logger, before the epoch (not in `seconds`)
  std::int64_t batch_metrics_delivered = 0;
  // CPU over the whole train_fmnist call (plus the flush when tracked): this process, and the
  // server when known.
  double cpu_seconds = 0;
  double server_cpu_seconds = 0;
};

class Bench {
 public:
  Bench(fm::TrainConfig config, const fm::FmnistSplits& data, std::string experiment,
        long server_pid)
      : config_(std::move(config)),
        data_(data),
        experiment_(std::move(experiment)),
        server_pid_(server_pid) {}

  mlflow::Status open_work_dir() {
    auto dir = training::StagingDir::make("bench-training");
    if (!dir.ok()) return dir.status();
    work_ = std::make_unique<training::StagingDir>(std::move(*dir));
    return mlflow::ok_status();
  }

  // The trainer exactly as an untracked caller runs it: no callbacks at all.
  mlflow::StatusOr<CppEpoch> untracked(const fm::TrainConfig& config) {
    const double cpu = process_cpu_seconds(), server_cpu = group_cpu_seconds(server_pid_);
    auto out = fm::train_fmnist(config, data_, work_->path());
    if (!out.ok()) return out.status();
    CppEpoch e = from_history(out->history.front(), images(config));
    e.cpu_seconds = process_cpu_seconds() - cpu;
    e.server_cpu_seconds = group_cpu_seconds(server_pid_) - server_cpu;
    return e;
  }

  // Tracking on: the trainer's own per-epoch metrics (TrainingLogger::log_epoch, one synchronous
  // request, as run_tracked_training does) plus the running training loss after every batch through
  // the AsyncLogger, into the same run. The epoch's time adds the log_epoch call and the wait until
  // every record is delivered.
  mlflow::StatusOr<CppEpoch> tracked(mlflow::MlflowClient& client, int rep) {
    mlflow::RunOptions ro;
    ro.experiment_name = experiment_;
    ro.run_name = fmt::format("cpp-tracked-rep{}", rep);
    const auto setup_start = Clock::now();
    auto run = mlflow::ActiveRun::start(client, ro);
    if (!run.ok()) return run.status().with_context("starting the tracked run");
    mlflow::AsyncLoggerOptions lo;
    lo.spool_dir = work_->file("spool");
    lo.log = [](const std::string&) {};  // the close summary would interleave with the table
    auto logger = mlflow::AsyncLogger::open(client, lo);
    if (!logger.ok()) return logger.status().with_context("opening the async logger");
    mlflow::RunOptions same;
    same.run_id = run->id();
    auto async_run = (*logger)->start_run(same);
    if (!async_run.ok())
      return async_run.status().with_context("attaching the async logger to the run");
    // Run setup is a cost per run, not per epoch: finish it (the worker attaching to the run)
    // before timing.
    auto attached = async_run->wait_for_id(std::chrono::seconds(60));
    if (!attached.ok())
      return attached.status().with_context("attaching the async logger to the run");
    const double setup_seconds = seconds_since(setup_start);

    training::TrainingLogger epoch_logger(*run);
    CppEpoch e;
    std::int64_t step = 0;
    mlflow::Status batch_status = mlflow::ok_status();
    fm::TrainCallbacks cb;
    cb.on_batch = [&](std::int64_t, std::int64_t, std::int64_t, double loss, double) {
      const auto start = Clock::now();
      const mlflow::Status s = async_run->log_metric("batch_loss", loss, step++);
      e.batch_log_seconds += seconds_since(start);
      if (!s.ok() && batch_status.ok()) batch_status = s;
    };
    cb.on_epoch = [&](const training::EpochMetrics& m) {
      const auto start = Clock::now();
      mlflow::Status s = epoch_logger.log_epoch(m);
      e.epoch_log_seconds = seconds_since(start);
      return s;
    };
    const double cpu = process_cpu_seconds(), server_cpu = group_cpu_seconds(server_pid_);
    auto out = fm::train_fmnist(config_, data_, work_->path(), cb);
    if (!out.ok()) return out.status().with_context("tracked training");
    MLFLOW_CPP_RETURN_IF_ERROR(batch_status.with_context("logging batch_loss"));
    const auto flush_start = Clock::now();
    const mlflow::FlushReport flushed = (*logger)->flush(std::chrono::seconds(60));
    e.flush_seconds = seconds_since(flush_start);
    e.cpu_seconds = process_cpu_seconds() - cpu;
    e.server_cpu_seconds = group_cpu_seconds(server_pid_) - server_cpu;
    MLFLOW_CPP_RETURN_IF_ERROR(flushed.status().with_context("flushing the async logger"));
    async_run->end();
    (void)(*logger)->close();
    MLFLOW_CPP_RETURN_IF_ERROR(run->end());

    auto history = client.get_metric_history(run->id(), "batch_loss");
    if (!history.ok()) return history.status().with_context("counting batch_loss back");
    const CppEpoch timed = from_history(out->history.front(), images(config_));
    e.seconds = timed.seconds + e.epoch_log_seconds + e.flush_seconds;
    e.images_per_second = static_cast<double>(images(config_)) / e.seconds;
    e.train_loss = timed.train_loss;
    e.train_accuracy = timed.train_accuracy;
    e.setup_seconds = setup_seconds;
    e.batch_metrics_delivered = static_cast<std::int64_t>(history->size());
    if (e.batch_metrics_delivered != step) {
      return mlflow::Status(mlflow::StatusCode::kInternal,
                            fmt::format("run {}: {} batch_loss values logged, {} on the server",
                                        run->id(), step, e.batch_metrics_delivered));
    }
    return e;
  }

  std::int64_t images(const fm::TrainConfig& config) const {
    return config.train_limit > 0 ? std::min(config.train_limit, data_.train.size())
                                  : data_.train.size();
  }

  const fm::TrainConfig& config() const { return config_; }

 private:
  static CppEpoch from_history(const training::EpochMetrics& m, std::int64_t images) {
    CppEpoch e;
    e.images_per_second = m.images_per_second;
    e.seconds = m.images_per_second > 0 ? static_cast<double>(images) / m.images_per_second : 0;
    e.train_loss = m.train_loss;
    e.train_accuracy = m.train_accuracy;
    return e;
  }

  fm::TrainConfig config_;
  const fm::FmnistSplits& data_;
  std::string experiment_;
  long server_pid_ = 0;
  std::unique_ptr<training::StagingDir> work_;
};

struct PythonSide {
  std::string python;
  std::string script;
  std::string data_dir;
};

// One epoch of pytorch_smallcnn.py in a fresh process (its own warm-up, data loaded before timing).
mlflow::StatusOr<json> python_epoch(const PythonSide& py, const fm::TrainConfig& c,
                                    std::int64_t limit) {
  const std::string command = fmt::format(
      "{} {} --threads {} --batch-size {} --lr {} --seed {} --train-val-split {} --limit {} --reps "
      "1 --data-dir {}",
      shell_quote(py.python), shell_quote(py.script), c.threads, c.batch_size, c.learning_rate,
      c.seed, c.train_val_split, limit, shell_quote(py.data_dir));
  auto out = run_command(command);
  if (!out.ok()) return out.status().with_context("PyTorch-in-Python epoch");
  json j = json::parse(*out, nullptr, false);
  if (j.is_discarded() || !j.contains("reps") || j["reps"].empty()) {
    return mlflow::Status(mlflow::StatusCode::kInternal,
                          "PyTorch-in-Python epoch: no JSON result from " + command);
  }
  return j;
}

int fail(const mlflow::Status& s) {
  fmt::print(stderr, "bench_training: error: {}\n", s.to_string());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "One SmallCNN epoch (48k training images, batch 64, Adam 1e-3) of the C++ trainer against "
      "the same\n"
      "epoch in PyTorch-in-Python (Debian's python3-torch), and the trainer with MLflow tracking "
      "on\n"
      "against off. Tracking logs to $MLFLOW_TRACKING_URI (local mode when unset).",
      "bench_training"};
  bool quick = false;
  int threads = 2;
  int reps = 5;
  std::int64_t batch_size = 64;
  std::int64_t limit = 0;
  std::string out_file;
  std::string experiment = "training-bench";
  long server_pid = 0;
  PythonSide py{MLFLOW_CPP_BENCH_PYTHON, MLFLOW_CPP_BENCH_SCRIPT, ""};
  app.add_flag(
      "--quick", quick,
      "2 reps over 2000 images at 1 thread: checks the program works, figures mean nothing");
  app.add_option("--threads", threads, "intra-op (and inter-op) threads on both sides (default 2)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--reps", reps, "repetitions of each contender (default 5)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--batch-size", batch_size, "images per batch on both sides (default 64)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--limit", limit,
                 "train on the first N images of the split only (default 0: all 48000)")
      ->check(CLI::Range(0, 60000));
  app.add_option("--python", py.python,
                 "Python interpreter with torch (default " MLFLOW_CPP_BENCH_PYTHON ")");
  app.add_option("--script", py.script,
                 "the PyTorch script (default: apps/bench/pytorch_smallcnn.py of the source)");
  app.add_option("--out", out_file, "also write every figure as JSON to this file");
  app.add_option("--experiment", experiment,
                 "MLflow experiment of the tracked runs (default training-bench)");
  app.add_option("--server-pid", server_pid,
                 "the tracking server's process group (server.pid of mlflow/server.sh), to report "
                 "the CPU time of its\n"
                 "processes per epoch (same machine only)");
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    reps = std::min(reps, 2);
    limit = 2000;
    threads = 1;
  }

  at::set_num_interop_threads(threads);  // as the Python side; before any inter-op work
  const json load_start = load_average();
  py.data_dir = fm::fmnist_data_dir();
  auto data = fm::load_fmnist_splits(py.data_dir, {});
  if (!data.ok()) return fail(data.status());
  data->validation = {data->validation.images.narrow(0, 0, kEvalImages),
                      data->validation.labels.narrow(0, 0, kEvalImages)};
  data->test = {data->test.images.narrow(0, 0, kEvalImages),
                data->test.labels.narrow(0, 0, kEvalImages)};
  auto client = mlflow::connect_from_env();
  if (!client.ok()) return fail(client.status());

  fm::TrainConfig config;  // defaults: small_cnn, Adam 1e-3, seed 42, split 0.8
  config.max_epochs = 1;
  config.batch_size = batch_size;
  config.threads = threads;
  config.train_limit = limit;
  Bench bench(config, *data, experiment, server_pid);
  if (auto s = bench.open_work_dir(); !s.ok()) return fail(s);
  const std::int64_t images = bench.images(config);

  fm::TrainConfig warmup = config;
  warmup.train_limit = kWarmupBatches * config.batch_size;
  if (auto w = bench.untracked(warmup); !w.ok()) return fail(w.status());

  std::vector<double> cpp_ips, cpp_s, py_ips, py_s, on_s, ratio, overhead, epoch_log_s, flush_s,
      setup_s;
  std::vector<double> extra_cpu, extra_server_cpu;  // tracked minus untracked, per rep
  std::vector<double>
      direct;  // % of the untracked epoch spent in logging calls on the training thread
  json cpp_reps = json::array(), py_reps = json::array(), on_reps = json::array(),
       order = json::array();
  json py_info;
  const std::array<std::string, 3> names = {"cpp", "python", "cpp_tracked"};
  for (int rep = 0; rep < reps; ++rep) {
    CppEpoch off, on;
    json pj;
    json rep_order = json::array();
    for (int k = 0; k < 3; ++k) {
      const std::size_t who = static_cast<std::size_t>((rep + k) % 3);
      rep_order.push_back(names[who]);
      fmt::print(stderr, "[bench_training] rep {}/{}: {} ...\n", rep + 1, reps, names[who]);
      if (who == 0) {
        auto r = bench.untracked(config);
        if (!r.ok()) return fail(r.status());
        off = *r;
      } else if (who == 1) {
        auto r = python_epoch(py, config, limit);
        if (!r.ok()) return fail(r.status());
        pj = (*r)["reps"][0];
        py_info = *r;
      } else {
        auto r = bench.tracked(*client, rep);
        if (!r.ok()) return fail(r.status());
        on = *r;
      }
    }
    order.push_back(rep_order);
    cpp_ips.push_back(off.images_per_second);
    cpp_s.push_back(off.seconds);
    py_ips.push_back(pj["images_per_second"].get<double>());
    py_s.push_back(pj["seconds"].get<double>());
    on_s.push_back(on.seconds);
    epoch_log_s.push_back(on.epoch_log_seconds);
    flush_s.push_back(on.flush_seconds);
    setup_s.push_back(on.setup_seconds);
    extra_cpu.push_back(on.cpu_seconds - off.cpu_seconds);
    direct.push_back(100.0 * (on.batch_log_seconds + on.epoch_log_seconds + on.flush_seconds) /
                     off.seconds);
    extra_server_cpu.push_back(on.server_cpu_seconds - off.server_cpu_seconds);
    ratio.push_back(off.images_per_second / py_ips.back());
    overhead.push_back(100.0 * (on.seconds - off.seconds) / off.seconds);
    cpp_reps.push_back({{"seconds", off.seconds},
                        {"images_per_second", off.images_per_second},
                        {"cpu_seconds", off.cpu_seconds},
                        {"server_cpu_seconds", off.server_cpu_seconds},
                        {"train_loss", off.train_loss},
                        {"train_accuracy", off.train_accuracy}});
    py_reps.push_back(pj);
    on_reps.push_back({{"seconds", on.seconds},
                       {"images_per_second", on.images_per_second},
                       {"train_loss", on.train_loss},
                       {"epoch_log_seconds", on.epoch_log_seconds},
                       {"flush_seconds", on.flush_seconds},
                       {"batch_log_seconds", on.batch_log_seconds},
                       {"setup_seconds", on.setup_seconds},
                       {"cpu_seconds", on.cpu_seconds},
                       {"server_cpu_seconds", on.server_cpu_seconds},
                       {"batch_metrics_delivered", on.batch_metrics_delivered}});
    fmt::print(stderr,
               "[bench_training] rep {}: C++ {:.0f} img/s, Python {:.0f} img/s (x{:.3f}), tracked "
               "{:+.2f}%\n",
               rep + 1, off.images_per_second, py_ips.back(), ratio.back(), overhead.back());
  }
  const json load_end = load_average();

  const json cpp_sum = summary(cpp_ips), py_sum = summary(py_ips), ratio_sum = summary(ratio);
  std::vector<double> batch_log_s;
  for (const json& r : on_reps) batch_log_s.push_back(r["batch_log_seconds"].get<double>());
  const json overhead_sum = summary(overhead), on_sum = summary(on_s), off_sum = summary(cpp_s);
  const std::int64_t batches = (images + config.batch_size - 1) / config.batch_size;
  const double epoch_log_share =
      100.0 * summary(epoch_log_s)["median"].get<double>() / off_sum["median"].get<double>();
  json j = {
      {"benchmark", "training"},
      {"quick", quick},
      {"settings",
       {{"model", config.model},
        {"threads", threads},
        {"interop_threads", threads},
        {"batch_size", config.batch_size},
        {"optimizer", config.optimizer},
        {"learning_rate", config.learning_rate},
        {"seed", config.seed},
        {"images_per_epoch", images},
        {"batches_per_epoch", batches},
        {"reps", reps},
        {"warmup_batches", kWarmupBatches}}},
      {"machine", machine_facts()},
      {"load_average", {{"start", load_start}, {"end", load_end}}},
      {"versions",
       {{"cpp_torch_version", TORCH_VERSION},
        {"cpp_libtorch_version", fm::libtorch_version()},
        {"python_torch_version", py_info.value("torch_version", "")},
        {"python_version", py_info.value("python_version", "")},
        {"python", py.python},
        {"script", py.script}}},
      {"order", order},
      {"cpp", {{"reps", cpp_reps}, {"images_per_second", cpp_sum}, {"seconds", off_sum}}},
      {"python",
       {{"reps", py_reps},
        {"images_per_second", py_sum},
        {"seconds", summary(py_s)},
        {"parallel_info", py_info.value("parallel_info", "")}}},
      {"cpp_over_python",
       {{"per_rep", ratio},
        {"summary", ratio_sum},
        {"ratio_of_medians", cpp_sum["median"].get<double>() / py_sum["median"].get<double>()},
        {"target", 1.2}}},
      {"tracking",
       {{"what",
         "on: the trainer's per-epoch metrics (TrainingLogger::log_epoch, one synchronous request "
         "after the "
         "epoch) plus the running training loss after every batch through AsyncLogger into the "
         "same run; "
         "time = training pass + log_epoch call + flush until every batch_loss record is "
         "delivered. off: "
         "train_fmnist with no callbacks. Run setup (start the run, attach the logger) is per run, "
         "not per "
         "epoch: done before the epoch and reported apart. direct_overhead_percent: time in the "
         "logging calls on the "
         "training thread. extra_*_cpu_seconds: CPU of the tracked call minus the untracked one, "
         "this process "
         "(includes OpenMP's spin-waiting, which grows with the epoch's length) and the server's "
         "process "
         "group (--server-pid)."},
        {"reps", on_reps},
        {"on_seconds", on_sum},
        {"off_seconds", off_sum},
        {"overhead_percent_per_rep", overhead},
        {"overhead_percent", overhead_sum},
        {"epoch_log_seconds", summary(epoch_log_s)},
        {"flush_seconds", summary(flush_s)},
        {"run_setup_seconds", summary(setup_s)},
        {"batch_log_seconds", summary(batch_log_s)},
        {"direct_overhead_percent", summary(direct)},
        {"extra_process_cpu_seconds", summary(extra_cpu)},
        {"extra_server_cpu_seconds", server_pid > 0 ? summary(extra_server_cpu) : json(nullptr)},
        {"epoch_log_only_overhead_percent", epoch_log_share},
        {"target_percent", 1.0}}}};
  if (!out_file.empty()) {
    std::ofstream f(out_file);
    f << j.dump(2) << "\n";
    if (!f)
      return fail(mlflow::Status(mlflow::StatusCode::kInternal, "cannot write '" + out_file + "'"));
  }

  auto row = [](const std::string& name, const json& s, const char* unit) {
    fmt::print("| {} | {:.1f} | {:.1f} | {:.1f} | {} |\n", name, s["min"].get<double>(),
               s["median"].get<double>(), s["max"].get<double>(), unit);
  };
  fmt::print("\nSmallCNN, one epoch of {} images, batch {}, {} thread(s), {} reps{}\n", images,
             config.batch_size, threads, reps, quick ? " (quick: figures mean nothing)" : "");
  fmt::print("| contender | min | median | max | unit |\n|---|---|---|---|---|\n");
  row("C++ trainer (LibTorch " + fm::libtorch_version() + ")", cpp_sum, "images/s");
  row("PyTorch in Python (torch " + py_info.value("torch_version", "?") + ")", py_sum, "images/s");
  row("C++ trainer, tracking on", summary([&] {
        std::vector<double> v;
        for (double s : on_s) v.push_back(static_cast<double>(images) / s);
        return v;
      }()),
      "images/s");
  fmt::print(
      "\nC++ / Python: x{:.3f} (median of per-rep ratios; min {:.3f}, max {:.3f}; target >= 1.2)\n",
      ratio_sum["median"].get<double>(), ratio_sum["min"].get<double>(),
      ratio_sum["max"].get<double>());
  fmt::print(
      "Tracking overhead: {:+.2f}% of the epoch (median of per-rep differences; min {:+.2f}%, max "
      "{:+.2f}%; "
      "target <= 1%)\n",
      overhead_sum["median"].get<double>(), overhead_sum["min"].get<double>(),
      overhead_sum["max"].get<double>());
  fmt::print(
      "  per-epoch log_epoch call alone: {:.1f} ms ({:.3f}% of the epoch); flush of {} batch_loss "
      "values "
      "after the epoch: {:.1f} ms\n",
      1000 * summary(epoch_log_s)["median"].get<double>(), epoch_log_share, batches,
      1000 * summary(flush_s)["median"].get<double>());
  fmt::print(
      "  on the training thread: {} log_metric calls {:.2f} ms in all; with log_epoch and flush "
      "{:.3f}% of the "
      "epoch (direct cost; the rest of the wall-clock difference is CPU taken by the logger's "
      "worker and the "
      "server, and noise)\n",
      batches, 1000 * summary(batch_log_s)["median"].get<double>(),
      summary(direct)["median"].get<double>());
  fmt::print(
      "  run setup before the epoch (start the run, attach the async logger): {:.1f} ms, not "
      "counted\n",
      1000 * summary(setup_s)["median"].get<double>());
  fmt::print("  extra CPU while tracking: {:.2f} s in this process{}\n",
             summary(extra_cpu)["median"].get<double>(),
             server_pid > 0 ? fmt::format(", {:.2f} s in the server",
                                          summary(extra_server_cpu)["median"].get<double>())
                            : std::string(" (--server-pid adds the server's)"));
  fmt::print("Load average at start {} and end {}\n", load_start.dump(), load_end.dump());
  return 0;
}

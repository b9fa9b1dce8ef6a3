// SPDX-License-Identifier: Apache-2.0
// fmnist_serve: the registered champion served over HTTP on the loopback interface.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "app_support.h"
#include "batcher.h"
#include "classifier_predictor.h"
#include "drift_watch.h"
#include "mlflow/async_logger.h"
#include "mlflow/local_server.h"
#include "mlflow/model_uri.h"
#include "mlflow/training/staging_dir.h"
#include "model_follower.h"
#include "model_loader.h"
#include "serve_metrics.h"
#include "server.h"

namespace {

namespace serve = mlflow::serve;
using mlflow::apps::kExitFailed;
using mlflow::apps::kExitOk;
using mlflow::apps::kExitUsage;
const mlflow::apps::ErrorExit fail{"fmnist_serve"};

struct Args {
  std::string model = "models:/fmnist-classifier@champion";
  serve::ServerOptions server;
  serve::BatcherOptions batcher;
  double max_wait_ms = 2;
  double max_body_mb = 16;
  int threads = 1;
  double poll_seconds = 10;
  std::string monitor_experiment = "fmnist-serve-monitoring";
  bool no_monitor_run = false;
};

// SIGINT and SIGTERM are blocked in every thread and taken by one that stops the server.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

std::string name_and_version(const serve::Predictor& model) {
  const auto& info = model.info();
  return info.name + (info.version.empty() ? "" : " v" + info.version);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Serves a Fashion-MNIST classifier from MLflow over HTTP: MLflow's scoring protocol\n"
      "(/invocations), Open Inference Protocol v2 (/v2/...), /predict for an image upload,\n"
      "/classes, /health, /metrics (Prometheus) and a page to try it at /.\n"
      "Payload: float32 [N, 1, 28, 28] in the training scale (pixel / 255, light garment on "
      "black).",
      "fmnist_serve"};
  Args args;
  app.add_option("--model,-m", args.model,
                 "runs:/RUN_ID/model, models:/NAME@ALIAS, models:/NAME/VERSION, models:/MODEL_ID "
                 "or a model directory (default models:/fmnist-classifier@champion)");
  app.add_option("--host", args.server.host, "address to listen on (default 127.0.0.1)");
  app.add_option("--port,-p", args.server.port, "port (default 8080; 0 picks a free one)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--max-batch", args.batcher.max_batch,
                 "images per forward pass at most; 1 turns batching off (default 32)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-wait-ms", args.max_wait_ms,
                 "how long a request waits for others to batch with (default 2)")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--max-queue", args.batcher.max_queue_images,
                 "images waiting at most; more get 429 (default 2048)")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--max-in-flight", args.server.max_in_flight,
                 "inference requests at once; more get 503 (default 256)")
      ->check(CLI::Range(1, 1 << 16));
  app.add_option("--http-threads", args.server.http_threads,
                 "connections served at once (default 16)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-body-mb", args.max_body_mb, "largest request body (default 16)")
      ->check(CLI::Range(0.001, 1024.0));
  app.add_option("--threads", args.threads, "LibTorch intra-op threads (0 = all cores; default 1)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--poll-seconds", args.poll_seconds,
                 "for models:/NAME@ALIAS: how often to check where the alias points (0 = never; "
                 "default 10)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--monitor-experiment", args.monitor_experiment,
                 "experiment of the monitoring run that gets each drift window's metrics (default "
                 "fmnist-serve-monitoring)");
  app.add_flag("--no-monitor-run", args.no_monitor_run,
               "do not log drift windows to MLflow (they still show in /health and /metrics)");
  app.footer(
      "Model URIs use MLFLOW_TRACKING_URI (unset: local mode over ./mlflow.db).\n"
      "Exit codes: 0 stopped by SIGINT/SIGTERM, 1 server failure, 2 bad usage or a model that "
      "does not resolve.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail(kExitUsage, std::string(e.what()) + " (see 'fmnist_serve --help')");
  }
  args.batcher.max_wait =
      std::chrono::microseconds(static_cast<std::int64_t>(args.max_wait_ms * 1000));
  args.server.max_body_bytes = static_cast<std::size_t>(args.max_body_mb * 1024 * 1024);
  args.server.version = MLFLOW_CPP_VERSION;

  // Before any thread starts, so that all of them inherit the mask.
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::optional<mlflow::MlflowClient> client;
  if (mlflow::is_model_uri(args.model)) {
    auto c = mlflow::connect_from_env();
    if (!c.ok()) return fail(kExitFailed, "cannot reach MLflow: " + c.status().to_string());
    client = std::move(*c);
  }
  auto scratch = mlflow::training::StagingDir::make("fmnist-serve");
  if (!scratch.ok()) return fail(kExitFailed, scratch.status().message());
  serve::set_inference_threads(args.threads);
  auto first =
      serve::load_predictor(client ? &*client : nullptr, args.model, scratch->file("model-first"));
  if (!first.ok()) {
    const auto code = first.status().code();
    const bool bad_input =
        code == mlflow::StatusCode::kNotFound || code == mlflow::StatusCode::kInvalidArgument;
    return fail(bad_input ? kExitUsage : kExitFailed,
                "cannot load " + args.model + ": " + first.status().to_string());
  }

  serve::ModelHolder models;
  serve::ServeMetrics metrics;
  metrics.set_model((*first)->info());
  models.swap_in(std::move(*first));
  // Drift windows go to a monitoring run through the async logger: never blocking the batch
  // worker, and spooled when the tracking server is away.
  std::shared_ptr<mlflow::AsyncLogger> logger;
  std::optional<mlflow::AsyncRun> monitor_run;
  if (client && !args.no_monitor_run) {
    auto opened = mlflow::AsyncLogger::open_from_env();
    if (!opened.ok()) return fail(kExitFailed, "monitoring run: " + opened.status().to_string());
    logger = *opened;
    mlflow::RunOptions run_options;
    run_options.experiment_name = args.monitor_experiment;
    run_options.run_name = "serve " + name_and_version(*models.current());
    auto run = logger->start_run(run_options);
    if (!run.ok()) return fail(kExitFailed, "monitoring run: " + run.status().to_string());
    monitor_run.emplace(std::move(*run));
    (void)monitor_run->log_param("model_uri", args.model);
  }
  serve::DriftWatch drift(
      metrics, [&monitor_run](const serve::DriftWindow& window, const serve::ModelInfo& model) {
        if (!monitor_run) return;
        (void)monitor_run->set_tag("serving_version", model.version);
        for (const auto& [name, value] : serve::drift_window_metrics(window)) {
          (void)monitor_run->log_metric(name, value, window.index);
        }
      });
  serve::BatchObserver observer;
  observer.on_batch = [&metrics, &drift](const float* images, const float* probabilities,
                                         std::int64_t n, const serve::Predictor& model,
                                         std::chrono::nanoseconds took) {
    metrics.record_batch(n, took);
    drift.observe(images, probabilities, n, model);
  };
  serve::Batcher batcher(args.batcher, models, observer);

  // Following the alias: only for models:/NAME@ALIAS.
  std::unique_ptr<serve::ModelFollower> follower;
  auto parsed = mlflow::parse_model_uri(args.model);
  if (client && parsed.ok() && parsed->kind == mlflow::ModelUri::Kind::kAlias &&
      args.poll_seconds > 0) {
    const auto name = parsed->name;
    const auto alias = parsed->alias;
    follower = std::make_unique<serve::ModelFollower>(
        models, alias,
        [&client, name, alias]() -> mlflow::StatusOr<std::string> {
          auto v = client->get_model_version_by_alias(name, alias);
          if (!v.ok()) return v.status();
          return v->version;
        },
        [&client, &scratch, name, alias](const std::string& version) {
          auto loaded = serve::load_predictor(&*client, "models:/" + name + "@" + alias,
                                              scratch->file("model-v" + version));
          return loaded;
        },
        [&metrics](const mlflow::Status& status, const serve::Predictor* model) {
          metrics.record_reload(status.ok());
          if (model != nullptr) {
            metrics.set_model(model->info());
            fmt::print(stderr, "fmnist_serve: now serving {} version {}\n", model->info().name,
                       model->info().version);
          } else {
            fmt::print(stderr, "fmnist_serve: reload failed, the old version keeps serving: {}\n",
                       status.to_string());
          }
        });
    follower->start(std::chrono::milliseconds(static_cast<std::int64_t>(args.poll_seconds * 1000)));
  }

  serve::ServeContext context{models, batcher, metrics, [&follower, &drift]() {
                                nlohmann::json details = drift.health();
                                if (follower) {
                                  auto s = follower->state();
                                  details["reload"] = {{"alias", s.alias},
                                                       {"serving_version", s.serving_version},
                                                       {"seen_version", s.seen_version},
                                                       {"failed_version", s.failed_version},
                                                       {"last_error", s.last_error},
                                                       {"reloads", s.reloads},
                                                       {"failures", s.failures}};
                                }
                                return details;
                              }};
  serve::Server server(args.server, context);
  auto port = server.bind();
  if (!port.ok()) return fail(kExitFailed, port.status().message());

  std::thread signal_thread([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
  });
  const auto& info = models.current()->info();
  fmt::print("fmnist_serve: serving {} {} ({}) on http://{}:{}/ (batch {} images, wait {} ms)\n",
             info.name, info.version.empty() ? "" : "version " + info.version, info.architecture,
             args.server.host, *port, args.batcher.max_batch, args.max_wait_ms);
  std::fflush(stdout);
  server.listen();
  // listen() also returns when the server fails; wake the signal thread either way.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  if (follower) follower->stop();
  batcher.stop();
  if (monitor_run) {
    monitor_run->end();
    logger->close();  // delivers what is queued, or spools it for the next start
  }
  return kExitOk;
}

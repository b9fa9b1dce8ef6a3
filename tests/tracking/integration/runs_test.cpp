// SPDX-License-Identifier: Apache-2.0
// Run endpoints and the ActiveRun API against the real server.
#include <doctest/doctest.h>

#include <atomic>
#include <cfloat>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mlflow/run.h"
#include "support/test_support.h"

using mlflow::ActiveRun;
using mlflow::RunStatus;
using mlflow::StatusCode;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;

namespace {
mlflow::RunOptions in_new_experiment(const std::string& run_name = "r") {
  mlflow::RunOptions o;
  o.experiment_name = unique_name("runs");
  o.run_name = run_name;
  return o;
}
}  // namespace

TEST_CASE("runs: ActiveRun sets system tags, logs params/metrics/tags and ends FINISHED") {
  auto c = test_client();
  std::string run_id;
  {
    auto run = ActiveRun::start(c, in_new_experiment("train-1"));
    REQUIRE_MESSAGE(run.ok(), run.status().to_string());
    run_id = run->id();
    REQUIRE(run->log_param("lr", "0.001").ok());
    REQUIRE(run->log_params({{"batch_size", "64"}, {"optimizer", "adam"}}).ok());
    for (int epoch = 0; epoch < 3; ++epoch) {
      REQUIRE(run->log_metrics({{"train_loss", 1.0 / (epoch + 1)}, {"val_acc", 0.5 + 0.1 * epoch}},
                               epoch)
                  .ok());
    }
    REQUIRE(run->log_metric("test_acc", 0.91).ok());
    REQUIRE(run->set_tag("purpose", "test").ok());
    REQUIRE(run->end().ok());
    CHECK(run->ended());
    CHECK(run->end().ok());  // idempotent
  }
  auto r = c.get_run(run_id);
  REQUIRE(r.ok());
  CHECK(r->info.status == RunStatus::kFinished);
  CHECK(r->info.end_time.has_value());
  CHECK(r->info.run_name == "train-1");
  const auto& tags = r->data.tags;
  CHECK(mlflow::find_value(tags, "mlflow.source.type") == "LOCAL");
  CHECK(mlflow::find_value(tags, "mlflow.runName") == "train-1");
  CHECK(mlflow::find_value(tags, "mlflow.user").has_value());
  CHECK(mlflow::find_value(tags, "mlflow.source.name")->find("tracking_integration") !=
        std::string::npos);
  CHECK(mlflow::find_value(tags, "purpose") == "test");
  CHECK(r->data.params.size() == 3);

  auto hist = c.get_metric_history(run_id, "val_acc");
  REQUIRE(hist.ok());
  REQUIRE(hist->size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK((*hist)[i].step == i);
    CHECK((*hist)[i].value == doctest::Approx(0.5 + 0.1 * i));
  }
}

TEST_CASE("runs: re-logging a param with another value is INVALID_PARAMETER_VALUE") {
  auto c = test_client();
  auto run = ActiveRun::start(c, in_new_experiment());
  REQUIRE(run.ok());
  REQUIRE(run->log_param("lr", "0.1").ok());
  CHECK(run->log_param("lr", "0.1").ok());  // same value: idempotent
  auto st = run->log_param("lr", "0.2");
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.error_code() == "INVALID_PARAMETER_VALUE");
  CHECK(st.http_status() == 400);
  CHECK(st.to_string().find("INVALID_PARAMETER_VALUE") != std::string::npos);
}

TEST_CASE("runs: an ActiveRun destroyed by an exception ends FAILED") {
  auto c = test_client();
  std::string run_id;
  try {
    auto run = ActiveRun::start(c, in_new_experiment());
    REQUIRE(run.ok());
    run_id = run->id();
    throw std::runtime_error("training diverged");
  } catch (const std::runtime_error&) {
  }
  REQUIRE(!run_id.empty());
  CHECK(c.get_run(run_id)->info.status == RunStatus::kFailed);
}

TEST_CASE("runs: nested runs carry mlflow.parentRunId - resume by id") {
  auto c = test_client();
  auto parent = ActiveRun::start(c, in_new_experiment("parent"));
  REQUIRE(parent.ok());
  mlflow::RunOptions child_opts;
  child_opts.run_name = "child";
  auto child = parent->start_child(child_opts);
  REQUIRE(child.ok());
  CHECK(child->experiment_id() == parent->experiment_id());
  auto cr = c.get_run(child->id());
  CHECK(mlflow::find_value(cr->data.tags, "mlflow.parentRunId") == parent->id());
  REQUIRE(child->end(RunStatus::kKilled).ok());
  CHECK(c.get_run(child->id())->info.status == RunStatus::kKilled);

  auto resumed = ActiveRun::resume(c, child->id());
  REQUIRE(resumed.ok());
  CHECK(c.get_run(child->id())->info.status == RunStatus::kRunning);
  REQUIRE(resumed->log_metric("after_resume", 1.0).ok());
  REQUIRE(resumed->end().ok());
  CHECK(c.get_run(child->id())->info.status == RunStatus::kFinished);
  REQUIRE(parent->end().ok());
}

TEST_CASE("runs: NaN and +-Inf metrics round-trip as MLflow stores them") {
  auto c = test_client();
  auto run = ActiveRun::start(c, in_new_experiment());
  REQUIRE(run.ok());
  REQUIRE(run->log_metric("v", std::numeric_limits<double>::quiet_NaN(), 0).ok());
  REQUIRE(run->log_metric("v", std::numeric_limits<double>::infinity(), 1).ok());
  REQUIRE(run->log_metric("v", -std::numeric_limits<double>::infinity(), 2).ok());
  auto h = c.get_metric_history(run->id(), "v");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  CHECK(std::isnan((*h)[0].value));
  // The SQL store clamps +-Inf to +-DBL_MAX (mlflow-rest.md §0); accept that or a real infinity.
  CHECK(((*h)[1].value == DBL_MAX || std::isinf((*h)[1].value)));
  CHECK((*h)[1].value > 0);
  CHECK(((*h)[2].value == -DBL_MAX || std::isinf((*h)[2].value)));
  CHECK((*h)[2].value < 0);
}

TEST_CASE("runs: log_batch over the limits arrives whole and in order - history pages") {
  auto c = test_client();
  auto run = ActiveRun::start(c, in_new_experiment());
  REQUIRE(run.ok());
  std::vector<mlflow::Metric> ms;
  for (int i = 0; i < 2500; ++i) ms.push_back({"loss", i * 0.5, 1000 + i, i, {}, {}, {}, {}});
  std::vector<mlflow::Param> ps;
  for (int i = 0; i < 130; ++i) ps.push_back({"p" + std::to_string(i), std::to_string(i)});
  mlflow::Tags ts;
  for (int i = 0; i < 120; ++i) ts.push_back({"t" + std::to_string(i), "x"});
  REQUIRE(c.log_batch(run->id(), ms, ps, ts).ok());

  auto page = c.get_metric_history_page(run->id(), "loss", 1000);
  REQUIRE(page.ok());
  CHECK(page->items.size() == 1000);
  CHECK_FALSE(page->next_page_token.empty());
  auto all = c.get_metric_history(run->id(), "loss");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2500);
  for (int i = 0; i < 2500; ++i) {
    CHECK((*all)[i].step == i);
    CHECK((*all)[i].value == i * 0.5);
    CHECK((*all)[i].timestamp == 1000 + i);
  }
  auto r = c.get_run(run->id());
  CHECK(r->data.params.size() == 130);
  CHECK(mlflow::find_value(r->data.tags, "t119") == "x");
}

TEST_CASE("runs: update name/status, delete tag, search with filter/order/paging, delete/restore") {
  auto c = test_client();
  auto exp = c.get_or_create_experiment(unique_name("search-runs"));
  REQUIRE(exp.ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto r = c.create_run({*exp, "run-" + std::to_string(i), std::nullopt, {}});
    REQUIRE(r.ok());
    ids.push_back(r->info.run_id);
    REQUIRE(c.log_metric(ids.back(), {"acc", 0.1 * i, mlflow::now_ms(), 0, {}, {}, {}, {}}).ok());
    REQUIRE(c.log_param(ids.back(), "idx", std::to_string(i)).ok());
  }
  auto info = c.update_run(ids[0], RunStatus::kFinished, mlflow::now_ms(), "renamed");
  REQUIRE(info.ok());
  CHECK(info->run_name == "renamed");
  CHECK(info->status == RunStatus::kFinished);

  REQUIRE(c.set_tag(ids[1], "tmp", "1").ok());
  REQUIRE(c.delete_tag(ids[1], "tmp").ok());
  CHECK_FALSE(mlflow::find_value(c.get_run(ids[1])->data.tags, "tmp").has_value());

  mlflow::SearchOptions s;
  s.filter = "metrics.acc > 0.05";
  s.order_by = {"metrics.acc DESC"};
  s.max_results = 2;
  std::vector<std::string> found;
  do {
    auto page = c.search_runs({*exp}, s);
    REQUIRE_MESSAGE(page.ok(), page.status().to_string());
    for (const auto& r : page->items) found.push_back(r.info.run_id);
    s.page_token = page->next_page_token;
  } while (!s.page_token.empty());
  CHECK(found == std::vector<std::string>{ids[3], ids[2], ids[1]});

  REQUIRE(c.delete_run(ids[3]).ok());
  CHECK(c.get_run(ids[3])->info.lifecycle_stage == "deleted");
  auto active = c.search_runs({*exp}, {"params.idx = '3'", {}, 100, {}});
  CHECK(active->items.empty());
  auto deleted =
      c.search_runs({*exp}, {"params.idx = '3'", {}, 100, {}}, mlflow::ViewType::kDeletedOnly);
  CHECK(deleted->items.size() == 1);
  REQUIRE(c.restore_run(ids[3]).ok());
  CHECK(c.get_run(ids[3])->info.lifecycle_stage == "active");
}

TEST_CASE("runs: dataset inputs round-trip with their context tag") {
  auto c = test_client();
  auto run = ActiveRun::start(c, in_new_experiment());
  REQUIRE(run.ok());
  mlflow::DatasetInput in;
  in.dataset = {"fashion-mnist-train",
                "abc123",
                "local",
                R"({"uri": "/usr/share/datasets/fashion-mnist"})",
                R"({"mlflow_tensorspec": {"features": "[]"}})",
                R"({"num_rows": 48000})"};
  in.tags = {{"mlflow.data.context", "training"}};
  REQUIRE(c.log_inputs(run->id(), {in}).ok());
  auto r = c.get_run(run->id());
  REQUIRE(r->dataset_inputs.size() == 1);
  CHECK(r->dataset_inputs[0].dataset.name == "fashion-mnist-train");
  CHECK(r->dataset_inputs[0].dataset.digest == "abc123");
  CHECK(r->dataset_inputs[0].dataset.source_type == "local");
  CHECK(mlflow::find_value(r->dataset_inputs[0].tags, "mlflow.data.context") == "training");
  mlflow::DatasetInput bad = in;
  bad.dataset.digest.clear();
  CHECK(c.log_inputs(run->id(), {bad}).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("runs: runs logging the same new dataset at once all get it (the server's insert race)") {
  // Trials of a sweep start together and log the same dataset into one experiment: the server's
  // look-up-then-insert lets all but one fail with an IntegrityError, which log_inputs re-sends.
  auto c = test_client();
  auto exp = c.create_experiment(unique_name("inputs-race"));
  REQUIRE(exp.ok());
  constexpr int kRuns = 6, kRounds = 8;
  std::vector<std::string> ids;
  for (int i = 0; i < kRuns; ++i) {
    auto r = c.create_run({*exp, "racer-" + std::to_string(i), {}, {}});
    REQUIRE(r.ok());
    ids.push_back(r->info.run_id);
  }
  std::vector<std::string> failures;
  std::mutex failure_mutex;
  for (int round = 0; round < kRounds; ++round) {
    mlflow::DatasetInput in;
    const std::string digest = "digest-" + std::to_string(round);
    in.dataset = {"shared", digest, "local", R"({"uri": "/data"})", "", ""};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kRuns; ++i) {
      threads.emplace_back([&, i] {
        auto client = test_client();  // its own connection, as a trial process has
        ready.fetch_add(1);
        while (ready.load() < kRuns) std::this_thread::yield();
        auto st = client.log_inputs(ids[i], {in});
        if (!st.ok()) {
          std::lock_guard<std::mutex> lock(failure_mutex);
          failures.push_back(st.to_string());
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  INFO((failures.empty() ? "" : failures.front()));
  CHECK(failures.size() == 0);
  for (const auto& id : ids) CHECK(c.get_run(id)->dataset_inputs.size() == kRounds);
}

TEST_CASE("runs: unknown run ids are kNotFound for get and resume") {
  auto c = test_client();
  auto r = c.get_run("0123456789abcdef0123456789abcdef");
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK(r.status().error_code() == "RESOURCE_DOES_NOT_EXIST");
  CHECK(ActiveRun::resume(c, "0123456789abcdef0123456789abcdef").status().code() ==
        StatusCode::kNotFound);
}

TEST_CASE("runs: unreachable server fails within the retry budget with host:port") {
  mlflow::ClientOptions o;
  o.tracking_uri = "http://127.0.0.1:9";  // discard port: nothing listens
  o.retry.max_retries = 2;
  o.retry.backoff_factor = std::chrono::milliseconds(10);
  o.retry.backoff_jitter = std::chrono::milliseconds(0);
  auto c = mlflow::MlflowClient::make(o);
  REQUIRE(c.ok());
  auto r = c->get_run("abc");
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK(r.status().message().find("127.0.0.1:9") != std::string::npos);
  CHECK(r.status().message().find("3 attempts") != std::string::npos);
}

TEST_CASE("runs: one client shared by several threads logs everything (connection pool)") {
  auto c = test_client();
  auto run = ActiveRun::start(c, in_new_experiment());
  REQUIRE(run.ok());
  const std::string run_id = run->id();
  constexpr int kThreads = 4, kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto local = c;  // copies share one connection pool
      for (int i = 0; i < kPerThread; ++i) {
        mlflow::Metric m{"t" + std::to_string(t), double(i), mlflow::now_ms(), i, {}, {}, {}, {}};
        if (!local.log_metric(run_id, m).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  for (int t = 0; t < kThreads; ++t) {
    auto h = c.get_metric_history(run_id, "t" + std::to_string(t));
    REQUIRE(h.ok());
    CHECK(h->size() == kPerThread);
  }
}

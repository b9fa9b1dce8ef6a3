// SPDX-License-Identifier: Apache-2.0
// `mlflowctl runs ...`: search, show, create and end runs; log params, metrics and tags to them.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "json_view.h"
#include "mlflow/system_tags.h"
#include "mlflow/validation.h"
#include "output.h"

namespace mlflowctl {

namespace {

// ---- runs search ----------------------------------------------------------------------------

struct SearchArgs {
  std::vector<std::string> experiment_names;
  std::vector<std::string> experiment_ids;
  std::string filter;
  std::vector<std::string> order_by;
  int max = 1000;
  std::string view = "active";
};

void run_search(Context& ctx, const SearchArgs& a) {
  if (a.experiment_names.empty() && a.experiment_ids.empty()) {
    usage_error("runs search needs --experiment NAME or --experiment-id ID");
  }
  for (const auto& id : a.experiment_ids) require_nonempty(id, "--experiment-id");
  for (const auto& name : a.experiment_names) require_nonempty(name, "--experiment");
  auto& client = ctx.client();
  std::vector<std::string> ids = a.experiment_ids;
  for (const auto& name : a.experiment_names) {
    ids.push_back(unwrap(client.get_experiment_by_name(name), fmt::format("experiment '{}'", name))
                      .experiment_id);
  }
  auto runs = collect_pages<mlflow::Run>(
      a.max, kSearchPageSize,
      [&](const std::string& token, int page_size) {
        mlflow::SearchOptions s;
        s.filter = a.filter;
        s.order_by = a.order_by;
        s.max_results = page_size;
        s.page_token = token;
        return client.search_runs(ids, s, parse_view(a.view));
      },
      "search runs");
  if (ctx.global.json) {
    print_json(to_json_array(runs));
    return;
  }
  Table table({"RUN_ID", "EXPERIMENT_ID", "NAME", "STATUS", "STARTED"});
  for (const auto& r : runs) {
    table.add_row({r.info.run_id, r.info.experiment_id, one_line(r.info.run_name),
                   mlflow::to_string(r.info.status), format_time(r.info.start_time)});
  }
  table.print();
}

// ---- runs show ------------------------------------------------------------------------------

template <typename T>
void sort_by_key(std::vector<T>& items) {
  std::sort(items.begin(), items.end(), [](const T& x, const T& y) { return x.key < y.key; });
}

void run_show(Context& ctx, const std::string& run_id) {
  require_nonempty(run_id, "RUN_ID");
  mlflow::Run run = unwrap(ctx.client().get_run(run_id), fmt::format("get run '{}'", run_id));
  if (ctx.global.json) {
    print_json(to_json(run));
    return;
  }
  const auto& i = run.info;
  print_fields({{"Run ID", i.run_id},
                {"Name", one_line(i.run_name)},
                {"Experiment ID", i.experiment_id},
                {"Status", mlflow::to_string(i.status)},
                {"User", i.user_id},
                {"Started", format_time(i.start_time)},
                {"Ended", i.end_time ? format_time(*i.end_time) : ""},
                {"Artifact URI", i.artifact_uri},
                {"Lifecycle stage", i.lifecycle_stage}});

  auto params = run.data.params;
  sort_by_key(params);
  print_heading(fmt::format("Params ({})", params.size()));
  Table pt({"KEY", "VALUE"});
  for (const auto& p : params) pt.add_row({p.key, one_line(p.value)});
  if (!pt.empty()) pt.print();

  auto metrics = run.data.metrics;
  sort_by_key(metrics);
  print_heading(fmt::format("Metrics ({}, latest values)", metrics.size()));
  Table mt({"KEY", "VALUE", "STEP", "TIME"});
  for (const auto& m : metrics) {
    mt.add_row({m.key, format_number(m.value), std::to_string(m.step), format_time(m.timestamp)});
  }
  if (!mt.empty()) mt.print();

  auto tags = run.data.tags;
  sort_by_key(tags);
  print_heading(fmt::format("Tags ({})", tags.size()));
  Table tt({"KEY", "VALUE"});
  for (const auto& t : tags) tt.add_row({t.key, one_line(t.value)});
  if (!tt.empty()) tt.print();
}

// ---- runs create / end ----------------------------------------------------------------------

struct CreateArgs {
  std::string experiment_name;
  std::string experiment_id;
  std::string run_name;
  std::vector<std::string> tags;
};

void run_create(Context& ctx, const CreateArgs& a) {
  if (a.experiment_name.empty() == a.experiment_id.empty()) {
    usage_error("runs create needs exactly one of --experiment NAME or --experiment-id ID");
  }
  mlflow::MlflowClient::RunCreate create;
  create.run_name = a.run_name;
  // The system tags every run of this toolkit starts with; a --tag of the same key replaces one.
  create.tags = mlflow::system_tags("mlflowctl", parse_tags(a.tags, "--tag"));
  auto& client = ctx.client();
  create.experiment_id = a.experiment_id.empty()
                             ? unwrap(client.get_or_create_experiment(a.experiment_name),
                                      fmt::format("experiment '{}'", a.experiment_name))
                             : a.experiment_id;
  mlflow::Run run = unwrap(client.create_run(create),
                           fmt::format("create run in experiment {}", create.experiment_id));
  if (ctx.global.json) {
    print_json(to_json(run.info));
  } else {
    fmt::print("{}\n", run.info.run_id);
  }
}

struct EndArgs {
  std::string run_id;
  std::string status = "FINISHED";
};

void run_end(Context& ctx, const EndArgs& a) {
  require_nonempty(a.run_id, "RUN_ID");
  auto status = mlflow::parse_run_status(a.status);
  mlflow::RunInfo info = unwrap(ctx.client().update_run(a.run_id, status, mlflow::now_ms()),
                                fmt::format("end run '{}'", a.run_id));
  if (ctx.global.json) {
    print_json(to_json(info));
  } else {
    fmt::print("Ended run {} as {}\n", info.run_id, mlflow::to_string(info.status));
  }
}

// ---- runs log-param / log-metric / set-tag --------------------------------------------------

struct LogArgs {
  std::string run_id;
  std::string key;
  std::string value;
  std::int64_t step = 0;
  std::optional<std::int64_t> timestamp;  ///< now when unset
};

void print_logged(Context& ctx, const char* kind, const LogArgs& a, nlohmann::json value) {
  if (ctx.global.json) {
    nlohmann::json out{{"run_id", a.run_id}, {"key", a.key}, {"value", std::move(value)}};
    if (a.timestamp) {  // only metrics have one
      out["step"] = a.step;
      out["timestamp"] = *a.timestamp;
    }
    print_json(out);
  } else {
    fmt::print("Logged {} {}={} to run {}\n", kind, a.key, one_line(a.value), a.run_id);
  }
}

void run_log_param(Context& ctx, const LogArgs& a) {
  require_nonempty(a.run_id, "RUN_ID");
  check(mlflow::validate_param(a.key, a.value), "");
  check(ctx.client().log_param(a.run_id, a.key, a.value),
        fmt::format("log param '{}' to run '{}'", a.key, a.run_id));
  print_logged(ctx, "param", a, a.value);
}

void run_log_metric(Context& ctx, LogArgs a) {
  require_nonempty(a.run_id, "RUN_ID");
  mlflow::Metric m;
  m.key = a.key;
  m.value = parse_metric_value(a.value, fmt::format("metric '{}' value", a.key));
  m.step = a.step;
  m.timestamp = a.timestamp.value_or(mlflow::now_ms());
  a.timestamp = m.timestamp;
  check(mlflow::validate_metric(m.key, m.timestamp), "");
  check(ctx.client().log_metric(a.run_id, m),
        fmt::format("log metric '{}' to run '{}'", a.key, a.run_id));
  print_logged(ctx, "metric", a, metric_value_json(m.value));
}

void run_set_tag(Context& ctx, const LogArgs& a) {
  require_nonempty(a.run_id, "RUN_ID");
  check(mlflow::validate_tag(a.key, a.value), "");
  check(ctx.client().set_tag(a.run_id, a.key, a.value),
        fmt::format("set tag '{}' on run '{}'", a.key, a.run_id));
  print_logged(ctx, "tag", a, a.value);
}

/// RUN_ID KEY VALUE positionals shared by the three logging commands.
void add_log_positionals(CLI::App& sub, LogArgs& a, const char* value_help) {
  sub.add_option("RUN_ID", a.run_id, "Run id")->required();
  sub.add_option("KEY", a.key, "Key")->required();
  sub.add_option("VALUE", a.value, value_help)->required();
}

}  // namespace

void add_runs_commands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("runs", "Search, show, create and log to runs");
  group->require_subcommand(1);

  auto search = std::make_shared<SearchArgs>();
  CLI::App* s = group->add_subcommand("search", "List runs of one or more experiments");
  s->alias("list");
  s->add_option("--experiment", search->experiment_names, "Experiment name (repeatable)")
      ->allow_extra_args(false);
  s->add_option("--experiment-id", search->experiment_ids, "Experiment id (repeatable)")
      ->allow_extra_args(false);
  s->add_option("--filter", search->filter, "MLflow filter, e.g. \"metrics.loss < 0.1\"");
  s->add_option("--order-by", search->order_by,
                "Order clause, e.g. \"metrics.loss ASC\" (repeatable)")
      ->allow_extra_args(false);
  s->add_option("--max", search->max, "Most runs to return")
      ->check(CLI::Range(1, kMaxResults))
      ->capture_default_str();
  add_view_option(*s, search->view);
  on_selected(*s, ctx, [&ctx, search] { run_search(ctx, *search); });

  auto show_id = std::make_shared<std::string>();
  CLI::App* sh =
      group->add_subcommand("show", "Show a run's info, params, latest metrics and tags");
  sh->add_option("RUN_ID", *show_id, "Run id")->required();
  on_selected(*sh, ctx, [&ctx, show_id] { run_show(ctx, *show_id); });

  auto create = std::make_shared<CreateArgs>();
  CLI::App* c = group->add_subcommand("create", "Start a run and print its id");
  c->add_option("--experiment", create->experiment_name, "Experiment name (created when missing)");
  c->add_option("--experiment-id", create->experiment_id, "Experiment id");
  c->add_option("--name", create->run_name, "Run name (default: chosen by the server)");
  c->add_option("--tag", create->tags, "Run tag KEY=VALUE (repeatable)")->allow_extra_args(false);
  on_selected(*c, ctx, [&ctx, create] { run_create(ctx, *create); });

  auto end = std::make_shared<EndArgs>();
  CLI::App* e = group->add_subcommand("end", "Mark a run as ended");
  e->add_option("RUN_ID", end->run_id, "Run id")->required();
  e->add_option("--status", end->status, "Final status")
      ->check(CLI::IsMember({"FINISHED", "FAILED", "KILLED"}))
      ->capture_default_str();
  on_selected(*e, ctx, [&ctx, end] { run_end(ctx, *end); });

  auto param = std::make_shared<LogArgs>();
  CLI::App* lp =
      group->add_subcommand("log-param", "Log a param (params cannot change once logged)");
  add_log_positionals(*lp, *param, "Value (at most 6000 characters)");
  on_selected(*lp, ctx, [&ctx, param] { run_log_param(ctx, *param); });

  auto metric = std::make_shared<LogArgs>();
  CLI::App* lm = group->add_subcommand("log-metric", "Log one metric value");
  add_log_positionals(*lm, *metric,
                      "Number, or nan / inf / -inf (put -- before negative infinity)");
  lm->add_option("--step", metric->step, "Step")->capture_default_str();
  auto timestamp_ms = std::make_shared<std::int64_t>(0);
  auto* timestamp =
      lm->add_option("--timestamp", *timestamp_ms, "Milliseconds since the epoch (default: now)");
  on_selected(*lm, ctx, [&ctx, metric, timestamp, timestamp_ms] {
    if (timestamp->count() > 0) metric->timestamp = *timestamp_ms;
    run_log_metric(ctx, *metric);
  });

  auto tag = std::make_shared<LogArgs>();
  CLI::App* st = group->add_subcommand("set-tag", "Set a tag on a run");
  add_log_positionals(*st, *tag, "Value (at most 8000 characters)");
  on_selected(*st, ctx, [&ctx, tag] { run_set_tag(ctx, *tag); });
}

}  // namespace mlflowctl

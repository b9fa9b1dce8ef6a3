// SPDX-License-Identifier: Apache-2.0
// `mlflowctl experiments ...`: search/list and create experiments.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "json_view.h"
#include "mlflow/validation.h"
#include "output.h"

namespace mlflowctl {

namespace {

struct SearchArgs {
  std::string filter;
  std::vector<std::string> order_by;
  int max = 1000;
  std::string view = "active";
};

void run_search(Context& ctx, const SearchArgs& a) {
  auto& client = ctx.client();
  auto experiments = collect_pages<mlflow::Experiment>(
      a.max, kSearchPageSize,
      [&](const std::string& token, int page_size) {
        mlflow::SearchOptions s;
        s.filter = a.filter;
        s.order_by = a.order_by;
        s.max_results = page_size;
        s.page_token = token;
        return client.search_experiments(s, parse_view(a.view));
      },
      "search experiments");
  if (ctx.global.json) {
    print_json(to_json_array(experiments));
    return;
  }
  Table table({"ID", "NAME", "STAGE", "CREATED", "ARTIFACT_LOCATION"});
  for (const auto& e : experiments) {
    table.add_row({e.experiment_id, one_line(e.name), e.lifecycle_stage,
                   format_time(e.creation_time), e.artifact_location});
  }
  table.print();
}

struct CreateArgs {
  std::string name;
  std::vector<std::string> tags;
  std::string artifact_location;
};

void run_create(Context& ctx, const CreateArgs& a) {
  check(mlflow::validate_experiment_name(a.name), "");
  mlflow::Tags tags = parse_tags(a.tags, "--tag");
  std::string id = unwrap(ctx.client().create_experiment(a.name, tags, a.artifact_location),
                          fmt::format("create experiment '{}'", a.name));
  if (ctx.global.json) {
    print_json({{"experiment_id", id}, {"name", a.name}});
  } else {
    fmt::print("Created experiment '{}' with id {}\n", a.name, id);
  }
}

}  // namespace

void add_experiments_commands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("experiments", "Search and create experiments");
  group->require_subcommand(1);

  auto search = std::make_shared<SearchArgs>();
  CLI::App* s =
      group->add_subcommand("search", "List experiments, optionally filtered and ordered");
  s->alias("list");
  s->add_option("--filter", search->filter, "MLflow filter, e.g. \"name LIKE 'exp-%'\"");
  s->add_option("--order-by", search->order_by, "Order clause, e.g. \"name ASC\" (repeatable)")
      ->allow_extra_args(false);
  s->add_option("--max", search->max, "Most experiments to return")
      ->check(CLI::Range(1, kMaxResults))
      ->capture_default_str();
  add_view_option(*s, search->view);
  on_selected(*s, ctx, [&ctx, search] { run_search(ctx, *search); });

  auto create = std::make_shared<CreateArgs>();
  CLI::App* c = group->add_subcommand("create", "Create an experiment and print its id");
  c->add_option("NAME", create->name, "Experiment name")->required();
  c->add_option("--tag", create->tags, "Experiment tag KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--artifact-location", create->artifact_location,
                "Artifact root URI (default: chosen by the server)");
  on_selected(*c, ctx, [&ctx, create] { run_create(ctx, *create); });
}

}  // namespace mlflowctl

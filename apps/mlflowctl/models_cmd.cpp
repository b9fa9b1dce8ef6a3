// SPDX-License-Identifier: Apache-2.0
// `mlflowctl models ...`: register model versions and manage registered-model aliases.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "json_view.h"
#include "output.h"

namespace mlflowctl {

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

/// "<id>" of a "runs:/<id>/..." source; empty for other sources.
std::string run_of_source(const std::string& source) {
  const std::string prefix = "runs:/";
  if (source.compare(0, prefix.size(), prefix) != 0) return {};
  return source.substr(prefix.size(), source.find('/', prefix.size()) - prefix.size());
}

void print_version(Context& ctx, const mlflow::ModelVersion& v) {
  if (ctx.global.json) {
    print_json(to_json(v));
    return;
  }
  Fields fields{{"Name", v.name},
                {"Version", v.version},
                {"Status", v.status},
                {"Source", v.source},
                {"Run ID", v.run_id},
                {"Model ID", v.model_id},
                {"Aliases", join(v.aliases, ", ")},
                {"Created", format_time(v.creation_timestamp)}};
  if (!v.description.empty()) fields.emplace_back("Description", one_line(v.description));
  print_fields(fields);
}

// ---- models create-version ------------------------------------------------------------------

struct CreateVersionArgs {
  std::string name;
  std::string source;
  std::string run_id;
  std::string model_id;
  std::string description;
  std::vector<std::string> tags;
};

void run_create_version(Context& ctx, const CreateVersionArgs& a) {
  require_nonempty(a.name, "NAME");
  require_nonempty(a.source, "--source");
  mlflow::ModelVersionCreate create;
  create.name = a.name;
  create.source = a.source;
  // The server rejects a runs:/ source unless run_id names that run, so take it from the source.
  create.run_id = a.run_id.empty() ? run_of_source(a.source) : a.run_id;
  create.model_id = a.model_id;
  create.description = a.description;
  create.tags = parse_tags(a.tags, "--tag");

  auto& client = ctx.client();
  auto model = client.get_registered_model(a.name);
  if (!model.ok() && model.status().code() == mlflow::StatusCode::kNotFound) {
    auto created = client.create_registered_model(a.name);
    // Another process may have registered it since we looked; that is fine.
    if (!created.ok() && created.status().code() != mlflow::StatusCode::kAlreadyExists) {
      check(created.status(), fmt::format("create registered model '{}'", a.name));
    }
  } else if (!model.ok()) {
    check(model.status(), fmt::format("get registered model '{}'", a.name));
  }
  mlflow::ModelVersion v = unwrap(client.create_model_version(create),
                                  fmt::format("create a version of model '{}'", a.name));
  if (!ctx.global.json)
    fmt::print("Created version {} of registered model '{}'\n", v.version, v.name);
  print_version(ctx, v);
}

// ---- models set-alias / get-alias / delete-alias --------------------------------------------

struct AliasArgs {
  std::string name;
  std::string alias;
  std::string version;
};

void run_set_alias(Context& ctx, const AliasArgs& a) {
  require_nonempty(a.name, "NAME");
  require_nonempty(a.alias, "ALIAS");
  require_nonempty(a.version, "VERSION");
  check(ctx.client().set_registered_model_alias(a.name, a.alias, a.version),
        fmt::format("set alias '{}' of model '{}' to version {}", a.alias, a.name, a.version));
  if (ctx.global.json) {
    print_json({{"name", a.name}, {"alias", a.alias}, {"version", a.version}});
  } else {
    fmt::print("Alias '{}' of model '{}' now points to version {}\n", a.alias, a.name, a.version);
  }
}

void run_get_alias(Context& ctx, const AliasArgs& a) {
  require_nonempty(a.name, "NAME");
  require_nonempty(a.alias, "ALIAS");
  print_version(ctx, unwrap(ctx.client().get_model_version_by_alias(a.name, a.alias),
                            fmt::format("get alias '{}' of model '{}'", a.alias, a.name)));
}

void run_delete_alias(Context& ctx, const AliasArgs& a) {
  require_nonempty(a.name, "NAME");
  require_nonempty(a.alias, "ALIAS");
  check(ctx.client().delete_registered_model_alias(a.name, a.alias),
        fmt::format("delete alias '{}' of model '{}'", a.alias, a.name));
  if (ctx.global.json) {
    print_json({{"name", a.name}, {"alias", a.alias}, {"deleted", true}});
  } else {
    fmt::print("Deleted alias '{}' of model '{}'\n", a.alias, a.name);
  }
}

}  // namespace

void add_models_commands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("models", "Register model versions and manage aliases");
  group->require_subcommand(1);

  auto cv = std::make_shared<CreateVersionArgs>();
  CLI::App* c = group->add_subcommand(
      "create-version",
      "Create a version of a registered model (registering the model if missing)");
  c->add_option("NAME", cv->name, "Registered model name")->required();
  c->add_option("--source", cv->source,
                "Where the files are, e.g. runs:/<run_id>/model or models:/<model_id>")
      ->required();
  c->add_option("--run-id", cv->run_id,
                "Run that produced the model (default: the run of a runs:/ source)");
  c->add_option("--model-id", cv->model_id, "MLflow 3 logged model id");
  c->add_option("--description", cv->description, "Version description");
  c->add_option("--tag", cv->tags, "Version tag KEY=VALUE (repeatable)")->allow_extra_args(false);
  on_selected(*c, ctx, [&ctx, cv] { run_create_version(ctx, *cv); });

  auto set = std::make_shared<AliasArgs>();
  CLI::App* s = group->add_subcommand("set-alias", "Point an alias (e.g. champion) at a version");
  s->add_option("NAME", set->name, "Registered model name")->required();
  s->add_option("ALIAS", set->alias, "Alias")->required();
  s->add_option("VERSION", set->version, "Version number")->required();
  on_selected(*s, ctx, [&ctx, set] { run_set_alias(ctx, *set); });

  auto get = std::make_shared<AliasArgs>();
  CLI::App* g = group->add_subcommand("get-alias", "Show the version an alias points to");
  g->add_option("NAME", get->name, "Registered model name")->required();
  g->add_option("ALIAS", get->alias, "Alias")->required();
  on_selected(*g, ctx, [&ctx, get] { run_get_alias(ctx, *get); });

  auto del = std::make_shared<AliasArgs>();
  CLI::App* d = group->add_subcommand("delete-alias", "Remove an alias");
  d->add_option("NAME", del->name, "Registered model name")->required();
  d->add_option("ALIAS", del->alias, "Alias")->required();
  on_selected(*d, ctx, [&ctx, del] { run_delete_alias(ctx, *del); });
}

}  // namespace mlflowctl

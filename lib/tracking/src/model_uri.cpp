// SPDX-License-Identifier: Apache-2.0
// The one resolver of runs:/ and models:/ URIs (see mlflow/model_uri.h for what each form means).
#include "mlflow/model_uri.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include "artifact_uri.h"
#include "mlflow/ascii.h"

namespace mlflow {

namespace {

constexpr const char* kRunsForms = "runs:/<run_id>[/<model name or artifact path>]";
constexpr const char* kModelsForms =
    "models:/<model_id>, models:/<name>/<version>, models:/<name>/latest, models:/<name>/<stage> "
    "or models:/<name>@<alias>";

Status improper(const std::string& uri, const char* forms) {
  return Status(StatusCode::kInvalidArgument,
                fmt::format("'{}' is not a proper model URI; expected {}", uri, forms));
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

/// Sets `rest` to what follows "SCHEME:/" (scheme_len = length of "SCHEME:"), leading slashes
/// dropped; false when there is no slash there or nothing after it.
bool after_scheme(const std::string& uri, std::size_t scheme_len, std::string* rest) {
  if (uri.size() < scheme_len + 2 || uri[scheme_len] != '/') return false;
  *rest = uri.substr(std::min(uri.find_first_not_of('/', scheme_len), uri.size()));
  return !rest->empty();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

StatusOr<ModelUri> parse_runs(const std::string& uri) {
  std::string rest;
  if (!after_scheme(uri, 5, &rest)) return improper(uri, kRunsForms);
  const auto slash = rest.find('/');
  ModelUri m;
  m.kind = ModelUri::Kind::kRun;
  m.run_id = rest.substr(0, slash);
  // A quote would end the search filter the run's logged models are looked up with.
  if (m.run_id.find('\'') != std::string::npos) return improper(uri, kRunsForms);
  if (slash != std::string::npos) {
    auto path = detail::normalize_artifact_path(rest.substr(slash + 1));
    if (!path.ok()) return path.status().with_context("model URI '" + uri + "'");
    m.path = std::move(*path);
  }
  return m;
}

StatusOr<ModelUri> parse_models(const std::string& uri) {
  std::string rest;
  if (!after_scheme(uri, 7, &rest)) return improper(uri, kModelsForms);
  const std::vector<std::string> parts = split(rest, '/');
  if (parts.size() > 2 || blank(parts[0])) return improper(uri, kModelsForms);
  ModelUri m;
  if (parts.size() == 2) {
    m.name = parts[0];
    const std::string& suffix = parts[1];
    if (blank(suffix)) return improper(uri, kModelsForms);
    if (all_digits(suffix)) {
      m.kind = ModelUri::Kind::kVersion;
      m.version = suffix;
    } else {
      m.kind = ModelUri::Kind::kLatest;
      if (ascii_lower(suffix) != "latest") m.stage = suffix;
    }
    return m;
  }
  if (const auto at = parts[0].rfind('@'); at != std::string::npos) {
    m.kind = ModelUri::Kind::kAlias;
    m.name = parts[0].substr(0, at);
    m.alias = parts[0].substr(at + 1);
    if (m.name.empty() || blank(m.alias)) return improper(uri, kModelsForms);
    return m;
  }
  m.kind = ModelUri::Kind::kLoggedModel;
  m.model_id = parts[0];
  return m;
}

std::string status_note(const LoggedModel& model) {
  if (model.status == LoggedModelStatus::kReady) return {};
  return fmt::format(" (logged model {} is {})", model.model_id, to_string(model.status));
}

/// The newest logged model named `name` whose source run is `run_id`, READY ones first; an empty
/// model_id when there is none.
StatusOr<LoggedModel> find_run_model(MlflowClient& client, const std::string& experiment_id,
                                     const std::string& run_id, const std::string& name) {
  SearchOptions search;
  search.filter = "source_run_id = '" + run_id + "'";
  search.max_results = 100;
  LoggedModel best;
  auto better = [](const LoggedModel& a, const LoggedModel& b) {  // a better than b
    const bool ra = a.status == LoggedModelStatus::kReady;
    const bool rb = b.status == LoggedModelStatus::kReady;
    if (ra != rb) return ra;
    return a.creation_timestamp_ms > b.creation_timestamp_ms;
  };
  do {
    auto page = client.search_logged_models({experiment_id}, search);
    if (!page.ok()) return page.status();
    for (auto& m : page->items) {
      if (m.name != name || m.source_run_id != run_id) continue;
      if (best.model_id.empty() || better(m, best)) best = std::move(m);
    }
    search.page_token = page->next_page_token;
  } while (!search.page_token.empty());
  return best;
}

StatusOr<ResolvedModelUri> resolve_run(MlflowClient& client, const ModelUri& m) {
  auto run = client.get_run(m.run_id);
  if (!run.ok()) return run.status();
  ResolvedModelUri r;
  r.run_id = m.run_id;
  if (!m.path.empty()) {
    const auto cut = m.path.find('/');
    const std::string name = m.path.substr(0, cut);
    auto model = find_run_model(client, run->info.experiment_id, m.run_id, name);
    if (!model.ok()) return model.status();
    if (!model->model_id.empty()) {
      r.root_uri = model->artifact_uri;
      r.path = cut == std::string::npos ? std::string() : m.path.substr(cut + 1);
      r.model_id = model->model_id;
      r.note = status_note(*model);
      return r;
    }
    r.note = fmt::format(" (run {} has no logged model named '{}' either)", m.run_id, name);
  }
  // No logged model of that name: the run's own artifacts, as MLflow 2 stored models.
  r.root_uri = run->info.artifact_uri;
  r.path = m.path;
  return r;
}

/// The version a registry URI stands for.
StatusOr<std::string> registry_version(MlflowClient& client, const ModelUri& m) {
  if (m.kind == ModelUri::Kind::kVersion) return m.version;
  if (m.kind == ModelUri::Kind::kAlias) {
    auto mv = client.get_model_version_by_alias(m.name, m.alias);
    if (mv.ok()) return mv->version;
    const Status& st = mv.status();
    // The server says INVALID_PARAMETER_VALUE for an alias that is not set: a missing model.
    if (st.code() == StatusCode::kInvalidArgument && st.http_status() != 0) {
      return Status(StatusCode::kNotFound,
                    fmt::format("registered model '{}' has no alias '{}' ({})", m.name, m.alias,
                                st.message()),
                    st.http_status(), st.error_code());
    }
    return st;
  }
  // "latest" or a stage: the highest version among the latest per stage, as MLflow picks.
  auto model = client.get_registered_model(m.name);
  if (!model.ok()) return model.status();
  const std::string stage = ascii_lower(m.stage);
  long best = -1;
  for (const auto& v : model->latest_versions) {
    if (!stage.empty() && ascii_lower(v.current_stage) != stage) continue;
    if (all_digits(v.version)) best = std::max(best, std::stol(v.version));
  }
  if (best < 0) {
    return Status(StatusCode::kNotFound,
                  fmt::format("registered model '{}' has no versions{}", m.name,
                              stage.empty() ? "" : " in stage '" + m.stage + "'"));
  }
  return std::to_string(best);
}

StatusOr<ResolvedModelUri> resolve_models(MlflowClient& client, const ModelUri& m) {
  ResolvedModelUri r;
  if (m.kind == ModelUri::Kind::kLoggedModel) {
    auto model = client.get_logged_model(m.model_id);
    if (!model.ok()) return model.status();
    r.root_uri = model->artifact_uri;
    r.model_id = model->model_id;
    r.note = status_note(*model);
    return r;
  }
  auto version = registry_version(client, m);
  if (!version.ok()) return version.status();
  auto mv = client.get_model_version(m.name, *version);
  if (!mv.ok()) return mv.status();
  auto root = client.get_model_version_download_uri(m.name, *version);
  if (!root.ok()) return root.status();
  r.root_uri = *root;
  r.version = *version;
  // MLflow's SQL registry does not keep model_id on versions; their source names the model.
  r.model_id = mv->model_id;
  if (r.model_id.empty() && starts_with(mv->source, "models:/") &&
      mv->source.find('/', 8) == std::string::npos) {
    r.model_id = mv->source.substr(8);
  }
  return r;
}

}  // namespace

bool is_model_uri(const std::string& s) {
  return starts_with(s, "runs:/") || starts_with(s, "models:/");
}

StatusOr<ModelUri> parse_model_uri(const std::string& uri) {
  if (starts_with(uri, "runs:")) return parse_runs(uri);
  if (starts_with(uri, "models:")) return parse_models(uri);
  return Status(
      StatusCode::kInvalidArgument,
      fmt::format("'{}' is not a model URI; expected {} or {}", uri, kRunsForms, kModelsForms));
}

std::string ResolvedModelUri::artifact_uri() const {
  return path.empty() ? root_uri : root_uri + "/" + path;
}

StatusOr<ResolvedModelUri> resolve_model_uri(MlflowClient& client, const std::string& uri) {
  auto m = parse_model_uri(uri);
  if (!m.ok()) return m.status();
  return m->kind == ModelUri::Kind::kRun ? resolve_run(client, *m) : resolve_models(client, *m);
}

StatusOr<std::string> resolve_artifact_location(MlflowClient& client, const std::string& uri) {
  if (!is_model_uri(uri)) return uri;
  auto m = parse_model_uri(uri);
  if (!m.ok()) return m.status();
  if (m->kind != ModelUri::Kind::kRun) {
    auto r = resolve_models(client, *m);
    if (!r.ok()) return r.status();
    return r->artifact_uri();
  }
  auto run = client.get_run(m->run_id);
  if (!run.ok()) return run.status();
  return m->path.empty() ? run->info.artifact_uri : run->info.artifact_uri + "/" + m->path;
}

}  // namespace mlflow

// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/spec_catalog.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

namespace mlflow::sweep {

namespace fs = std::filesystem;

bool parse_alias_uri(const std::string& value, std::string& name, std::string& alias) {
  const std::string prefix = "models:/";
  if (value.rfind(prefix, 0) != 0) return false;
  const auto at = value.find('@', prefix.size());
  if (at == std::string::npos || at == prefix.size() || at + 1 == value.size()) return false;
  name = value.substr(prefix.size(), at - prefix.size());
  alias = value.substr(at + 1);
  return name.find('/') == std::string::npos && alias.find('/') == std::string::npos;
}

std::string Dependency::describe() const {
  if (kind == Kind::kBestTrial) {
    return fmt::format("the best trial of sweep '{}' ({})", producer->name, producer->file);
  }
  return fmt::format("model {}@{}{}", model_name, alias,
                     producer ? " (registered by " + producer->file + ")" : "");
}

StatusOr<SpecCatalog> SpecCatalog::load(const std::string& spec_path,
                                        const ProgramTable& programs) {
  auto root = load_spec(spec_path, programs);
  if (!root.ok()) return root.status();
  SpecCatalog catalog;
  catalog.specs_.push_back(std::make_unique<SweepSpec>(std::move(*root)));

  std::error_code ec;
  const fs::path dir =
      fs::path(spec_path).parent_path().empty() ? fs::path(".") : fs::path(spec_path).parent_path();
  std::vector<fs::path> siblings;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension();
    if ((ext == ".yaml" || ext == ".yml") && entry.is_regular_file() &&
        !fs::equivalent(entry.path(), spec_path, ec)) {
      siblings.push_back(entry.path());
    }
  }
  std::sort(siblings.begin(), siblings.end());
  for (const auto& path : siblings) {
    auto spec = load_spec(path.string(), programs);
    if (!spec.ok()) {
      catalog.unreadable_.push_back(spec.status().message());
      continue;
    }
    if (const SweepSpec* other = catalog.find(spec->name)) {
      return Status(
          StatusCode::kInvalidArgument,
          fmt::format("{}: sweep name '{}' is already used by {}; names must be unique in a folder",
                      path.string(), spec->name, other->file));
    }
    catalog.specs_.push_back(std::make_unique<SweepSpec>(std::move(*spec)));
  }
  std::vector<const SweepSpec*> chain;
  MLFLOW_CPP_RETURN_IF_ERROR(catalog.check(catalog.root(), chain));
  return catalog;
}

const SweepSpec* SpecCatalog::find(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s->name == name) return s.get();
  }
  return nullptr;
}

std::vector<Dependency> SpecCatalog::dependencies(const SweepSpec& spec) const {
  std::vector<Dependency> deps;
  for (const auto& p : spec.parameters) {
    if (p.kind == ParameterKind::kFromSweep) {
      Dependency d;
      d.kind = Dependency::Kind::kBestTrial;
      d.producer = find(p.from_sweep);
      d.parameter = &p;
      deps.push_back(d);
      continue;
    }
    for (const auto& v : p.values) {
      Dependency d;
      if (!parse_alias_uri(v, d.model_name, d.alias)) continue;
      d.kind = Dependency::Kind::kModelAlias;
      d.parameter = &p;
      for (const auto& s : specs_) {
        if (s.get() != &spec && s->register_model.model_name == d.model_name &&
            s->register_model.alias == d.alias) {
          d.producer = s.get();
        }
      }
      deps.push_back(d);
    }
  }
  return deps;
}

std::vector<const SweepSpec*> SpecCatalog::involved() const {
  std::vector<const SweepSpec*> out = {&root()};
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (const auto& d : dependencies(*out[i])) {
      if (d.producer && std::find(out.begin(), out.end(), d.producer) == out.end())
        out.push_back(d.producer);
    }
  }
  return out;
}

Status SpecCatalog::check(const SweepSpec& spec, std::vector<const SweepSpec*>& chain) const {
  chain.push_back(&spec);
  for (const Dependency& d : dependencies(spec)) {
    const ParameterSpec& p = *d.parameter;
    if (d.kind == Dependency::Kind::kBestTrial && d.producer == nullptr) {
      std::string known;
      for (const auto& s : specs_) known += (known.empty() ? "" : ", ") + s->name;
      return Status(
          StatusCode::kInvalidArgument,
          fmt::format(
              "{}: from_sweep '{}' names no sweep spec in {} (known: {}){}", p.where.to_string(),
              p.from_sweep, fs::path(spec.file).parent_path().string(), known,
              unreadable_.empty() ? ""
                                  : fmt::format("; unreadable: {}", fmt::join(unreadable_, "; "))));
    }
    if (d.producer == nullptr) continue;
    if (std::find(chain.begin(), chain.end(), d.producer) != chain.end()) {
      std::string path;
      for (const SweepSpec* s : chain) path += s->name + " -> ";
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("{}: parameter '{}' makes a cycle between sweeps: {}{}",
                                p.where.to_string(), p.name, path, d.producer->name));
    }
    MLFLOW_CPP_RETURN_IF_ERROR(check(*d.producer, chain));
  }
  chain.pop_back();
  return ok_status();
}

}  // namespace mlflow::sweep

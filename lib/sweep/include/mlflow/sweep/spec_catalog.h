// SPDX-License-Identifier: Apache-2.0
// The specs next to a sweep spec, and how specs depend on each other: a `from_sweep: NAME`
// parameter needs sweep NAME's best trial; a `models:/NAME@ALIAS` value needs a spec that registers
// NAME@ALIAS.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mlflow/status.h"
#include "mlflow/sweep/spec.h"

namespace mlflow::sweep {

/// Something a spec needs before its trials can be expanded: another sweep's best trial, or a
/// registered model's alias.
struct Dependency {
  /// What is needed: another sweep's best trial (from_sweep) or a model alias
  /// (`models:/NAME@ALIAS`).
  enum class Kind { kBestTrial, kModelAlias } kind = Kind::kBestTrial;  ///< which of the two
  const SweepSpec* producer =
      nullptr;             ///< the spec that satisfies it (null: none found, alias only)
  std::string model_name;  ///< kModelAlias
  std::string alias;       ///< kModelAlias
  const ParameterSpec* parameter = nullptr;  ///< the parameter that needs it
  std::string describe() const;  ///< "the best trial of sweep 'x' (sweeps/x.yaml)" / "model
                                 ///< fmnist-backbone@pretrained"
};

/// A spec and the specs in its folder it may depend on (through from_sweep or a model alias).
class SpecCatalog {
 public:
  /// Loads `spec_path` and every other *.yaml / *.yml in its folder. The spec itself must parse
  /// (its error otherwise); siblings that do not parse are only reported if something needs them.
  /// Checks that every from_sweep names a spec and that no chain of dependencies comes back to a
  /// spec (kInvalidArgument with the file:line:col of the parameter and the chain). `programs`:
  /// what `program:` may name (see load_spec).
  static StatusOr<SpecCatalog> load(const std::string& spec_path, const ProgramTable& programs);

  /// The spec load() was given.
  const SweepSpec& root() const { return *specs_.front(); }
  /// The spec called `name`, or null when the folder has none.
  const SweepSpec* find(const std::string& name) const;
  /// What `spec` needs before its trials can be expanded, in parameter order.
  std::vector<Dependency> dependencies(const SweepSpec& spec) const;
  /// The root and every spec it depends on, directly or not: what running the root may run.
  std::vector<const SweepSpec*> involved() const;

 private:
  Status check(const SweepSpec& spec, std::vector<const SweepSpec*>& chain) const;
  std::vector<std::unique_ptr<SweepSpec>> specs_;  // root first
  std::vector<std::string> unreadable_;            // "file: error" of siblings that did not parse
};

/// "models:/NAME@ALIAS" -> {NAME, ALIAS}; false for anything else.
bool parse_alias_uri(const std::string& value, std::string& name, std::string& alias);

}  // namespace mlflow::sweep

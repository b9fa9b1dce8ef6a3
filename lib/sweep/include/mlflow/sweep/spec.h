// SPDX-License-Identifier: Apache-2.0
// Sweep specs: the YAML file format (close to W&B sweep configs) and its parser. See sweeps/README.md.
#pragma once

#include <string>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::sweep {

/// Where something is in a spec file (1-based), for messages of the form file:line:col.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const;
};

enum class ParameterKind { kValue, kValues, kFromSweep };

/// One entry of `parameters:`. Values keep the text written in the file (YAML scalars), so `1e-3`
/// reaches the program as `1e-3`.
struct ParameterSpec {
  std::string name;
  ParameterKind kind = ParameterKind::kValue;
  std::vector<std::string> values;  ///< one for kValue, one or more for kValues
  std::string written_path;         ///< `{path: P}` as written; values[0] is P resolved from the spec's folder
  std::string from_sweep;           ///< kFromSweep: the sweep whose best trial gives the value
  std::string from_parameter;       ///< kFromSweep: that trial's param to take (default: name)
  SourceLocation where;
};

/// Programs sweep_runner knows by name; anything else is an executable path (or a command list).
inline constexpr const char* kProgramFmnistTrain = "fmnist_train";
inline constexpr const char* kProgramFmnistPretrain = "fmnist_pretrain";

struct ProgramSpec {
  std::string builtin;               ///< kProgramFmnistTrain / kProgramFmnistPretrain, or empty
  std::vector<std::string> command;  ///< an external program: executable (resolved) and fixed args
  std::vector<std::string> written;  ///< as the spec wrote it (what the spec hash covers: paths differ by machine)
  SourceLocation where;
  bool is_builtin() const { return !builtin.empty(); }
};

struct MetricSpec {
  std::string name;
  bool maximize = true;
};

struct RegisterSpec {
  std::string model_name;  ///< empty: nothing is registered
  std::string alias = "champion";
  bool only_if_better = true;
  SourceLocation where;
};

struct SweepSpec {
  std::string file;  ///< the path it was read from
  std::string name;
  std::string experiment;  ///< default: fashion-mnist
  std::string description;
  std::string method = "grid";  ///< grid | random
  int count = 0;                ///< random: how many trials
  long long seed = 0;           ///< random: sampling seed
  MetricSpec metric;
  std::vector<ParameterSpec> parameters;  ///< in file order
  ProgramSpec program;
  RegisterSpec register_model;
  /// Fingerprint of what defines the trials (name, method, parameters, program, metric), not of
  /// comments or layout: a sweep run again with the same hash resumes.
  std::string hash;
};

/// Reads and checks a spec file. kInvalidArgument with "file:line:col: what was expected" for
/// malformed YAML, unknown keys, wrong types, empty `values`, duplicate values, an unknown program
/// or a random count larger than the grid; kNotFound when the file cannot be read.
StatusOr<SweepSpec> load_spec(const std::string& path);

/// Parses spec text; `file` names it in messages and anchors relative program paths.
StatusOr<SweepSpec> parse_spec(const std::string& text, const std::string& file);

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
// Sweep specs: the YAML file format (close to W&B sweep configs) and its parser. See
// sweeps/README.md.
#pragma once

#include <string>
#include <vector>

#include "mlflow/status.h"
#include "mlflow/sweep/program.h"

namespace mlflow::sweep {

/// Where something is in a spec file (1-based), for messages of the form file:line:col.
struct SourceLocation {
  std::string file;  ///< spec file path
  int line = 0;      ///< 0: unknown (to_string() gives the file only)
  int column = 0;    ///< 1-based column
  /// "file:line:col", or the file alone when the line is unknown.
  std::string to_string() const;
};

/// How a parameter is given: one `value`, a list of `values`, or taken from another sweep's best
/// trial (`from_sweep`).
enum class ParameterKind { kValue, kValues, kFromSweep };

/// One entry of `parameters:`. Values keep the text written in the file (YAML scalars), so `1e-3`
/// reaches the program as `1e-3`.
struct ParameterSpec {
  std::string name;                            ///< the program parameter's name
  ParameterKind kind = ParameterKind::kValue;  ///< value, values or from_sweep
  std::vector<std::string> values;             ///< one for kValue, one or more for kValues
  std::string
      written_path;  ///< `{path: P}` as written; values[0] is P resolved from the spec's folder
  std::string from_sweep;      ///< kFromSweep: the sweep whose best trial gives the value
  std::string from_parameter;  ///< kFromSweep: that trial's param to take (default: name)
  SourceLocation where;        ///< of the {...} after the name
  SourceLocation name_where;   ///< of the name
  std::vector<SourceLocation> value_where;  ///< of each of `values`
};

/// `program:` either names a program of the ProgramTable the spec was parsed with, or gives an
/// executable (a path, or a name on PATH) with fixed arguments.
struct ProgramSpec {
  std::string name;  ///< the table's program, or empty for an executable
  ProgramDef def;    ///< how to run it (for an executable: --key value, params logged by us)
  std::vector<std::string>
      written;  ///< as the spec wrote it (what the spec hash covers: paths differ by machine)
  SourceLocation where;  ///< of the `program:` key
  /// True when it names a program of the table.
  bool is_named() const { return !name.empty(); }
  /// The table's name, or the executable's path.
  std::string label() const { return is_named() ? name : def.executable; }
};

/// `metric:` the run metric that ranks trials.
struct MetricSpec {
  std::string name;      ///< the run metric's key
  bool maximize = true;  ///< higher is better (`goal: maximize`); false for minimize
  SourceLocation where;  ///< of the `metric:` key
};

/// `register:` what to do with the best trial's model.
struct RegisterSpec {
  std::string model_name;          ///< empty: nothing is registered
  std::string alias = "champion";  ///< pointed at the registered version when the gate lets it move
  /// move the alias only when the new version beats its current holder
  bool only_if_better = true;
  SourceLocation where;  ///< of the `register:` key
};

/// A sweep spec file, parsed and checked (see sweeps/README.md for the format).
struct SweepSpec {
  std::string file;             ///< the path it was read from
  std::string name;             ///< the sweep's name, also the parent run's
  std::string experiment;       ///< default: fashion-mnist
  std::string description;      ///< free text, the parent run's description (mlflow.note.content)
  std::string method = "grid";  ///< grid | random
  int count = 0;                ///< random: how many trials
  long long seed = 0;           ///< random: sampling seed
  MetricSpec metric;            ///< what ranks the trials
  std::vector<ParameterSpec> parameters;  ///< in file order
  SourceLocation parameters_where;        ///< of the `parameters:` mapping
  ProgramSpec program;                    ///< what each trial runs
  RegisterSpec register_model;            ///< what gets registered
  /// Fingerprint of what defines the trials (name, method, parameters, program, metric), not of
  /// comments or layout: a sweep run again with the same hash resumes.
  std::string hash;
};

/// Reads and checks a spec file. kInvalidArgument with "file:line:col: what was expected" for
/// malformed YAML, unknown keys, wrong types, empty `values`, duplicate values, a program neither
/// in `programs` nor executable, a metric name or registry alias MLflow refuses, or a random count
/// larger than the grid; kNotFound when the file cannot be read. Parameter values are checked
/// against the program's description later (check_programs).
StatusOr<SweepSpec> load_spec(const std::string& path, const ProgramTable& programs);

/// Parses spec text; `file` names it in messages and anchors relative program paths.
StatusOr<SweepSpec> parse_spec(const std::string& text, const std::string& file,
                               const ProgramTable& programs);

}  // namespace mlflow::sweep

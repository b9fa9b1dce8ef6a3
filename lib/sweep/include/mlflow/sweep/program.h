// SPDX-License-Identifier: Apache-2.0
// The programs a sweep runs, described by data: how to start one and pass it a trial's parameters
// (ProgramDef), the programs specs may name (ProgramTable, filled by the application), and the
// parameters a program accepts (ParamSchema, what `PROGRAM --describe-params` prints;
// sweeps/README.md documents the format). The engine knows no program by name.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::sweep {

/// One parameter a program accepts.
struct ParamDef {
  /// What values the parameter takes: an integer, a number, true/false, any text, or one of
  /// `choices`.
  enum class Type { kInt, kFloat, kBool, kString, kChoice };
  std::string name;           ///< as the program's flag, without dashes
  Type type = Type::kString;  ///< what values it takes
  /// kInt / kFloat: the lower (`min`) and upper (`max`) bound, when bounded
  std::optional<double> min, max;    ///< kInt / kFloat: the range, when bounded
  bool min_exclusive = false;        ///< `min` itself is not allowed
  bool max_exclusive = false;        ///< `max` itself is not allowed
  std::vector<std::string> choices;  ///< kChoice
  bool required = false;             ///< the program refuses to run without it
  std::string default_value;         ///< as text; informational
  std::string help;                  ///< one line for people
  /// "int 1..65536", "float in (0, 10]", "one of adam, adamw, sgd", "true or false", "text".
  std::string allowed() const;
  /// Why `value` is not acceptable, or nullopt when it is.
  std::optional<std::string> problem(const std::string& value) const;
};

/// What a program says of its parameters.
struct ParamSchema {
  std::vector<ParamDef> params;   ///< in the program's order
  bool other_parameters = false;  ///< names it does not list are accepted too (passed through)
  /// The parameter called `name`, or null when the schema does not list it.
  const ParamDef* find(const std::string& name) const;
};

/// Reads the JSON a program prints for --describe-params. kInvalidArgument naming `source` and what
/// is wrong when it is not of that form.
StatusOr<ParamSchema> parse_param_schema(const std::string& json, const std::string& source);

/// How a trial's parameters appear on the command line.
enum class ParamStyle {
  kSeparate,  ///< --key value
  kEquals,    ///< --key=value
};

/// How to run one program.
struct ProgramDef {
  std::string name;  ///< what specs call it (`program: NAME`); empty for an executable a spec names
  std::string executable;   ///< empty: not available here; `unavailable` says why
  std::string unavailable;  ///< why `executable` is empty (shown when a spec names the program)
  std::vector<std::string> args;             ///< fixed arguments after the executable
  ParamStyle style = ParamStyle::kSeparate;  ///< how parameters are passed
  /// Parameters passed unless the spec sets them (a program variant, e.g. task: rotation).
  std::vector<std::pair<std::string, std::string>> defaults;
  std::string threads_param;     ///< set to the trial's share of the cores unless the spec sets it;
                                 ///< empty: none
  std::string experiment_param;  ///< set to the spec's experiment name; empty: none
                                 ///< (MLFLOW_EXPERIMENT_ID only)
  bool logs_params =
      false;  ///< the program logs its settings itself; otherwise the runner logs the trial's
  std::optional<ParamSchema> schema;  ///< known without asking; otherwise `--describe-params` tells
  /// executable and fixed args.
  std::vector<std::string> command() const;
  /// The full command line of a trial with `params` (in order) and `threads` cores.
  std::vector<std::string> trial_command(
      const std::vector<std::pair<std::string, std::string>>& params, const std::string& experiment,
      int threads) const;
};

/// The programs specs may name. The application fills it; one of them may be the default for specs
/// without `program:`.
class ProgramTable {
 public:
  /// Adds `def` under def.name, replacing a program of that name.
  void add(ProgramDef def);
  /// Makes `name` the program of specs without `program:`.
  void set_default(std::string name) { default_ = std::move(name); }
  /// The program called `name`, or null when there is none.
  const ProgramDef* find(const std::string& name) const;
  /// The default program's name (empty: none).
  const std::string& default_name() const { return default_; }
  /// The programs' names, sorted.
  std::vector<std::string> names() const;

 private:
  std::map<std::string, ProgramDef> programs_;
  std::string default_;
};

/// The flag that asks a program for its ParamSchema.
inline constexpr const char* kDescribeParamsFlag = "--describe-params";

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
// Checking a sweep's whole grid against what its programs accept, before anything is created.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "mlflow/status.h"
#include "mlflow/sweep/program.h"
#include "mlflow/sweep/spec.h"
#include "mlflow/sweep/spec_catalog.h"

namespace mlflow::sweep {

/// Every parameter name the spec gives and every value of its grid against `schema`:
/// kInvalidArgument "file:line:col: parameter 'KEY' ..." with the allowed values, at the first
/// problem; also a required parameter the spec does not give (at `parameters:`). from_sweep values
/// are only known when the sweep runs, so only their names are checked. `program` names the program
/// in messages.
Status check_parameters(const SweepSpec& spec, const ParamSchema& schema);

/// Asks `def` for its parameters: runs `COMMAND --describe-params` (stdin /dev/null, at most
/// `timeout`). nullopt when it exits non-zero (a program that does not describe itself);
/// kInvalidArgument when it exits 0 but prints no description; kFailedPrecondition when it cannot
/// start or does not end in time.
StatusOr<std::optional<ParamSchema>> describe_program(const ProgramDef& def,
                                                      std::chrono::milliseconds timeout);

/// How check_programs learns a program's schema (describe_program in production, a table in tests).
using Describer = std::function<StatusOr<std::optional<ParamSchema>>(const ProgramDef&)>;

/// Checks every spec the catalog's root would run (itself and its dependencies): a named program
/// must be available here, and its parameters accepted (check_parameters) by the program's schema,
/// from its ProgramDef or else `describe`. Programs that do not describe themselves get `warn` and
/// no check.
Status check_programs(const SpecCatalog& catalog, const Describer& describe,
                      const std::function<void(const std::string&)>& warn);

}  // namespace mlflow::sweep

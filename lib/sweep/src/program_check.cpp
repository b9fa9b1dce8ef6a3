// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/program_check.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "mlflow/sweep/trial_process.h"

namespace mlflow::sweep {

namespace fs = std::filesystem;

namespace {

Status invalid(const SourceLocation& where, const std::string& message) {
  return Status(StatusCode::kInvalidArgument, where.to_string() + ": " + message);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool given(const SweepSpec& spec, const std::string& name) {
  for (const auto& p : spec.parameters) {
    if (p.name == name) return true;
  }
  return false;
}

}  // namespace

Status check_parameters(const SweepSpec& spec, const ParamSchema& schema) {
  const std::string program = spec.program.label();
  for (const ParameterSpec& p : spec.parameters) {
    const ParamDef* def = schema.find(p.name);
    if (def == nullptr) {
      if (schema.other_parameters) continue;
      std::vector<std::string> known;
      for (const auto& d : schema.params) known.push_back(d.name);
      return invalid(p.name_where,
                     fmt::format("parameter '{}' is not one program {} accepts; it accepts: {}",
                                 p.name, program, fmt::join(known, ", ")));
    }
    if (p.kind == ParameterKind::kFromSweep) continue;  // its value exists once that sweep has run
    for (std::size_t i = 0; i < p.values.size(); ++i) {
      if (auto why = def->problem(p.values[i])) {
        const SourceLocation& where = i < p.value_where.size() ? p.value_where[i] : p.where;
        return invalid(where, fmt::format("parameter '{}': '{}' is {}; program {} takes {}", p.name,
                                          p.values[i], *why, program, def->allowed()));
      }
    }
  }
  const ProgramDef& run = spec.program.def;
  for (const ParamDef& d : schema.params) {
    if (!d.required || given(spec, d.name) || d.name == run.threads_param ||
        d.name == run.experiment_param)
      continue;
    bool defaulted = false;
    for (const auto& kv : run.defaults) defaulted = defaulted || kv.first == d.name;
    if (!defaulted) {
      return invalid(spec.parameters_where,
                     fmt::format("parameter '{}' is missing; program {} needs it ({})", d.name,
                                 program, d.allowed()));
    }
  }
  return ok_status();
}

StatusOr<std::optional<ParamSchema>> describe_program(const ProgramDef& def,
                                                      std::chrono::milliseconds timeout) {
  static int calls = 0;
  const fs::path base =
      fs::temp_directory_path() / fmt::format("mlflow-cpp-describe-{}-{}", ::getpid(), ++calls);
  const std::string out = base.string() + ".json", err = base.string() + ".err";
  std::vector<std::string> argv = def.command();
  argv.emplace_back(kDescribeParamsFlag);
  auto process = TrialProcess::spawn(argv, {}, out, err);
  if (!process.ok()) return process.status();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!process->poll()) {
    if (std::chrono::steady_clock::now() > deadline) {
      process->signal(SIGKILL);
      std::error_code ec;
      fs::remove(out, ec);
      fs::remove(err, ec);
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("{} {} did not answer within {} ms", argv[0], kDescribeParamsFlag,
                                timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string json = read_all(out);
  std::error_code ec;
  fs::remove(out, ec);
  fs::remove(err, ec);
  if (!process->exit().ok()) return std::optional<ParamSchema>();
  auto schema = parse_param_schema(json, fmt::format("{} {}", argv[0], kDescribeParamsFlag));
  if (!schema.ok()) return schema.status();
  return std::optional<ParamSchema>(std::move(*schema));
}

Status check_programs(const SpecCatalog& catalog, const Describer& describe,
                      const std::function<void(const std::string&)>& warn) {
  std::map<std::vector<std::string>, std::optional<ParamSchema>> asked;  // by command line
  for (const SweepSpec* spec : catalog.involved()) {
    const ProgramDef& def = spec->program.def;
    if (def.executable.empty()) {
      return Status(
          StatusCode::kFailedPrecondition,
          fmt::format("{}: program '{}' is not available here: {}", spec->program.where.to_string(),
                      spec->program.label(), def.unavailable));
    }
    std::optional<ParamSchema> schema = def.schema;
    if (!schema) {
      auto it = asked.find(def.command());
      if (it == asked.end()) {
        auto described = describe(def);
        if (!described.ok())
          return described.status().with_context(spec->program.where.to_string());
        if (!*described) {
          warn(
              fmt::format("program {} does not describe its parameters ({} exits non-zero): the "
                          "values of {} are "
                          "not checked before its trials run",
                          spec->program.label(), kDescribeParamsFlag, spec->file));
        }
        it = asked.emplace(def.command(), std::move(*described)).first;
      }
      schema = it->second;
    }
    if (schema) MLFLOW_CPP_RETURN_IF_ERROR(check_parameters(*spec, *schema));
  }
  return ok_status();
}

}  // namespace mlflow::sweep

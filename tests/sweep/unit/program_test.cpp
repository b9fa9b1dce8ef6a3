// SPDX-License-Identifier: Apache-2.0
// Programs as data: parameter descriptions (parsing, value checks), trial command lines, the check
// of a spec's grid against a description, and a spec naming a program of the table.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "mlflow/sweep/program.h"
#include "mlflow/sweep/program_check.h"
#include "mlflow/sweep/spec.h"
#include "mlflow/sweep/spec_catalog.h"
#include "support/test_support.h"
#include "test_programs.h"

using mlflow::StatusCode;
using mlflow::sweep::ParamDef;
using mlflow::sweep::ParamSchema;
using mlflow::sweep::parse_param_schema;
using mlflow::sweep::ProgramDef;

namespace {

ParamSchema schema_of(const std::string& json) {
  auto s = parse_param_schema(json, "test");
  REQUIRE_MESSAGE(s.ok(), s.status().message());
  return *s;
}

mlflow::sweep::SweepSpec spec_of(const std::string& params,
                                 const mlflow::sweep::ProgramTable& table) {
  auto s = mlflow::sweep::parse_spec("name: t\nmetric: {name: score}\nparameters:\n" + params,
                                     "t.yaml", table);
  REQUIRE_MESSAGE(s.ok(), s.status().message());
  return *s;
}

}  // namespace

TEST_CASE("program: a parameter description is read with its types, ranges and choices") {
  const ParamSchema s = schema_of(R"({"parameters": [
    {"name": "n", "type": "int", "min": 1, "max": 10, "default": 3, "required": true},
    {"name": "x", "type": "float", "min": 0, "min_exclusive": true},
    {"name": "b", "type": "bool"},
    {"name": "c", "type": "choice", "choices": ["a", "b"]},
    {"name": "t", "type": "string", "help": "anything"}], "other_parameters": true})");
  REQUIRE(s.params.size() == 5);
  CHECK(s.other_parameters);
  const ParamDef& n = *s.find("n");
  CHECK(n.type == ParamDef::Type::kInt);
  CHECK(n.required);
  CHECK(n.default_value == "3");
  CHECK(n.allowed() == "an integer in [1, 10]");
  CHECK(s.find("x")->allowed() == "a number > 0");
  CHECK(s.find("c")->allowed() == "one of a, b");
  CHECK(s.find("t")->help == "anything");
  CHECK(s.find("missing") == nullptr);
}

TEST_CASE("program: values are checked by type and range") {
  const ParamSchema s = schema_of(R"({"parameters": [
    {"name": "n", "type": "int", "min": 1, "max": 10},
    {"name": "x", "type": "float", "min": 0, "max": 1, "min_exclusive": true, "max_exclusive": true},
    {"name": "b", "type": "bool"},
    {"name": "c", "type": "choice", "choices": ["adam", "sgd"]},
    {"name": "t", "type": "string"}]})");
  const ParamDef& n = *s.find("n");
  CHECK_FALSE(n.problem("1"));
  CHECK_FALSE(n.problem("10"));
  CHECK(n.problem("11") == "out of range");
  CHECK(n.problem("0") == "out of range");
  CHECK(n.problem("2.5") == "not an integer");
  CHECK(n.problem("ten") == "not an integer");
  CHECK(n.problem("") == "not an integer");
  const ParamDef& x = *s.find("x");
  CHECK_FALSE(x.problem("0.5"));
  CHECK_FALSE(x.problem("1e-3"));
  CHECK(x.problem("0") == "out of range");  // exclusive ends
  CHECK(x.problem("1") == "out of range");
  CHECK(x.problem("nan") == "not a number");
  CHECK(x.problem("half") == "not a number");
  const ParamDef& b = *s.find("b");
  for (const char* ok : {"true", "false", "True", "False", "yes", "no", "1", "0"})
    CHECK_FALSE(b.problem(ok));
  CHECK(b.problem("maybe") == "not a boolean");
  CHECK(s.find("c")->problem("Adam") == "not a known value");
  CHECK_FALSE(s.find("c")->problem("sgd"));
  CHECK_FALSE(s.find("t")->problem("anything at all"));
}

TEST_CASE("program: a description that is not one is refused, naming the source and the problem") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not json", "not valid JSON"},
      {R"([1, 2])", "'parameters' list"},
      {R"({"parameters": [{"name": "n"}]})", "a 'name' and a 'type'"},
      {R"({"parameters": [{"name": "n", "type": "integer"}]})", "type 'integer' is not int, float"},
      {R"({"parameters": [{"name": "c", "type": "choice"}]})", "needs 'choices'"},
      {R"({"parameters": [{"name": "n", "type": "int", "min": "1"}]})", "'min' must be a number"},
      {R"({"parameters": [{"name": "n", "type": "int"}, {"name": "n", "type": "int"}]})",
       "listed twice"},
      {R"({"parameters": [], "other_parameters": "yes"})",
       "'other_parameters' must be true or false"},
  };
  // Not a structured binding: CAPTURE's lambda may not capture one in C++17 (clang refuses).
  for (const auto& c : bad) {
    const std::string& json = c.first;
    const std::string& expect = c.second;
    CAPTURE(json);
    auto s = parse_param_schema(json, "prog --describe-params");
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    CHECK(s.status().message().rfind("prog --describe-params: not a parameter description", 0) ==
          0);
    CHECK(s.status().message().find(expect) != std::string::npos);
  }
}

TEST_CASE("program: the trial command line follows the program's definition") {
  ProgramDef def;
  def.executable = "/opt/train";
  def.args = {"--no-register"};
  def.defaults = {{"task", "rotation"}};
  def.threads_param = "threads";
  def.experiment_param = "experiment";
  CHECK(def.trial_command({{"lr", "0.1"}}, "exp", 4) ==
        std::vector<std::string>{"/opt/train", "--no-register", "--task", "rotation",
                                 "--experiment", "exp", "--lr", "0.1", "--threads", "4"});
  // What the spec sets wins over the defaults and the runner's thread count.
  CHECK(def.trial_command({{"task", "simclr"}, {"threads", "1"}}, "exp", 4) ==
        std::vector<std::string>{"/opt/train", "--no-register", "--experiment", "exp", "--task",
                                 "simclr", "--threads", "1"});
  ProgramDef plain;
  plain.executable = "/opt/p";
  plain.style = mlflow::sweep::ParamStyle::kEquals;
  CHECK(plain.trial_command({{"a", "1"}, {"b", "x y"}}, "exp", 4) ==
        std::vector<std::string>{"/opt/p", "--a=1", "--b=x y"});
}

TEST_CASE("program: a spec names a program of the table, or gets the table's default") {
  mlflow::sweep::ProgramTable table;
  ProgramDef def;
  def.name = "mine";
  def.executable = "/bin/true";
  table.add(def);
  auto named = mlflow::sweep::parse_spec(
      "name: t\nprogram: mine\nmetric: {name: s}\nparameters:\n  a: {value: 1}\n", "t.yaml", table);
  REQUIRE(named.ok());
  CHECK(named->program.name == "mine");
  CHECK(named->program.label() == "mine");
  // Without a default, `program:` is required; the error lists the table's programs.
  auto none = mlflow::sweep::parse_spec(
      "name: t\nmetric: {name: s}\nparameters:\n  a: {value: 1}\n", "t.yaml", table);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("t.yaml:1:1: missing required key 'program'") == 0);
  auto unknown = mlflow::sweep::parse_spec(
      "name: t\nprogram: nothing_like_it_h17\nmetric: {name: s}\nparameters:\n  a: {value: 1}\n",
      "t.yaml", table);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find(
            "t.yaml:2:10: unknown program 'nothing_like_it_h17': expected mine, or an "
            "executable") == 0);
  table.set_default("mine");
  auto defaulted = mlflow::sweep::parse_spec(
      "name: t\nmetric: {name: s}\nparameters:\n  a: {value: 1}\n", "t.yaml", table);
  REQUIRE(defaulted.ok());
  CHECK(defaulted->program.name == "mine");
}

TEST_CASE(
    "program: check_parameters wants what the program requires, and lets through what it passes "
    "on") {
  mlflow::sweep::ProgramTable table;
  ProgramDef def;
  def.name = "p";
  def.executable = "/bin/true";
  def.defaults = {{"mode", "fast"}};
  def.threads_param = "threads";
  table.add(def);
  table.set_default("p");
  const ParamSchema strict = schema_of(R"({"parameters": [
    {"name": "data", "type": "string", "required": true},
    {"name": "mode", "type": "choice", "choices": ["fast", "slow"], "required": true},
    {"name": "threads", "type": "int", "required": true},
    {"name": "seed", "type": "int"}]})");
  // mode comes from the program's defaults and threads from the runner: only data is missing.
  auto missing =
      mlflow::sweep::check_parameters(spec_of("  seed: {values: [1, 2]}\n", table), strict);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.message() == "t.yaml:4:3: parameter 'data' is missing; program p needs it (text)");
  CHECK(mlflow::sweep::check_parameters(spec_of("  data: {value: d}\n", table), strict).ok());
  // from_sweep values are not known yet: only the name is checked.
  CHECK(mlflow::sweep::check_parameters(
            spec_of("  data: {value: d}\n  seed: {from_sweep: other}\n", table), strict)
            .ok());
  auto unknown = mlflow::sweep::check_parameters(
      spec_of("  data: {value: d}\n  sead: {value: 1}\n", table), strict);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.message() ==
        "t.yaml:5:3: parameter 'sead' is not one program p accepts; it accepts: data, mode, "
        "threads, seed");
  const ParamSchema open = schema_of(R"({"parameters": [], "other_parameters": true})");
  CHECK(mlflow::sweep::check_parameters(spec_of("  anything: {value: 1}\n", table), open).ok());
}

TEST_CASE("program: check_programs asks each program once and refuses one that is not available") {
  mlflow::sweep::ProgramTable table = sweep_test::programs();
  mlflow::testing::TempDir dir;
  const std::string a = dir.path() + "/a.yaml", b = dir.path() + "/b.yaml";
  mlflow::testing::write_file(
      a, "name: a\nprogram: /bin/true\nmetric: {name: s}\nparameters:\n  x: {from_sweep: b}\n");
  mlflow::testing::write_file(
      b, "name: b\nprogram: /bin/true\nmetric: {name: s}\nparameters:\n  x: {values: [1, 2]}\n");
  auto catalog = mlflow::sweep::SpecCatalog::load(a, table);
  REQUIRE_MESSAGE(catalog.ok(), catalog.status().message());
  int asked = 0;
  std::vector<std::string> warnings;
  const auto silent = [&](const ProgramDef&) -> mlflow::StatusOr<std::optional<ParamSchema>> {
    ++asked;
    return std::optional<ParamSchema>();
  };
  const auto warn = [&](const std::string& w) { warnings.push_back(w); };
  CHECK(mlflow::sweep::check_programs(*catalog, silent, warn).ok());
  CHECK(asked == 1);  // both specs run /bin/true
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("program /bin/true does not describe its parameters") == 0);

  // b's grid is checked too: running a runs b first.
  const auto strict = [&](const ProgramDef&) -> mlflow::StatusOr<std::optional<ParamSchema>> {
    return std::optional<ParamSchema>(
        schema_of(R"({"parameters": [{"name": "x", "type": "int", "max": 1}]})"));
  };
  auto refused = mlflow::sweep::check_programs(*catalog, strict, warn);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.message().rfind(b + ":5:19: parameter 'x': '2' is out of range", 0) == 0);

  ProgramDef gone;
  gone.name = "gone";
  gone.unavailable = "gone was not found; set GONE";
  table.add(gone);
  mlflow::testing::write_file(
      a, "name: a\nprogram: gone\nmetric: {name: s}\nparameters:\n  x: {value: 1}\n");
  auto unavailable = mlflow::sweep::SpecCatalog::load(a, table);
  REQUIRE(unavailable.ok());
  auto status = mlflow::sweep::check_programs(*unavailable, silent, warn);
  CHECK(status.code() == StatusCode::kFailedPrecondition);
  CHECK(status.message() ==
        a + ":2:10: program 'gone' is not available here: gone was not found; set GONE");
}

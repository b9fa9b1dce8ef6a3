// SPDX-License-Identifier: Apache-2.0
// Sweep spec parsing: every key, the defaults, values kept as written, programs, the spec hash and
// the reference specs in sweeps/.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "mlflow/sweep/program_check.h"
#include "mlflow/sweep/spec.h"
#include "support/test_support.h"
#include "test_programs.h"

namespace fs = std::filesystem;
using mlflow::StatusCode;
using mlflow::sweep::ParameterKind;
using mlflow::sweep::parse_spec;
using mlflow::sweep::SweepSpec;

namespace {

const char* kFullSpec = R"(# every key
name: full-spec_1.0
experiment: my-experiment
description: Every key there is.
method: random
count: 3
seed: 17
program: fmnist_pretrain
metric: {name: val_loss, goal: minimize}
parameters:
  learning_rate: {values: [1e-3, 3e-4]}
  frozen_backbone: {value: true}
  backbone_weights: {value: "models:/fmnist-backbone@pretrained"}
  batch_size: {from_sweep: batch_size}
  seed: {from_sweep: seeds, parameter: random_seed}
  optimizer: {values: [adam, sgd]}
register:
  model_name: fmnist-classifier
  alias: best-one
  only_if_better: false
)";

const char* kMinimalSpec = R"(name: minimal
metric: {name: best_val_accuracy}
parameters:
  batch_size: {values: [32, 64]}
)";

SweepSpec parse_ok(const std::string& text, const std::string& file = "test.yaml") {
  auto spec = parse_spec(text, file, sweep_test::programs());
  REQUIRE_MESSAGE(spec.ok(), spec.status().message());
  return std::move(*spec);
}

}  // namespace

TEST_CASE("spec: every key is read") {
  const SweepSpec s = parse_ok(kFullSpec, "dir/full.yaml");
  CHECK(s.file == "dir/full.yaml");
  CHECK(s.name == "full-spec_1.0");
  CHECK(s.experiment == "my-experiment");
  CHECK(s.description == "Every key there is.");
  CHECK(s.method == "random");
  CHECK(s.count == 3);
  CHECK(s.seed == 17);
  CHECK(s.program.is_named());
  CHECK(s.program.name == "fmnist_pretrain");
  CHECK(s.program.def.args == std::vector<std::string>{"--no-register"});
  CHECK(s.program.def.executable == "/bin/true");  // the table's
  CHECK(s.metric.name == "val_loss");
  CHECK_FALSE(s.metric.maximize);
  CHECK(s.register_model.model_name == "fmnist-classifier");
  CHECK(s.register_model.alias == "best-one");
  CHECK_FALSE(s.register_model.only_if_better);
  CHECK(s.register_model.where.to_string() == "dir/full.yaml:18:3");

  REQUIRE(s.parameters.size() == 6);
  const auto& lr = s.parameters[0];
  CHECK(lr.name == "learning_rate");
  CHECK(lr.kind == ParameterKind::kValues);
  CHECK(lr.values == std::vector<std::string>{"1e-3", "3e-4"});
  CHECK(lr.where.to_string() == "dir/full.yaml:11:18");
  CHECK(s.parameters[1].kind == ParameterKind::kValue);
  CHECK(s.parameters[1].values == std::vector<std::string>{"true"});
  CHECK(s.parameters[2].values == std::vector<std::string>{"models:/fmnist-backbone@pretrained"});
  const auto& bs = s.parameters[3];
  CHECK(bs.kind == ParameterKind::kFromSweep);
  CHECK(bs.from_sweep == "batch_size");
  CHECK(bs.from_parameter == "batch_size");  // default: the parameter's own name
  CHECK(bs.values.empty());
  CHECK(s.parameters[4].from_sweep == "seeds");
  CHECK(s.parameters[4].from_parameter == "random_seed");
  CHECK(s.parameters[5].name == "optimizer");  // file order, not sorted
  CHECK(s.hash.size() == 16);
}

TEST_CASE("spec: defaults when keys are absent") {
  const SweepSpec s = parse_ok(kMinimalSpec);
  CHECK(s.experiment == "fashion-mnist");
  CHECK(s.method == "grid");
  CHECK(s.count == 0);
  CHECK(s.seed == 0);
  CHECK(s.description.empty());
  CHECK(s.metric.maximize);
  CHECK(s.program.name == "fmnist_train");  // the table's default
  CHECK(s.register_model.model_name.empty());
  CHECK(s.register_model.alias == "champion");
  CHECK(s.register_model.only_if_better);

  const SweepSpec r = parse_ok(std::string(kMinimalSpec) + "register: {model_name: m}\n");
  CHECK(r.register_model.model_name == "m");
  CHECK(r.register_model.alias == "champion");
  CHECK(r.register_model.only_if_better);
}

TEST_CASE("spec: values keep the text written in the file") {
  const SweepSpec s = parse_ok(R"(name: texts
metric: {name: m}
parameters:
  a: {values: [1e-3, 0.10, 010, "quoted", yes, 1_000]}
  b: {value: 5e-4}
)");
  CHECK(s.parameters[0].values ==
        std::vector<std::string>{"1e-3", "0.10", "010", "quoted", "yes", "1_000"});
  CHECK(s.parameters[1].values == std::vector<std::string>{"5e-4"});
}

TEST_CASE("spec: programs given as a path or a list") {
  SUBCASE("an absolute path with fixed arguments") {
    const SweepSpec s = parse_ok(std::string(kMinimalSpec) + "program: [/bin/sh, -c, 'echo hi']\n");
    CHECK_FALSE(s.program.is_named());
    CHECK(s.program.def.command() == std::vector<std::string>{"/bin/sh", "-c", "echo hi"});
    CHECK_FALSE(s.program.def.logs_params);
    CHECK(s.program.where.line == 5);
  }
  SUBCASE("a bare name is looked up on PATH") {
    const SweepSpec s = parse_ok(std::string(kMinimalSpec) + "program: [sh, -c]\n");
    REQUIRE(s.program.def.command().size() == 2);
    const fs::path exe = s.program.def.executable;
    CHECK(exe.is_absolute());
    CHECK(exe.filename() == "sh");
    CHECK(::access(exe.c_str(), X_OK) == 0);
    CHECK(s.program.def.args[0] == "-c");
  }
  SUBCASE("a relative path is relative to the spec's folder, symlinks kept") {
    mlflow::testing::TempDir dir;
    const fs::path bin = fs::path(dir.path()) / "bin";
    fs::create_directories(bin);
    // A symlink runs as itself (a venv's bin/python finds its venv through its own path).
    fs::create_symlink("/bin/sh", bin / "trainer");
    const std::string file = (fs::path(dir.path()) / "spec.yaml").string();
    const SweepSpec s =
        parse_ok(std::string(kMinimalSpec) + "program: ./bin/../bin/trainer\n", file);
    REQUIRE(s.program.def.args.empty());
    CHECK(s.program.def.executable == (bin / "trainer").string());
  }
  SUBCASE("a file that is not executable") {
    mlflow::testing::TempDir dir;
    const std::string script = (fs::path(dir.path()) / "train.sh").string();
    mlflow::testing::write_file(script, "#!/bin/sh\n");
    auto s = parse_spec(std::string(kMinimalSpec) + "program: " + script + "\n", "x.yaml",
                        sweep_test::programs());
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    CHECK(s.status().message().find("x.yaml:5:10: unknown program") == 0);
    CHECK(s.status().message().find("is not an executable file") != std::string::npos);
  }
  SUBCASE("an empty list") {
    auto s =
        parse_spec(std::string(kMinimalSpec) + "program: []\n", "x.yaml", sweep_test::programs());
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message().find("x.yaml:5:10: program must be") == 0);
  }
}

TEST_CASE("spec: the hash follows the content, not comments or layout") {
  const SweepSpec a = parse_ok(kMinimalSpec, "a.yaml");
  const SweepSpec b = parse_ok(R"(# the same sweep, written differently
name:   minimal   # trailing comment

metric:
  name: best_val_accuracy
parameters:
  batch_size:
    values:
      - 32
      - 64
)",
                               "elsewhere/b.yaml");
  CHECK(a.hash == b.hash);
  CHECK(a.hash ==
        parse_ok(std::string(kMinimalSpec) + "description: words do not define trials\n").hash);

  const std::string base = kMinimalSpec;
  auto changed = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return parse_ok(text.replace(at, from.size(), to)).hash;
  };
  CHECK(changed("64", "65") != a.hash);
  CHECK(changed("[32, 64]", "[64, 32]") != a.hash);
  CHECK(changed("name: minimal", "name: minimal2") != a.hash);
  CHECK(changed("best_val_accuracy}", "best_val_accuracy, goal: minimize}") != a.hash);
  CHECK(changed("best_val_accuracy", "val_accuracy") != a.hash);
  CHECK(changed("{values: [32, 64]}", "{value: 32}") != a.hash);
  CHECK(parse_ok(base + "program: fmnist_pretrain\n").hash != a.hash);

  // A program path is hashed as written: the same spec in another folder (another machine) resumes.
  mlflow::testing::TempDir one, two;
  for (const auto* dir : {&one, &two}) {
    fs::create_directories(fs::path(dir->path()) / "bin");
    fs::copy_file("/bin/sh", fs::path(dir->path()) / "bin" / "trainer");
  }
  const std::string with_program = base + "program: [bin/trainer, --fast]\n";
  const SweepSpec in_one = parse_ok(with_program, one.path() + "/spec.yaml");
  const SweepSpec in_two = parse_ok(with_program, two.path() + "/spec.yaml");
  CHECK(in_one.program.def.executable != in_two.program.def.executable);
  CHECK(in_one.program.written == std::vector<std::string>{"bin/trainer", "--fast"});
  CHECK(in_one.hash == in_two.hash);
  CHECK(in_one.hash !=
        parse_ok(base + "program: [bin/trainer, --slow]\n", one.path() + "/spec.yaml").hash);
}

TEST_CASE("spec: a {path: P} value is resolved from the spec's folder, and hashed as written") {
  mlflow::testing::TempDir one, two;
  for (const auto* dir : {&one, &two})
    fs::create_directories(fs::path(dir->path()) / "weights" / "v1");
  const std::string text = std::string(kMinimalSpec) + "  initial_weights: {path: weights/v1}\n";
  const SweepSpec in_one = parse_ok(text, one.path() + "/spec.yaml");
  const SweepSpec in_two = parse_ok(text, two.path() + "/spec.yaml");
  REQUIRE(in_one.parameters.size() == 2);
  const auto& p = in_one.parameters[1];
  CHECK(p.kind == ParameterKind::kValue);
  CHECK(p.written_path == "weights/v1");
  CHECK(p.values == std::vector<std::string>{one.path() + "/weights/v1"});
  CHECK(in_one.hash == in_two.hash);

  auto missing = parse_spec(std::string(kMinimalSpec) + "  initial_weights: {path: weights/v2}\n",
                            one.path() + "/spec.yaml", sweep_test::programs());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kInvalidArgument);
  CHECK(missing.status().message().find("spec.yaml:5:") != std::string::npos);
  CHECK(missing.status().message().find("'weights/v2' does not exist") != std::string::npos);

  auto both =
      parse_spec(std::string(kMinimalSpec) + "  initial_weights: {path: weights/v1, value: x}\n",
                 one.path() + "/spec.yaml", sweep_test::programs());
  REQUIRE_FALSE(both.ok());
  CHECK(both.status().message().find("exactly one of value, values, path or from_sweep") !=
        std::string::npos);
}

TEST_CASE("spec: load_spec of a missing file") {
  auto s = mlflow::sweep::load_spec("/nonexistent/h11/spec.yaml", sweep_test::programs());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kNotFound);
  CHECK(s.status().message().find("/nonexistent/h11/spec.yaml") == 0);
}

TEST_CASE("spec: every reference spec in sweeps/ loads and passes the trainer's parameter check") {
  const fs::path dir = fs::path(MLFLOW_CPP_SOURCE_DIR) / "sweeps";
  int loaded = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    auto s = mlflow::sweep::load_spec(entry.path().string(), sweep_test::programs());
    CHECK_MESSAGE(s.ok(), s.status().message());
    if (!s.ok()) continue;
    CHECK(s->name == entry.path().stem().string());
    CHECK_FALSE(s->parameters.empty());
    // Every value is one the trainer takes (by the description in test_programs.h).
    REQUIRE(s->program.def.schema);
    const auto checked = mlflow::sweep::check_parameters(*s, *s->program.def.schema);
    CHECK_MESSAGE(checked.ok(), checked.message());
    ++loaded;
  }
  CHECK(loaded >= 5);
}

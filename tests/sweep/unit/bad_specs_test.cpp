// SPDX-License-Identifier: Apache-2.0
// The bad-spec corpus (tests/sweep/bad_specs): every file is refused with file:line:col and its
// `# expect:` fragment, by the parser or by the check of its grid against the program's parameter
// description (test_programs.h); the subfolders are whole folders the catalog refuses.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mlflow/sweep/program_check.h"
#include "mlflow/sweep/spec.h"
#include "mlflow/sweep/spec_catalog.h"
#include "support/test_support.h"
#include "test_programs.h"

namespace fs = std::filesystem;
using mlflow::StatusCode;

namespace {

const fs::path kDir = MLFLOW_CPP_BAD_SPECS_DIR;

// The flat corpus only: the subfolders hold specs that are fine one by one.
std::vector<fs::path> flat_cases() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string expected_fragment(const fs::path& file) {
  const std::string text = mlflow::testing::read_file(file.string());
  const std::string prefix = "# expect: ";
  if (text.rfind(prefix, 0) != 0) return {};
  return text.substr(prefix.size(), text.find('\n') - prefix.size());
}

// "file:LINE:COL: ..." -> {LINE, COL}; {0, 0} when the message does not start that way.
std::pair<int, int> line_col(const std::string& message, const std::string& file) {
  if (message.rfind(file + ":", 0) != 0) return {0, 0};
  std::size_t i = file.size() + 1;
  auto number = [&]() {
    int n = 0;
    const std::size_t start = i;
    while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i])))
      n = n * 10 + (message[i++] - '0');
    if (i == start || i >= message.size() || message[i] != ':') return 0;
    ++i;
    return n;
  };
  const int line = number();
  const int col = line > 0 ? number() : 0;
  return {line, col};
}

// What sweep_runner does before creating anything: parse, then check the grid against the program.
mlflow::Status check_spec(const std::string& path) {
  auto spec = mlflow::sweep::load_spec(path, sweep_test::programs());
  if (!spec.ok()) return spec.status();
  REQUIRE(spec->program.def.schema);
  return mlflow::sweep::check_parameters(*spec, *spec->program.def.schema);
}

}  // namespace

TEST_CASE("bad specs: every file is refused with file:line:col and its expected message") {
  const auto files = flat_cases();
  CHECK(files.size() >= 34);
  for (const auto& file : files) {
    const std::string path = file.string();
    CAPTURE(path);
    const std::string expect = expected_fragment(file);
    REQUIRE_MESSAGE(!expect.empty(), "first line must be '# expect: <fragment>'");
    const mlflow::Status status = check_spec(path);
    REQUIRE_FALSE(status.ok());
    const std::string& message = status.message();
    CAPTURE(message);
    CHECK(status.code() == StatusCode::kInvalidArgument);
    const auto [line, col] = line_col(message, path);
    CHECK(line >= 1);
    CHECK(col >= 1);
    CHECK(message.find(expect) != std::string::npos);
  }
}

TEST_CASE("bad specs: the location is the offending line and column") {
  const std::map<std::string, std::pair<int, int>> expected = {
      {"unknown_top_level_key.yaml", {4, 1}},   // the key
      {"unknown_metric_key.yaml", {5, 3}},      // the key inside metric
      {"unknown_parameter_key.yaml", {6, 34}},  // 'default' inside the flow mapping
      {"duplicate_values.yaml", {5, 33}},       // the second 32
      {"metric_goal_invalid.yaml", {3, 41}},    // the goal's value
      {"values_scalar.yaml", {6, 13}},          // the scalar after values:
      {"only_if_better_not_bool.yaml", {8, 19}},
      {"count_not_integer.yaml", {4, 8}},
      {"mismatched_bracket.yaml", {5, 31}},  // the '}' that closes nothing
      {"duplicate_parameter.yaml", {7, 3}},  // the second batch_size
      {"empty.yaml", {1, 1}},
      {"text_for_number.yaml", {5, 29}},      // the bad value, not the parameter
      {"split_out_of_range.yaml", {8, 9}},    // the second list entry
      {"misspelled_parameter.yaml", {6, 3}},  // the parameter's name
      {"alias_version_like.yaml", {8, 10}},
  };
  for (const auto& [name, where] : expected) {
    const std::string path = (kDir / name).string();
    CAPTURE(path);
    const mlflow::Status status = check_spec(path);
    REQUIRE_FALSE(status.ok());
    const std::string want =
        path + ":" + std::to_string(where.first) + ":" + std::to_string(where.second) + ": ";
    CHECK_MESSAGE(status.message().rfind(want, 0) == 0, status.message());
  }
}

TEST_CASE("bad specs: a cycle of from_sweep between two specs") {
  const std::string a = (kDir / "cycle" / "a.yaml").string();
  const std::string b = (kDir / "cycle" / "b.yaml").string();
  // Each loads on its own; the folder is what is wrong.
  REQUIRE(mlflow::sweep::load_spec(a, sweep_test::programs()).ok());
  REQUIRE(mlflow::sweep::load_spec(b, sweep_test::programs()).ok());

  auto from_a = mlflow::sweep::SpecCatalog::load(a, sweep_test::programs());
  REQUIRE_FALSE(from_a.ok());
  CHECK(from_a.status().code() == StatusCode::kInvalidArgument);
  const std::string& m = from_a.status().message();
  CAPTURE(m);
  CHECK(m.find("cycle") != std::string::npos);
  CHECK(m.find("a -> b -> a") != std::string::npos);
  CHECK(m.rfind(b + ":6:9: parameter 'seed'", 0) == 0);  // b's parameter closes the cycle

  auto from_b = mlflow::sweep::SpecCatalog::load(b, sweep_test::programs());
  REQUIRE_FALSE(from_b.ok());
  CHECK(from_b.status().message().find("b -> a -> b") != std::string::npos);
  CHECK(from_b.status().message().rfind(a + ":5:15: parameter 'batch_size'", 0) == 0);
}

TEST_CASE("bad specs: from_sweep naming no spec in the folder") {
  const std::string x = (kDir / "unknown_from_sweep" / "x.yaml").string();
  auto catalog = mlflow::sweep::SpecCatalog::load(x, sweep_test::programs());
  REQUIRE_FALSE(catalog.ok());
  CHECK(catalog.status().code() == StatusCode::kInvalidArgument);
  const std::string& m = catalog.status().message();
  CAPTURE(m);
  CHECK(m.rfind(x + ":5:15: ", 0) == 0);
  CHECK(m.find("from_sweep 'no_such_sweep' names no sweep spec") != std::string::npos);
  CHECK(m.find("known: x") != std::string::npos);
}

TEST_CASE("bad specs: two specs in one folder with the same name") {
  const std::string one = (kDir / "duplicate_names" / "one.yaml").string();
  const std::string two = (kDir / "duplicate_names" / "two.yaml").string();
  auto catalog = mlflow::sweep::SpecCatalog::load(one, sweep_test::programs());
  REQUIRE_FALSE(catalog.ok());
  CHECK(catalog.status().code() == StatusCode::kInvalidArgument);
  const std::string& m = catalog.status().message();
  CAPTURE(m);
  CHECK(m.rfind(two + ": ", 0) == 0);
  CHECK(m.find("'same' is already used by " + one) != std::string::npos);
}

// SPDX-License-Identifier: Apache-2.0
// Expanding specs into trials (grid, random, from_sweep), config hashes, labels and sharding.
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mlflow/sweep/trials.h"
#include "test_programs.h"

using mlflow::StatusCode;
using mlflow::sweep::expand_trials;
using mlflow::sweep::Shard;
using mlflow::sweep::SweepSpec;
using mlflow::sweep::Trial;
using Params = std::vector<std::pair<std::string, std::string>>;

namespace {

SweepSpec parse_ok(const std::string& text) {
  auto spec = mlflow::sweep::parse_spec(text, "trials.yaml", sweep_test::programs());
  REQUIRE_MESSAGE(spec.ok(), spec.status().message());
  return std::move(*spec);
}

std::vector<Trial> expand_ok(const SweepSpec& spec,
                             const mlflow::sweep::ResolvedValues& resolved = {}) {
  auto trials = expand_trials(spec, resolved);
  REQUIRE_MESSAGE(trials.ok(), trials.status().message());
  return std::move(*trials);
}

const char* kGrid = R"(name: grid
metric: {name: m}
parameters:
  a: {values: [1, 2]}
  b: {value: x}
  c: {values: [p, q, r]}
)";

// 4 x 4 x 4 = 64 combinations; random sweeps draw from these.
std::string random_spec(int count, long long seed) {
  return "name: rnd\nmethod: random\ncount: " + std::to_string(count) +
         "\nseed: " + std::to_string(seed) +
         "\nmetric: {name: m}\nparameters:\n  a: {values: [1, 2, 3, 4]}\n  b: {values: [5, 6, 7, "
         "8]}\n"
         "  c: {values: [w, x, y, z]}\n  fixed: {value: k}\n";
}

std::vector<Params> params_of(const std::vector<Trial>& trials) {
  std::vector<Params> out;
  for (const auto& t : trials) out.push_back(t.params);
  return out;
}

std::function<const char*(const char*)> fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("trials: grid is the product, first parameter slowest") {
  const auto trials = expand_ok(parse_ok(kGrid));
  REQUIRE(trials.size() == 6);
  const std::vector<Params> expected = {
      {{"a", "1"}, {"b", "x"}, {"c", "p"}}, {{"a", "1"}, {"b", "x"}, {"c", "q"}},
      {{"a", "1"}, {"b", "x"}, {"c", "r"}}, {{"a", "2"}, {"b", "x"}, {"c", "p"}},
      {{"a", "2"}, {"b", "x"}, {"c", "q"}}, {{"a", "2"}, {"b", "x"}, {"c", "r"}},
  };
  CHECK(params_of(trials) == expected);
  for (std::size_t i = 0; i < trials.size(); ++i) CHECK(trials[i].index == static_cast<int>(i));
}

TEST_CASE("trials: config hashes are distinct and stable") {
  const auto first = expand_ok(parse_ok(kGrid));
  const auto again = expand_ok(parse_ok(std::string("# a comment\n") + kGrid));
  std::set<std::string> hashes;
  for (const auto& t : first) {
    CHECK(t.config_hash.size() == 16);
    hashes.insert(t.config_hash);
  }
  CHECK(hashes.size() == first.size());
  REQUIRE(again.size() == first.size());
  for (std::size_t i = 0; i < first.size(); ++i)
    CHECK(again[i].config_hash == first[i].config_hash);

  // The same params in another sweep are another trial.
  std::string renamed = kGrid;
  renamed.replace(renamed.find("name: grid"), 10, "name: grid2");
  CHECK(expand_ok(parse_ok(renamed))[0].config_hash != first[0].config_hash);
}

TEST_CASE("trials: from_sweep parameters take the resolved value") {
  const SweepSpec spec = parse_ok(R"(name: uses
metric: {name: m}
parameters:
  batch_size: {from_sweep: batch_size_sweep}
  seed: {values: [1, 2]}
)");
  const auto trials = expand_ok(spec, {{"batch_size", "64"}});
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].params == Params{{"batch_size", "64"}, {"seed", "1"}});
  CHECK(trials[1].params == Params{{"batch_size", "64"}, {"seed", "2"}});
  CHECK(expand_ok(spec, {{"batch_size", "128"}})[0].config_hash != trials[0].config_hash);

  auto missing = expand_trials(spec, {{"seed", "3"}});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kFailedPrecondition);
  CHECK(missing.status().message().find("trials.yaml:4:15: parameter 'batch_size'") == 0);
  CHECK(missing.status().message().find("batch_size_sweep") != std::string::npos);
}

TEST_CASE("trials: random draws count distinct combinations, reproducibly") {
  const auto trials = expand_ok(parse_ok(random_spec(10, 7)));
  REQUIRE(trials.size() == 10);
  std::set<Params> distinct;
  const std::set<std::string> a = {"1", "2", "3", "4"}, b = {"5", "6", "7", "8"},
                              c = {"w", "x", "y", "z"};
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& p = trials[i].params;
    CHECK(trials[i].index == static_cast<int>(i));
    REQUIRE(p.size() == 4);
    CHECK(p[0].first == "a");
    CHECK(a.count(p[0].second) == 1);
    CHECK(b.count(p[1].second) == 1);
    CHECK(c.count(p[2].second) == 1);
    CHECK(p[3] == std::pair<std::string, std::string>{"fixed", "k"});
    distinct.insert(p);
  }
  CHECK(distinct.size() == 10);

  CHECK(params_of(expand_ok(parse_ok(random_spec(10, 7)))) == params_of(trials));
  // Seeds 7 and 8 draw different trials (checked: the sampler is fully specified, so this holds
  // on every machine).
  CHECK(params_of(expand_ok(parse_ok(random_spec(10, 8)))) != params_of(trials));
}

TEST_CASE("trials: random with count equal to the grid is a permutation of it") {
  const auto all = expand_ok(parse_ok(random_spec(64, 3)));
  REQUIRE(all.size() == 64);
  std::set<Params> distinct;
  for (const auto& t : all) distinct.insert(t.params);
  CHECK(distinct.size() == 64);
  // Shuffled, not in grid order.
  std::string grid = random_spec(64, 3);
  const std::string random_keys = "method: random\ncount: 64\nseed: 3\n";
  grid.replace(grid.find(random_keys), random_keys.size(), "");
  const auto ordered = expand_ok(parse_ok(grid));
  REQUIRE(ordered.size() == 64);
  CHECK(params_of(ordered) != params_of(all));
}

TEST_CASE("trials: shards partition the trials") {
  const auto trials = expand_ok(parse_ok(random_spec(11, 5)));
  for (int n = 1; n <= 4; ++n) {
    CAPTURE(n);
    std::vector<int> owners(trials.size(), 0);
    for (int k = 0; k < n; ++k) {
      const Shard shard{k, n};
      CHECK(shard.sharded() == (n > 1));
      for (const auto& t : trials)
        owners[static_cast<std::size_t>(t.index)] += shard.owns(t) ? 1 : 0;
    }
    for (int count : owners) CHECK(count == 1);
  }
  // Round robin: shard 1 of 3 owns trials 1, 4, 7, 10.
  std::vector<int> owned;
  for (const auto& t : trials) {
    if (Shard{1, 3}.owns(t)) owned.push_back(t.index);
  }
  CHECK(owned == std::vector<int>{1, 4, 7, 10});
}

TEST_CASE("trials: parse_shard") {
  auto s0 = mlflow::sweep::parse_shard("0/2");
  REQUIRE(s0.ok());
  CHECK(s0->index == 0);
  CHECK(s0->count == 2);
  auto s1 = mlflow::sweep::parse_shard("1/2");
  REQUIRE(s1.ok());
  CHECK(s1->index == 1);
  CHECK(s1->count == 2);
  CHECK(mlflow::sweep::parse_shard("0/1").ok());
  for (const char* bad :
       {"2/2", "-1/2", "x", "1/0", "", "/2", "1/", "1/2x", "a/b", "3/2", "0/-1"}) {
    auto s = mlflow::sweep::parse_shard(bad);
    CHECK_MESSAGE(s.status().code() == StatusCode::kInvalidArgument, bad);
    CHECK(s.status().message().find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("trials: shard_from_env") {
  using mlflow::sweep::shard_from_env;
  SUBCASE("Slurm job array") {
    auto s = shard_from_env(fake_env({{"SLURM_ARRAY_TASK_ID", "5"},
                                      {"SLURM_ARRAY_TASK_COUNT", "3"},
                                      {"SLURM_ARRAY_TASK_MIN", "4"}}),
                            0);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    CHECK(s->index == 1);
    CHECK(s->count == 3);
    auto from_zero = shard_from_env(
        fake_env({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}), 0);
    REQUIRE(from_zero.ok());
    CHECK(from_zero->index == 2);
    CHECK(from_zero->count == 4);
    CHECK_FALSE(shard_from_env(fake_env({{"SLURM_ARRAY_TASK_ID", "2"}}), 0).ok());
    CHECK_FALSE(shard_from_env(
                    fake_env({{"SLURM_ARRAY_TASK_ID", "two"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}), 0)
                    .ok());
    CHECK_FALSE(
        shard_from_env(fake_env({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}), 0)
            .ok());
  }
  SUBCASE("Slurm with --shards: the task id is the shard") {
    // A partial resubmit (--array=2) of a 4-shard sweep: a one-task array starting at 2.
    auto s = shard_from_env(fake_env({{"SLURM_ARRAY_TASK_ID", "2"},
                                      {"SLURM_ARRAY_TASK_COUNT", "1"},
                                      {"SLURM_ARRAY_TASK_MIN", "2"}}),
                            4);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    CHECK(s->index == 2);
    CHECK(s->count == 4);
    CHECK_FALSE(
        shard_from_env(fake_env({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "1"}}), 4)
            .ok());
  }
  SUBCASE("Kubernetes Indexed Job with --shards") {
    auto s = shard_from_env(fake_env({{"JOB_COMPLETION_INDEX", "2"}}), 3);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    CHECK(s->index == 2);
    CHECK(s->count == 3);
    CHECK_FALSE(shard_from_env(fake_env({{"JOB_COMPLETION_INDEX", "3"}}), 3).ok());
    CHECK_FALSE(shard_from_env(fake_env({{"JOB_COMPLETION_INDEX", "one"}}), 3).ok());
  }
  SUBCASE("JOB_COMPLETION_INDEX without --shards") {
    auto s = shard_from_env(fake_env({{"JOB_COMPLETION_INDEX", "0"}}), 0);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    CHECK(s.status().message().find("--shards") != std::string::npos);
  }
  SUBCASE("nothing set") {
    for (int shards : {0, 1}) {
      auto s = shard_from_env(fake_env({}), shards);
      REQUIRE(s.ok());
      CHECK(s->index == 0);
      CHECK(s->count == 1);
      CHECK_FALSE(s->sharded());
    }
  }
  SUBCASE("--shards above 1 with nothing set") {
    auto s = shard_from_env(fake_env({}), 2);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    CHECK(s.status().message().find("JOB_COMPLETION_INDEX") != std::string::npos);
  }
}

TEST_CASE("trials: label shows the parameters that vary") {
  const SweepSpec grid = parse_ok(kGrid);
  const auto trials = expand_ok(grid);
  CHECK(trials[4].label(grid) == "a=2 c=q");

  const SweepSpec fixed = parse_ok(R"(name: fixed
metric: {name: m}
parameters:
  a: {value: 1}
  b: {from_sweep: other}
)");
  // A chained (from_sweep) value is shown: it is what this sweep got from the other.
  const auto one = expand_ok(fixed, {{"b", "9"}});
  REQUIRE(one.size() == 1);
  CHECK(one[0].label(fixed) == "b=9");

  const SweepSpec constant = parse_ok(R"(name: constant
metric: {name: m}
parameters:
  a: {value: 1}
  b: {value: x}
)");
  CHECK(expand_ok(constant)[0].label(constant) == "a=1 b=x");
}

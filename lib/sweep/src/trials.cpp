// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/trials.h"

#include <cstdint>
#include <cstdlib>
#include <numeric>

#include <fmt/format.h>

#include "mlflow/sweep/fingerprint.h"

namespace mlflow::sweep {

namespace {

// SplitMix64: a fully specified generator, so random sweeps draw the same trials everywhere
// (std::uniform_int_distribution is implementation-defined).
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

bool parse_int(const char* s, long long& out) {
  if (s == nullptr || *s == '\0') return false;
  char* end = nullptr;
  out = std::strtoll(s, &end, 10);
  return *end == '\0';
}

}  // namespace

std::string Trial::label(const SweepSpec& spec) const {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < params.size() && i < spec.parameters.size(); ++i) {
    if (spec.parameters[i].kind != ParameterKind::kValue)
      parts.push_back(params[i].first + "=" + params[i].second);
  }
  if (parts.empty()) {
    for (const auto& [k, v] : params) parts.push_back(fmt::format("{}={}", k, v));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

StatusOr<std::vector<Trial>> expand_trials(const SweepSpec& spec, const ResolvedValues& resolved) {
  std::vector<std::vector<std::string>> choices;
  for (const auto& p : spec.parameters) {
    if (p.kind == ParameterKind::kFromSweep) {
      auto it = resolved.find(p.name);
      if (it == resolved.end()) {
        return Status(
            StatusCode::kFailedPrecondition,
            fmt::format("{}: parameter '{}' comes from sweep '{}', which has no best trial yet",
                        p.where.to_string(), p.name, p.from_sweep));
      }
      choices.push_back({it->second});
    } else {
      choices.push_back(p.values);
    }
  }
  std::size_t total = 1;
  for (const auto& c : choices) total *= c.size();

  // Combination number -> one value per parameter, first parameter slowest.
  auto combination = [&](std::size_t n) {
    std::vector<std::pair<std::string, std::string>> params(choices.size());
    for (std::size_t i = choices.size(); i-- > 0;) {
      params[i] = {spec.parameters[i].name, choices[i][n % choices[i].size()]};
      n /= choices[i].size();
    }
    return params;
  };

  std::vector<std::size_t> order(total);
  std::iota(order.begin(), order.end(), 0);
  if (spec.method == "random") {
    SplitMix64 rng{static_cast<std::uint64_t>(spec.seed)};
    for (std::size_t i = total; i > 1; --i)
      std::swap(order[i - 1], order[rng.next() % i]);  // Fisher-Yates
    order.resize(std::min<std::size_t>(order.size(), static_cast<std::size_t>(spec.count)));
  }

  std::vector<Trial> trials;
  for (std::size_t n : order) {
    Trial t;
    t.index = static_cast<int>(trials.size());
    t.params = combination(n);
    std::string canon = spec.name + "\n";
    for (const auto& [k, v] : t.params) canon += fmt::format("{}={}\n", k, v);
    t.config_hash = fingerprint(canon);
    trials.push_back(std::move(t));
  }
  return trials;
}

StatusOr<Shard> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  long long k = 0, n = 0;
  if (slash == std::string::npos || !parse_int(text.substr(0, slash).c_str(), k) ||
      !parse_int(text.substr(slash + 1).c_str(), n) || n < 1 || k < 0 || k >= n) {
    return Status(
        StatusCode::kInvalidArgument,
        fmt::format("--shard '{}': expected K/N with 0 <= K < N, e.g. 0/2 and 1/2", text));
  }
  return Shard{static_cast<int>(k), static_cast<int>(n)};
}

StatusOr<Shard> shard_from_env(const std::function<const char*(const char*)>& getenv, int shards) {
  long long id = 0, count = 0, min = 0;
  if (const char* s = getenv("SLURM_ARRAY_TASK_ID")) {
    if (!parse_int(s, id) || !parse_int(getenv("SLURM_ARRAY_TASK_COUNT"), count) || count < 1) {
      return Status(StatusCode::kInvalidArgument,
                    "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT are "
                    "not integers");
    }
    // With --shards the task id is the shard (a partial resubmit, --array=2, still runs shard 2);
    // without it the array is the shard set, numbered from its first task.
    if (const char* m = getenv("SLURM_ARRAY_TASK_MIN"); shards < 1 && m && !parse_int(m, min))
      min = 0;
    if (shards > 0) {
      count = shards;
      min = 0;
    }
    if (id - min < 0 || id - min >= count) {
      return Status(
          StatusCode::kInvalidArgument,
          fmt::format("SLURM_ARRAY_TASK_ID {} is outside the array of {} tasks starting at {}", id,
                      count, min));
    }
    return Shard{static_cast<int>(id - min), static_cast<int>(count)};
  }
  if (const char* s = getenv("JOB_COMPLETION_INDEX")) {
    if (!parse_int(s, id) || id < 0) {
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("JOB_COMPLETION_INDEX '{}' is not an index", s));
    }
    if (shards < 1) {
      return Status(StatusCode::kInvalidArgument,
                    "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give --shards N, the "
                    "Job's completions");
    }
    if (id >= shards) {
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("JOB_COMPLETION_INDEX {} is not below --shards {}", id, shards));
    }
    return Shard{static_cast<int>(id), shards};
  }
  if (shards > 1) {
    return Status(StatusCode::kInvalidArgument,
                  "--shards N needs the shard index: JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID "
                  "(or use --shard K/N)");
  }
  return Shard{};
}

}  // namespace mlflow::sweep

// SPDX-License-Identifier: Apache-2.0
// Portable seeded permutations: mt19937_64 plus our own unbiased bounded draw (std distributions
// vary by library).
#include "mlflow/libtorch/seeded_shuffle.h"

#include <numeric>
#include <random>
#include <utility>

namespace mlflow::libtorch {
namespace {

// Uniform in [0, bound) without modulo bias: reject draws from the incomplete last block.
std::uint64_t bounded(std::mt19937_64& gen, std::uint64_t bound) {
  const std::uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % bound;
  for (;;) {
    std::uint64_t x = gen();
    if (x < limit) return x % bound;
  }
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<std::int64_t> seeded_permutation(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n > 0 ? n : 0));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::mt19937_64 gen(seed);
  for (std::size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[bounded(gen, i)]);
  }
  return order;
}

std::uint64_t mix_seed(std::initializer_list<std::uint64_t> parts) {
  std::uint64_t h = 0x6A09E667F3BCC909ull;
  for (std::uint64_t p : parts) h = splitmix64(h ^ splitmix64(p));
  return h;
}

}  // namespace mlflow::libtorch

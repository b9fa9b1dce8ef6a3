// SPDX-License-Identifier: Apache-2.0
// Seeded permutations that are identical on every platform and LibTorch version; LibTorch-free.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace mlflow::libtorch {

/// A permutation of 0..n-1 from a Fisher-Yates shuffle driven by std::mt19937_64 (whose output the
/// standard fixes) and unbiased rejection sampling, so the same seed gives the same order
/// everywhere. Thread-safety: a pure function.
std::vector<std::int64_t> seeded_permutation(std::int64_t n, std::uint64_t seed);

/// Mixes several values (e.g. seed, epoch, batch index) into one well-spread 64-bit seed
/// (splitmix64).
std::uint64_t mix_seed(std::initializer_list<std::uint64_t> parts);

}  // namespace mlflow::libtorch

// SPDX-License-Identifier: Apache-2.0
// A frozen backbone's features of the data splits, kept on disk across runs: trials of a sweep that
// share the backbone and the data compute them once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fmnist/fmnist_tensors.h"
#include "mlflow/status.h"

namespace mlflow::fmnist {

/// Where and how much. An empty `dir` disables the cache.
struct FeatureCacheOptions {
  std::string dir;  ///< see default_feature_cache_dir()
  std::uint64_t max_bytes =
      4ull << 30;                       ///< after a write, least recently used entries go past this
  std::chrono::milliseconds poll{100};  ///< how often a process waiting for another's entry looks
  std::function<void(const std::string&)>
      warn;  ///< told why the cache was not used (unwritable, corrupt)
};

/// $XDG_CACHE_HOME/mlflow-cpp/features, else $HOME/.cache/mlflow-cpp/features; empty when neither
/// is set.
std::string default_feature_cache_dir();

/// The key of features: sha256 of the model config, every backbone tensor and every input tensor
/// (the images after preprocessing, so the split, its seed and the normalisation are covered), and
/// `extra`.
std::string feature_cache_key(const std::string& model_config_json,
                              const std::vector<at::Tensor>& backbone_state,
                              const std::vector<const TensorSet*>& inputs,
                              const std::string& extra = {});

/// Entries are `<key>.pt` LibTorch archives written to a temporary file and renamed, with a
/// `<key>.sha256` of the archive written last: an entry without it, or whose bytes do not match it,
/// is incomplete or corrupt, and is computed again (with a warning). Processes asking for the same
/// key at once take turns on
/// `<key>.lock` (flock): one computes, the others wait and read. Reading an entry touches it; after
/// a write, the least recently used entries are removed until the directory holds at most
/// max_bytes. A directory that cannot be created or written is a warning, and the features are
/// computed without the cache. Thread-safety: one call at a time per object; any number of
/// processes.
class FeatureCache {
 public:
  explicit FeatureCache(FeatureCacheOptions options) : options_(std::move(options)) {}

  using Compute = std::function<StatusOr<std::vector<TensorSet>>()>;
  /// The sets stored under `key`, or those `compute` returns (then stored). `cancelled` is polled
  /// while waiting for another process; kCancelled when it says so. `hit` tells whether the cache
  /// answered.
  StatusOr<std::vector<TensorSet>> get_or_compute(const std::string& key, const Compute& compute,
                                                  const std::function<bool()>& cancelled,
                                                  bool* hit = nullptr);

 private:
  void warn(const std::string& message) const;
  FeatureCacheOptions options_;
};

}  // namespace mlflow::fmnist

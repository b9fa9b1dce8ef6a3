// SPDX-License-Identifier: Apache-2.0
// Following the registry: the alias the server was started on is polled, and when it names another
// version that version is loaded in the background and swapped in. A version that fails to load
// leaves the old one serving; it is not tried again until the alias moves once more.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "model_holder.h"
#include "predictor.h"

namespace mlflow::serve {

/// What the follower has seen; shown by /health.
struct FollowState {
  std::string alias;            ///< e.g. "champion" (empty: not following)
  std::string serving_version;  ///< the version being served
  std::string seen_version;     ///< the version the alias named at the last poll
  std::string last_error;       ///< the last failed poll or load ("" when the last one worked)
  std::string failed_version;   ///< the version that failed to load, if any
  int reloads = 0;              ///< versions swapped in after the first
  int failures = 0;             ///< failed polls and loads
};

/// Polls and reloads. Thread-safe.
class ModelFollower {
 public:
  /// The version an alias names now.
  using Resolve = std::function<StatusOr<std::string>()>;
  /// Loads a version.
  using Load = std::function<StatusOr<std::unique_ptr<Predictor>>(const std::string& version)>;
  /// Told of each swap (ok, the new model) or failure (not ok, null); on the polling thread.
  using OnReload = std::function<void(const Status& status, const Predictor* model)>;

  /// `models` must hold the first model already (its info().version is the one being served).
  ModelFollower(ModelHolder& models, std::string alias, Resolve resolve, Load load,
                OnReload on_reload = {});
  ~ModelFollower();
  ModelFollower(const ModelFollower&) = delete;
  ModelFollower& operator=(const ModelFollower&) = delete;

  /// One poll: resolves the alias, and when it names a version other than the one served (and not
  /// the one that failed last), loads it and swaps it in. Returns whether a new model was swapped
  /// in.
  bool poll_once();

  /// Polls every `interval` on a thread of its own until stop().
  void start(std::chrono::milliseconds interval);
  void stop();

  FollowState state() const;

 private:
  ModelHolder& models_;
  Resolve resolve_;
  Load load_;
  OnReload on_reload_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  FollowState state_;
  std::thread thread_;
};

}  // namespace mlflow::serve

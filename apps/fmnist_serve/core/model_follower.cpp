// SPDX-License-Identifier: Apache-2.0
#include "model_follower.h"

#include <utility>

namespace mlflow::serve {

ModelFollower::ModelFollower(ModelHolder& models, std::string alias, Resolve resolve, Load load,
                             OnReload on_reload)
    : models_(models),
      resolve_(std::move(resolve)),
      load_(std::move(load)),
      on_reload_(std::move(on_reload)) {
  state_.alias = std::move(alias);
  if (auto current = models_.current()) state_.serving_version = current->info().version;
  state_.seen_version = state_.serving_version;
}

ModelFollower::~ModelFollower() { stop(); }

bool ModelFollower::poll_once() {
  auto version = resolve_();
  std::string wanted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!version.ok()) {
      state_.last_error = "resolving @" + state_.alias + ": " + version.status().to_string();
      ++state_.failures;
      return false;
    }
    state_.seen_version = *version;
    if (*version == state_.serving_version || *version == state_.failed_version) {
      if (*version == state_.serving_version) state_.last_error.clear();
      return false;
    }
    wanted = *version;
  }
  // Loading takes seconds; requests keep being served by the current model meanwhile.
  auto loaded = load_(wanted);
  if (!loaded.ok()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      state_.failed_version = wanted;
      state_.last_error = "loading version " + wanted + ": " + loaded.status().to_string();
      ++state_.failures;
    }
    if (on_reload_) on_reload_(loaded.status(), nullptr);
    return false;
  }
  std::shared_ptr<Predictor> model = std::move(*loaded);
  models_.swap_in(model);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    state_.serving_version = wanted;
    state_.failed_version.clear();
    state_.last_error.clear();
    ++state_.reloads;
  }
  if (on_reload_) on_reload_(Status(), model.get());
  return true;
}

void ModelFollower::start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      poll_once();
      lock.lock();
    }
  });
}

void ModelFollower::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

FollowState ModelFollower::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

}  // namespace mlflow::serve

// SPDX-License-Identifier: Apache-2.0
#include "batcher.h"

#include <algorithm>
#include <string>
#include <utility>

namespace mlflow::serve {

Batcher::Batcher(BatcherOptions options, const ModelHolder& models, BatchObserver observer,
                 bool start_worker)
    : options_(options), models_(models), observer_(std::move(observer)) {
  options_.max_batch = std::max<std::int64_t>(1, options_.max_batch);
  if (start_worker) worker_ = std::thread([this] { worker_loop(); });
}

Batcher::~Batcher() { stop(); }

StatusOr<std::future<BatchResult>> Batcher::submit(std::vector<float> images, std::int64_t n) {
  if (n < 1 || static_cast<std::int64_t>(images.size()) != n * kImageSize) {
    return Status(StatusCode::kInvalidArgument,
                  "a request needs at least one 1x28x28 image (got " + std::to_string(n) + ")");
  }
  Request request{std::move(images), n, {}};
  auto future = request.promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return Status(StatusCode::kUnavailable, "the server is shutting down");
    if (queued_images_ + n > options_.max_queue_images) {
      return Status(StatusCode::kResourceExhausted,
                    "the server is overloaded: " + std::to_string(queued_images_) +
                        " images are waiting (limit " + std::to_string(options_.max_queue_images) +
                        "); retry later");
    }
    queued_images_ += n;
    queue_.push_back(std::move(request));
  }
  wake_.notify_one();
  return future;
}

std::int64_t Batcher::queued_images() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_images_;
}

std::vector<Batcher::Request> Batcher::take_batch(std::unique_lock<std::mutex>& /*locked*/) {
  std::vector<Request> batch;
  std::int64_t images = 0;
  // Whole requests only; the first is always taken, even when it alone exceeds max_batch.
  while (!queue_.empty() && (batch.empty() || images + queue_.front().n <= options_.max_batch)) {
    images += queue_.front().n;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
    if (options_.max_batch == 1) break;
  }
  queued_images_ -= images;
  return batch;
}

bool Batcher::run_once() {
  std::vector<Request> batch;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    batch = take_batch(lock);
  }
  if (batch.empty()) return false;
  run_batch(batch);
  return true;
}

void Batcher::run_batch(std::vector<Request>& batch) {
  auto model = models_.current();
  if (!model) {
    for (auto& r : batch) {
      r.promise.set_value({Status(StatusCode::kUnavailable, "no model is loaded yet"), {}, {}});
    }
    return;
  }
  std::int64_t n = 0;
  for (const auto& r : batch) n += r.n;
  // One request needs no copy; several are laid end to end.
  std::vector<float> joined;
  const float* images = batch.front().images.data();
  if (batch.size() > 1) {
    joined.reserve(static_cast<std::size_t>(n * kImageSize));
    for (const auto& r : batch) joined.insert(joined.end(), r.images.begin(), r.images.end());
    images = joined.data();
  }
  const auto start = std::chrono::steady_clock::now();
  auto probs = model->predict(images, n);
  const auto took = std::chrono::steady_clock::now() - start;
  if (!probs.ok()) {
    for (auto& r : batch) r.promise.set_value({probs.status(), {}, model});
    return;
  }
  const std::size_t per_image = probs->size() / static_cast<std::size_t>(n);
  if (observer_.on_batch) observer_.on_batch(images, probs->data(), n, *model, took);
  std::size_t offset = 0;
  for (auto& r : batch) {
    const std::size_t count = per_image * static_cast<std::size_t>(r.n);
    std::vector<float> mine(probs->begin() + static_cast<std::ptrdiff_t>(offset),
                            probs->begin() + static_cast<std::ptrdiff_t>(offset + count));
    offset += count;
    r.promise.set_value({Status(), std::move(mine), model});
  }
}

void Batcher::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    if (options_.max_batch > 1 && queued_images_ < options_.max_batch) {
      // Give later requests up to max_wait to join the first one.
      const auto deadline = std::chrono::steady_clock::now() + options_.max_wait;
      wake_.wait_until(lock, deadline,
                       [this] { return stopping_ || queued_images_ >= options_.max_batch; });
      if (stopping_) break;
    }
    auto batch = take_batch(lock);
    lock.unlock();
    if (!batch.empty()) run_batch(batch);
    lock.lock();
  }
}

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& r : queue_) {
    r.promise.set_value({Status(StatusCode::kUnavailable, "the server is shutting down"), {}, {}});
  }
  queue_.clear();
  queued_images_ = 0;
}

}  // namespace mlflow::serve

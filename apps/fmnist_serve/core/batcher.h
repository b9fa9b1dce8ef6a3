// SPDX-License-Identifier: Apache-2.0
// Dynamic batching: requests queue up and one worker runs them through the model together, up to a
// batch size or a wait, whichever comes first. The queue is bounded: a request that would overflow
// it is refused at once rather than left to wait without limit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "model_holder.h"
#include "predictor.h"

namespace mlflow::serve {

/// How requests are grouped.
struct BatcherOptions {
  /// Images per forward pass at most. 1 turns batching off: every request is its own pass (a
  /// request of several images included).
  std::int64_t max_batch = 32;
  /// How long the first request of a batch waits for others to join it.
  std::chrono::microseconds max_wait{2000};
  /// Images waiting at most; more are refused with kResourceExhausted.
  std::int64_t max_queue_images = 2048;
};

/// What one request gets back.
struct BatchResult {
  Status status;                     ///< kOk, or why the pass failed / no model is loaded
  std::vector<float> probabilities;  ///< n x classes, when ok
  std::shared_ptr<Predictor> model;  ///< the model that answered (its info() names the version)
};

/// Called after each pass with its images and probabilities (the drift monitor's feed) and the
/// pass's duration. Called on the worker thread; must not throw.
struct BatchObserver {
  std::function<void(const float* images, const float* probabilities, std::int64_t n,
                     const Predictor& model, std::chrono::nanoseconds took)>
      on_batch;
};

/// The queue and its worker. Thread-safe.
class Batcher {
 public:
  /// With `start_worker` false nothing runs the queue but run_once() (tests drive it by hand).
  Batcher(BatcherOptions options, const ModelHolder& models, BatchObserver observer = {},
          bool start_worker = true);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  /// Queues `n` images (n x kImageSize floats, moved in). kResourceExhausted at once when the queue
  /// would hold more than max_queue_images; kInvalidArgument when n < 1 or the buffer's size is not
  /// n x kImageSize; kUnavailable after stop().
  StatusOr<std::future<BatchResult>> submit(std::vector<float> images, std::int64_t n);

  /// Takes the requests that make the next batch (what is queued now, up to max_batch images;
  /// always at least one whole request) and runs them. False when the queue was empty.
  bool run_once();

  /// Images waiting now.
  std::int64_t queued_images() const;

  /// Stops the worker after the batch in progress; requests still queued fail with kUnavailable.
  void stop();

  const BatcherOptions& options() const { return options_; }

 private:
  struct Request {
    std::vector<float> images;
    std::int64_t n = 0;
    std::promise<BatchResult> promise;
  };
  void worker_loop();
  std::vector<Request> take_batch(std::unique_lock<std::mutex>& lock);
  void run_batch(std::vector<Request>& batch);

  BatcherOptions options_;
  const ModelHolder& models_;
  BatchObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_;
  std::int64_t queued_images_ = 0;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace mlflow::serve

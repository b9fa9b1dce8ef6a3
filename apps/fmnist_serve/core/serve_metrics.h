// SPDX-License-Identifier: Apache-2.0
// The server's Prometheus metrics (prometheus-cpp), exposed as text on GET /metrics: requests and
// their latency, batch sizes, queue depth, the model being served, reloads, drift.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "predictor.h"

namespace mlflow::serve {

/// All metric names start with "fmnist_serve_". Thread-safe.
class ServeMetrics {
 public:
  ServeMetrics();

  /// One answered request: its route pattern (e.g. "/invocations"), HTTP status and latency.
  void record_request(const std::string& route, int status, std::chrono::nanoseconds latency);
  /// One forward pass of `images` images.
  void record_batch(std::int64_t images, std::chrono::nanoseconds took);
  /// Images waiting in the batcher's queue.
  void set_queued(std::int64_t images);
  /// The model now served: fmnist_serve_model_info{name,version,alias} 1 and
  /// fmnist_serve_model_version (the version as a number, 0 when not from the registry).
  void set_model(const ModelInfo& info);
  /// A reload attempt: "ok" or "failed".
  void record_reload(bool ok);
  /// fmnist_serve_drift{statistic=...} gauges, replaced wholesale by each drift window.
  void set_drift(const std::map<std::string, double>& values);

  /// The exposition text (Prometheus text format 0.0.4).
  std::string text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Histogram& batch_size_;
  prometheus::Histogram& inference_seconds_;
  prometheus::Gauge& queued_;
  prometheus::Family<prometheus::Gauge>& model_info_;
  prometheus::Gauge& model_version_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Family<prometheus::Gauge>& drift_;
  std::mutex mutex_;  // guards the label sets below, which are replaced wholesale
  prometheus::Gauge* model_info_now_ = nullptr;
};

}  // namespace mlflow::serve

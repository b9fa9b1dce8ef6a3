// SPDX-License-Identifier: Apache-2.0
// Splitting a log-batch into requests within the server's limits (private; also used by the async
// logger).
#pragma once

#include <cstddef>
#include <vector>

#include "mlflow/types.h"

namespace mlflow::detail {

/// MLflow's log-batch limits (mlflow/utils/validation.py).
struct BatchLimits {
  std::size_t max_metrics = 1000;
  std::size_t max_params = 100;
  std::size_t max_tags = 100;
  std::size_t max_items = 1000;
  std::size_t max_bytes = 1'000'000;  ///< whole JSON request body
};

struct LogBatchRequest {
  std::vector<Metric> metrics;
  std::vector<Param> params;
  Tags tags;
  std::size_t items() const { return metrics.size() + params.size() + tags.size(); }
};

/// Greedy, order-preserving split: params first, then tags, then metrics, a new request whenever
/// the next item would break a count or the byte limit. Returns no request when there is nothing to
/// send.
std::vector<LogBatchRequest> split_log_batch(const std::vector<Metric>& metrics,
                                             const std::vector<Param>& params, const Tags& tags,
                                             const BatchLimits& limits = {});

}  // namespace mlflow::detail

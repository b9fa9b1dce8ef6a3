// SPDX-License-Identifier: Apache-2.0
// Order-preserving log-batch splitting within count and size limits.
#include "batch_split.h"

#include "json_codec.h"

namespace mlflow::detail {

namespace {
// Bytes an item adds to the request body: its JSON plus a separating comma.
std::size_t item_bytes(const json& j) { return j.dump().size() + 1; }
// {"run_id":"<up to 256>","metrics":[],"params":[],"tags":[]}
constexpr std::size_t kEnvelopeBytes = 360;
}  // namespace

std::vector<LogBatchRequest> split_log_batch(const std::vector<Metric>& metrics,
                                             const std::vector<Param>& params, const Tags& tags,
                                             const BatchLimits& limits) {
  std::vector<LogBatchRequest> out;
  LogBatchRequest cur;
  std::size_t bytes = kEnvelopeBytes;
  auto room = [&](std::size_t n_of_kind, std::size_t max_of_kind, std::size_t add_bytes) {
    return n_of_kind < max_of_kind && cur.items() < limits.max_items &&
           bytes + add_bytes <= limits.max_bytes;
  };
  auto flush = [&] {
    if (cur.items() > 0) out.push_back(std::move(cur));
    cur = LogBatchRequest{};
    bytes = kEnvelopeBytes;
  };
  for (const auto& p : params) {
    std::size_t b = item_bytes(json{{"key", p.key}, {"value", p.value}});
    if (!room(cur.params.size(), limits.max_params, b)) flush();
    cur.params.push_back(p);
    bytes += b;
  }
  for (const auto& t : tags) {
    std::size_t b = item_bytes(json{{"key", t.key}, {"value", t.value}});
    if (!room(cur.tags.size(), limits.max_tags, b)) flush();
    cur.tags.push_back(t);
    bytes += b;
  }
  for (const auto& m : metrics) {
    std::size_t b = item_bytes(encode_metric(m));
    if (!room(cur.metrics.size(), limits.max_metrics, b)) flush();
    cur.metrics.push_back(m);
    bytes += b;
  }
  flush();
  return out;
}

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// Order-preserving log-batch splitting within count and size limits.
#include "batch_split.h"

namespace mlflow::detail {

namespace {
// Upper bounds of the bytes an item adds to the request body (its JSON plus a separating comma),
// counted rather than serialised: splitting runs on every batch, serialising it twice would cost
// as much as sending it.
std::size_t quoted_bytes(const std::string& s) {
  std::size_t n = 2;
  for (unsigned char c : s) n += c < 0x20 ? 6 : (c == '"' || c == '\\') ? 2 : 1;
  return n;
}
std::size_t kv_bytes(const std::string& key, const std::string& value) {
  return quoted_bytes(key) + quoted_bytes(value) + sizeof(R"({"key":,"value":},)");
}
std::size_t metric_bytes(const Metric& m) {
  // A double needs at most 24 characters, an int64 20.
  std::size_t n =
      quoted_bytes(m.key) + sizeof(R"({"key":,"value":,"timestamp":,"step":},)") + 24 + 20 + 20;
  if (!m.model_id.empty()) n += quoted_bytes(m.model_id) + sizeof(R"(,"model_id":)");
  if (!m.dataset_name.empty()) n += quoted_bytes(m.dataset_name) + sizeof(R"(,"dataset_name":)");
  if (!m.dataset_digest.empty())
    n += quoted_bytes(m.dataset_digest) + sizeof(R"(,"dataset_digest":)");
  return n;
}
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
    std::size_t b = kv_bytes(p.key, p.value);
    if (!room(cur.params.size(), limits.max_params, b)) flush();
    cur.params.push_back(p);
    bytes += b;
  }
  for (const auto& t : tags) {
    std::size_t b = kv_bytes(t.key, t.value);
    if (!room(cur.tags.size(), limits.max_tags, b)) flush();
    cur.tags.push_back(t);
    bytes += b;
  }
  for (const auto& m : metrics) {
    std::size_t b = metric_bytes(m);
    if (!room(cur.metrics.size(), limits.max_metrics, b)) flush();
    cur.metrics.push_back(m);
    bytes += b;
  }
  flush();
  return out;
}

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// Spool records as the spool and sync unit tests write them.
#pragma once

#include <cstdint>
#include <string>

#include "log_record.h"

namespace mlflow::testing {

/// Metric "loss" = `value` of `run` at step `seq`, timestamp 1700000000000 + seq.
inline detail::LogRecord metric(std::uint64_t seq, double value = 0.5,
                                const std::string& run = "run-1") {
  detail::LogRecord r;
  r.kind = detail::LogRecord::Kind::kMetric;
  r.seq = seq;
  r.run = run;
  r.key = "loss";
  r.number = value;
  r.step = static_cast<std::int64_t>(seq);
  r.timestamp = 1700000000000 + static_cast<std::int64_t>(seq);
  return r;
}

/// The start of run `key` named after it, in experiment "1".
inline detail::LogRecord start_run(std::uint64_t seq, const std::string& key) {
  detail::LogRecord r;
  r.kind = detail::LogRecord::Kind::kStartRun;
  r.seq = seq;
  r.run = key;
  r.key = key;
  r.value = "1";
  return r;
}

}  // namespace mlflow::testing

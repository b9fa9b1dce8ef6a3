// SPDX-License-Identifier: Apache-2.0
// One entry of the asynchronous logging stream: what the worker sends and the spool stores
// (private).
#pragma once

#include <cstdint>
#include <string>

#include "mlflow/types.h"

namespace mlflow::detail {

/// A logging call as recorded at the moment it was made. Records of one logger carry increasing
/// `seq`; a retry or a replay re-sends exactly these fields, so the server sees the same rows every
/// time.
struct LogRecord {
  enum class Kind : std::uint8_t { kStartRun, kMetric, kParam, kTag, kEndRun };

  Kind kind = Kind::kMetric;
  std::uint64_t seq = 0;
  /// The run: a server run id, or the key a kStartRun record of the same spool session introduced
  /// (a run started while the server was away; replay maps it to the id the server gives it).
  std::string run;

  std::string key;    ///< metric/param/tag key; kStartRun: the run name
  std::string value;  ///< param/tag value; kStartRun: the experiment id (may be empty, see below);
                      ///< kEndRun: the RunStatus name
  double number = 0;  ///< metric value
  std::int64_t step = 0;      ///< metric step
  TimestampMs timestamp = 0;  ///< metric timestamp; kStartRun: start time; kEndRun: end time
  /// kStartRun only: the parent run (server id or a session run key), empty for a top-level run.
  std::string parent;
  /// kStartRun only: the experiment's name, resolved (created when missing) at delivery when
  /// `value` (the id) is empty; both empty = the Default experiment "0".
  std::string experiment_name;
};

/// The kind as RejectedRecord::kind names it: "metric", "param", "tag", "run".
inline const char* rejected_kind(LogRecord::Kind kind) {
  switch (kind) {
    case LogRecord::Kind::kMetric:
      return "metric";
    case LogRecord::Kind::kParam:
      return "param";
    case LogRecord::Kind::kTag:
      return "tag";
    case LogRecord::Kind::kStartRun:
    case LogRecord::Kind::kEndRun:
      return "run";
  }
  return "record";
}

}  // namespace mlflow::detail

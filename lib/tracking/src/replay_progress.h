// SPDX-License-Identifier: Apache-2.0
// The ReplayProgress that records into a spool session's own progress.jsonl (private).
#pragma once

#include <cstdint>
#include <string>

#include "replay.h"

namespace mlflow::detail {

/// Replay progress kept by `journal` (a SpoolSession being replayed, or the SpoolWriter of a
/// logger's own live session): acknowledgements and run mappings, each durable before it returns.
/// `journal` must outlive the returned value.
template <typename Journal>
ReplayProgress progress_into(Journal& journal) {
  return ReplayProgress{[&journal](std::uint64_t seq) { return journal.mark_acked(seq); },
                        [&journal](const std::string& key, const std::string& run_id) {
                          return journal.mark_run(key, run_id);
                        }};
}

}  // namespace mlflow::detail

// SPDX-License-Identifier: Apache-2.0
// Terminal output of the trainer apps: a per-epoch progress bar and tables; LibTorch-free.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "mlflow/text_table.h"

namespace mlflow::training {

/// How progress is shown.
struct ProgressOptions {
  /// Redraw a live bar with carriage returns (a terminal); else print one plain line per epoch
  /// (logs, pipes).
  bool tty = false;
  /// Print nothing at all.
  bool quiet = false;
  /// Terminal width in columns; the bar line never gets longer than this.
  int width = 80;
};

/// Options for stderr: tty when isatty(fileno(stderr)) and TERM is not "dumb"; width from $COLUMNS
/// when it holds a number of at least 20, else the terminal's width, else 80. Thread-safety: reads
/// the environment, like getenv.
ProgressOptions detect_progress_options(bool quiet);

/// The progress of one epoch. Time is passed in (seconds since the epoch started), so output is
/// deterministic and tests need no clock. Not thread-safe: one thread updates one bar.
class ProgressBar {
 public:
  /// `label` names the epoch, e.g. "epoch 3/15"; `total_items` is the number of samples (≤ 0:
  /// unknown, then no bar, percentage or ETA is shown). `out` must stay open while the bar is used.
  ProgressBar(std::string label, std::int64_t total_items, ProgressOptions options,
              std::FILE* out = stderr);

  /// On a TTY redraws one line (carriage return, erase to end of line): label, bar, percentage,
  /// done/total, items/s ("it/s"), ETA and loss; at most every 0.1 s of elapsed_seconds (the first
  /// call and reaching the total always draw). Not a TTY, or quiet: prints nothing.
  void update(std::int64_t done_items, double loss, double elapsed_seconds);

  /// Prints "label: summary (12.3 s)" and a newline: on a TTY over the bar line, otherwise as one
  /// plain line; nothing when quiet. Call once, at the end of the epoch.
  void finish(const std::string& summary, double elapsed_seconds);

  /// The bar line update() would draw, without carriage return or escapes (for tests and custom
  /// output).
  std::string render(std::int64_t done_items, double loss, double elapsed_seconds) const;

 private:
  std::string label_;
  std::int64_t total_;
  ProgressOptions options_;
  std::FILE* out_;
  bool drawn_ = false;
  double last_draw_ = 0;
};

}  // namespace mlflow::training

// SPDX-License-Identifier: Apache-2.0
// A per-epoch progress bar (live on a terminal, a plain line elsewhere) and fixed-width tables.
#include "mlflow/training/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace mlflow::training {
namespace {

// Redraws closer together than this only cost terminal bandwidth.
constexpr double kRedrawInterval = 0.1;

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// "0:07", "12:34" or "1:02:03".
std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = std::llround(seconds);
  char buf[64];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

ProgressOptions detect_progress_options(bool quiet) {
  ProgressOptions o;
  o.quiet = quiet;
  const char* term = std::getenv("TERM");
  o.tty = isatty(fileno(stderr)) == 1 && !(term != nullptr && std::strcmp(term, "dumb") == 0);
  int width = 0;
  if (const char* cols = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long v = std::strtol(cols, &end, 10);
    if (end != cols && *end == '\0' && v >= 20 && v <= 10000) width = static_cast<int>(v);
  }
  if (width == 0 && o.tty) {
    winsize ws{};
    if (ioctl(fileno(stderr), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) width = ws.ws_col;
  }
  o.width = width > 0 ? width : 80;
  return o;
}

ProgressBar::ProgressBar(std::string label, std::int64_t total_items, ProgressOptions options,
                         std::FILE* out)
    : label_(std::move(label)), total_(total_items), options_(options), out_(out) {}

std::string ProgressBar::render(std::int64_t done_items, double loss,
                                double elapsed_seconds) const {
  const double rate = elapsed_seconds > 0 ? static_cast<double>(done_items) / elapsed_seconds : 0;
  std::string counts = std::to_string(done_items);
  std::string tail;
  double fraction = -1;
  if (total_ > 0) {
    fraction = std::clamp(static_cast<double>(done_items) / static_cast<double>(total_), 0.0, 1.0);
    counts += "/" + std::to_string(total_);
  }
  tail += " " + counts;
  if (rate > 0) tail += " " + format("%.0f", rate) + " it/s";
  if (total_ > 0 && rate > 0) {
    const double left = static_cast<double>(std::max<std::int64_t>(total_ - done_items, 0)) / rate;
    tail += " ETA " + format_duration(left);
  }
  if (std::isfinite(loss)) {
    tail += " loss " + format("%.4f", loss);
  } else {
    tail += " loss " + std::string(std::isnan(loss) ? "nan" : "inf");
  }

  if (fraction < 0) return label_ + tail;
  const std::string percent = format("%3.0f%%", 100 * fraction);
  // label [=====>    ] 42% tail; the bar takes the room left over, and is dropped below 10 cells.
  const int fixed = static_cast<int>(label_.size() + 4 + percent.size() + tail.size());
  const int cells = std::min(options_.width - 1 - fixed, 40);
  std::string line = label_;
  if (cells >= 10) {
    const int filled = static_cast<int>(fraction * cells);
    std::string bar(static_cast<std::size_t>(cells), ' ');
    std::fill(bar.begin(), bar.begin() + filled, '=');
    if (filled < cells && filled > 0) bar[static_cast<std::size_t>(filled)] = '>';
    line += " [" + bar + "]";
  }
  line += " " + percent + tail;
  return line;
}

void ProgressBar::update(std::int64_t done_items, double loss, double elapsed_seconds) {
  if (options_.quiet || !options_.tty) return;
  const bool at_end = total_ > 0 && done_items >= total_;
  if (drawn_ && !at_end && elapsed_seconds - last_draw_ < kRedrawInterval) return;
  drawn_ = true;
  last_draw_ = elapsed_seconds;
  const std::string line = render(done_items, loss, elapsed_seconds);
  std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  std::fflush(out_);
}

void ProgressBar::finish(const std::string& summary, double elapsed_seconds) {
  if (options_.quiet) return;
  const std::string line = label_ + ": " + summary + " (" + format("%.1f", elapsed_seconds) + " s)";
  if (options_.tty) {
    std::fprintf(out_, "\r%s\x1b[K\n", line.c_str());
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace mlflow::training

// SPDX-License-Identifier: Apache-2.0
// Progress bar output on a TTY, in plain logs and when quiet (time passed in), and tables.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "mlflow/training/progress.h"

namespace mlflow::training {
namespace {

// A tmpfile() the bar writes to; contents() reads back everything written so far.
class Capture {
 public:
  Capture() : f_(std::tmpfile(), &std::fclose) { REQUIRE(f_ != nullptr); }
  std::FILE* file() { return f_.get(); }
  std::string contents() {
    std::fflush(f_.get());
    const long end = std::ftell(f_.get());
    std::string out(static_cast<std::size_t>(end), '\0');
    std::rewind(f_.get());
    const std::size_t n = std::fread(out.data(), 1, out.size(), f_.get());
    out.resize(n);
    std::fseek(f_.get(), 0, SEEK_END);
    return out;
  }

 private:
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f_;
};

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
  return n;
}

ProgressOptions tty(int width = 100) { return ProgressOptions{true, false, width}; }

TEST_CASE("progress bar on a TTY: redraws one line with bar, percent, rate, ETA and loss") {
  Capture cap;
  ProgressBar bar("epoch 3/15", 1000, tty(), cap.file());
  bar.update(250, 0.5, 2.0);
  const std::string out = cap.contents();
  CHECK(out.rfind("\repoch 3/15 [", 0) == 0);
  CHECK(out.find("]  25% 250/1000 125 it/s ETA 0:06 loss 0.5000\x1b[K") != std::string::npos);
  CHECK(out.find('\n') == std::string::npos);
  CHECK(out.size() - 4 <= 100);  // '\r' and the erase-line escape do not take columns

  bar.finish("loss 0.4000 acc 0.9000", 8.04);
  const std::string done = cap.contents();
  CHECK(done.substr(out.size()) == "\repoch 3/15: loss 0.4000 acc 0.9000 (8.0 s)\x1b[K\n");
}

TEST_CASE("progress bar on a TTY: redraws at most every 0.1 s, always the first and last time") {
  Capture cap;
  ProgressBar bar("epoch 1/2", 100, tty(), cap.file());
  bar.update(1, 1.0, 0.00);    // first: drawn
  bar.update(2, 1.0, 0.05);    // too soon
  bar.update(3, 1.0, 0.09);    // too soon
  bar.update(4, 1.0, 0.11);    // drawn
  bar.update(5, 1.0, 0.15);    // too soon
  bar.update(100, 1.0, 0.16);  // the end: drawn
  const std::string out = cap.contents();
  CHECK(count(out, "\r") == 3);
  CHECK(out.find(" 1/100") != std::string::npos);
  CHECK(out.find(" 2/100") == std::string::npos);
  CHECK(out.find(" 4/100") != std::string::npos);
  CHECK(out.find(" 5/100") == std::string::npos);
  CHECK(out.find("100% 100/100") != std::string::npos);
}

TEST_CASE("progress bar: the bar fills with the fraction done and fits the terminal width") {
  ProgressBar wide("e", 100, tty(200), nullptr);
  const std::string half = wide.render(50, 0.25, 1.0);
  CHECK(half.find("[====================>                   ]") != std::string::npos);
  CHECK(wide.render(100, 0.25, 1.0).find("[========================================]") !=
        std::string::npos);

  ProgressBar narrow("epoch 10/10", 60000, tty(40), nullptr);
  const std::string line = narrow.render(30000, 0.25, 10.0);
  CHECK(line.find('[') == std::string::npos);  // no room for a bar: left out
  CHECK(line.find(" 50% 30000/60000") != std::string::npos);

  ProgressBar unknown("epoch 1", 0, tty(), nullptr);
  CHECK(unknown.render(42, 0.1, 0.0) == "epoch 1 42 loss 0.1000");
}

TEST_CASE("progress bar not on a TTY: no redraws, one plain line per epoch") {
  Capture cap;
  ProgressBar bar("epoch 2/5", 1000, ProgressOptions{false, false, 80}, cap.file());
  bar.update(100, 0.9, 0.2);
  bar.update(1000, 0.8, 5.0);
  CHECK(cap.contents().empty());
  bar.finish("train_loss 0.8000 val_acc 0.7000", 12.34);
  CHECK(cap.contents() == "epoch 2/5: train_loss 0.8000 val_acc 0.7000 (12.3 s)\n");
}

TEST_CASE("progress bar when quiet: prints nothing, even on a TTY") {
  Capture cap;
  ProgressBar bar("epoch 1/1", 10, ProgressOptions{true, true, 80}, cap.file());
  bar.update(5, 1.0, 0.0);
  bar.update(10, 1.0, 1.0);
  bar.finish("done", 1.0);
  CHECK(cap.contents().empty());
}

TEST_CASE("detect_progress_options: COLUMNS sets the width, quiet is passed through") {
  const char* old = std::getenv("COLUMNS");
  const std::string saved = old != nullptr ? old : "";
  setenv("COLUMNS", "132", 1);
  const ProgressOptions o = detect_progress_options(true);
  CHECK(o.width == 132);
  CHECK(o.quiet);
  setenv("COLUMNS", "not-a-number", 1);
  const ProgressOptions p = detect_progress_options(false);
  CHECK_FALSE(p.quiet);
  CHECK(p.width >= 20);
  CHECK(p.width != 132);
  if (old != nullptr) {
    setenv("COLUMNS", saved.c_str(), 1);
  } else {
    unsetenv("COLUMNS");
  }
}

TEST_CASE("format_table: header, dashes, padded columns, numbers right-aligned") {
  const std::string t = format_table({"epoch", "train_loss", "phase"},
                                     {{"1", "0.6123", "warmup"}, {"10", "0.25", "main"}, {"11"}});
  CHECK(t ==
        "epoch  train_loss  phase\n"
        "-----  ----------  ------\n"
        "    1      0.6123  warmup\n"
        "   10        0.25  main\n"
        "   11\n");
}

TEST_CASE("format_table: UTF-8 cells are as wide as their code points (mlflowctl's names)") {
  CHECK(display_width("caf\xC3\xA9") == 4);
  const std::string t = format_table({"NAME", "ID"}, {{"caf\xC3\xA9", "7"}, {"tea", "12"}});
  CHECK(t ==
        "NAME  ID\n"
        "----  --\n"
        "caf\xC3\xA9   7\n"
        "tea   12\n");
}

TEST_CASE("format_table: a cell wider than its header widens the column") {
  const std::string t = format_table({"k", "v"}, {{"learning_rate", "0.001"}});
  CHECK(t ==
        "k                  v\n"
        "-------------  -----\n"
        "learning_rate  0.001\n");
}

}  // namespace
}  // namespace mlflow::training

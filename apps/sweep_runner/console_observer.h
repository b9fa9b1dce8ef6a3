// SPDX-License-Identifier: Apache-2.0
// sweep_runner's terminal output: the plan, one line per trial event, live status lines on a TTY,
// and the final table.
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "mlflow/sweep/runner.h"

class ConsoleObserver : public mlflow::sweep::SweepObserver {
 public:
  ConsoleObserver(std::FILE* out, bool tty, bool dry_run)
      : out_(out), tty_(tty), dry_run_(dry_run) {}
  void message(const std::string& text) override;
  void planned(const mlflow::sweep::SweepReport& report,
               const std::vector<mlflow::sweep::TrialState>& states, int to_run) override;
  void trial_started(const mlflow::sweep::SweepSpec& spec, const mlflow::sweep::TrialResult& trial,
                     int threads) override;
  void trial_finished(const mlflow::sweep::SweepSpec& spec,
                      const mlflow::sweep::TrialResult& trial) override;
  void tick(const mlflow::sweep::SweepSpec& spec,
            const std::vector<mlflow::sweep::RunningTrial>& running) override;
  void finished(const mlflow::sweep::SweepReport& report) override;

  /// Adds a column to the final table: the value of metric `name` of each trial's run, when
  /// `lookup` has it (no column when no trial's run has it).
  void show_run_metric(std::string name,
                       std::function<std::optional<double>(const std::string& run_id)> lookup) {
    extra_name_ = std::move(name);
    extra_lookup_ = std::move(lookup);
  }

 private:
  void clear_status();
  std::FILE* out_;
  bool tty_;
  bool dry_run_;
  int status_lines_ = 0;  // live lines currently drawn at the bottom (TTY only)
  int started_ = 0;
  int to_run_ = 0;
  std::string extra_name_;
  std::function<std::optional<double>(const std::string&)> extra_lookup_;
};

// SPDX-License-Identifier: Apache-2.0
#include "console_observer.h"

#include <cmath>

#include <fmt/format.h>

#include "mlflow/text_table.h"

namespace sw = mlflow::sweep;

namespace {

std::string duration(double seconds) {
  const long s = std::lround(seconds);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string metric_text(const std::optional<double>& v) {
  return v ? fmt::format("{:.4f}", *v) : "-";
}

}  // namespace

void ConsoleObserver::clear_status() {
  if (!tty_ || status_lines_ == 0) return;
  fmt::print(out_, "\033[{}A\033[J", status_lines_);  // up over the live lines, clear to the end
  status_lines_ = 0;
}

void ConsoleObserver::message(const std::string& text) {
  clear_status();
  fmt::print(out_, "{}\n", text);
  std::fflush(out_);
}

void ConsoleObserver::planned(const sw::SweepReport& report,
                              const std::vector<sw::TrialState>& states, int to_run) {
  clear_status();
  const sw::SweepSpec& spec = *report.spec;
  to_run_ = to_run;
  started_ = 0;
  fmt::print(out_, "\nsweep {} ({}): {} trial{}, {} {}, program {}\n", spec.name, spec.file,
             report.trials.size(), report.trials.size() == 1 ? "" : "s",
             spec.metric.maximize ? "maximize" : "minimize", spec.metric.name,
             spec.program.label());
  if (!report.parent_run_id.empty())
    fmt::print(out_, "parent run {}  {}\n", report.parent_run_id, report.ui_link);
  for (std::size_t i = 0; i < report.trials.size(); ++i) {
    const auto& r = report.trials[i];
    const sw::TrialState state = states[i];
    std::string what;
    switch (state) {
      case sw::TrialState::kFinished:
        what = "finished: skipped";
        break;
      case sw::TrialState::kRunning:
        what = "running elsewhere: left alone";
        break;
      case sw::TrialState::kPending:
        what = dry_run_ ? "would run" : "to run";
        break;
      case sw::TrialState::kFailed:
      case sw::TrialState::kRunningStale:
        what = dry_run_ ? "would run again (last attempt failed)" : "runs again";
        break;
    }
    fmt::print(out_, "  trial {:>2}  {}  -> {}\n", r.trial.index, r.trial.label(spec), what);
  }
  if (dry_run_)
    fmt::print(out_, "dry run: {} trial(s) would run on this worker; nothing was started\n",
               to_run);
  std::fflush(out_);
}

void ConsoleObserver::trial_started(const sw::SweepSpec& spec, const sw::TrialResult& trial,
                                    int threads) {
  clear_status();
  ++started_;
  fmt::print(out_, "[{}/{}] trial {} {} started: run {} ({} thread{})\n", started_, to_run_,
             trial.trial.index, trial.trial.label(spec), trial.run_id, threads,
             threads == 1 ? "" : "s");
  std::fflush(out_);
}

void ConsoleObserver::trial_finished(const sw::SweepSpec& spec, const sw::TrialResult& trial) {
  clear_status();
  fmt::print(out_, "       trial {} {} {} in {}: {} {}{}\n", trial.trial.index,
             trial.trial.label(spec), trial.status ? mlflow::to_string(*trial.status) : "?",
             duration(trial.seconds), spec.metric.name, metric_text(trial.metric),
             trial.note.empty() ? "" : "  (" + trial.note + ")");
  std::fflush(out_);
}

void ConsoleObserver::tick(const sw::SweepSpec& spec,
                           const std::vector<sw::RunningTrial>& running) {
  if (!tty_) return;  // logs get the start and end lines only
  clear_status();
  for (const auto& r : running) {
    std::string line = fmt::format("  > trial {} {} {}  {}", r.trial->index, r.trial->label(spec),
                                   duration(r.seconds), r.last_line);
    if (line.size() > 118) line = line.substr(0, 115) + "...";
    fmt::print(out_, "{}\n", line);
  }
  status_lines_ = static_cast<int>(running.size());
  std::fflush(out_);
}

void ConsoleObserver::finished(const sw::SweepReport& report) {
  clear_status();
  const sw::SweepSpec& spec = *report.spec;
  // Columns for what differs between trials (swept or chained parameters); fixed values are in the
  // spec.
  std::vector<std::size_t> shown;
  for (std::size_t i = 0; i < spec.parameters.size(); ++i) {
    if (spec.parameters[i].kind != sw::ParameterKind::kValue) shown.push_back(i);
  }
  if (shown.empty()) {
    for (std::size_t i = 0; i < spec.parameters.size(); ++i) shown.push_back(i);
  }
  std::vector<std::string> header = {"trial"};
  for (std::size_t i : shown) header.push_back(spec.parameters[i].name);
  header.push_back(spec.metric.name);
  // The extra column (fmnist_train's test_accuracy) only when some trial's run has that metric: a
  // user's program that does not log it gets no column of dashes.
  std::vector<std::string> extra_values;
  bool extra = false;
  if (extra_lookup_ && extra_name_ != spec.metric.name) {
    for (const auto& r : report.trials) {
      const auto value = extra_lookup_(r.run_id);
      extra = extra || value.has_value();
      extra_values.push_back(metric_text(value));
    }
  }
  if (extra) header.push_back(extra_name_);
  header.insert(header.end(), {"status", "duration", "run"});
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < report.trials.size(); ++i) {
    const auto& r = report.trials[i];
    std::vector<std::string> row = {std::to_string(r.trial.index) + (report.best == i ? "*" : "")};
    for (std::size_t p : shown) row.push_back(r.trial.params[p].second);
    row.push_back(metric_text(r.metric));
    if (extra) row.push_back(extra_values[i]);
    row.insert(row.end(), {r.status ? mlflow::to_string(*r.status) : "NOT RUN",
                           r.status ? duration(r.seconds) : "", r.run_id});
    rows.push_back(std::move(row));
  }
  fmt::print(out_, "\nsweep {}{}\n{}", spec.name, report.interrupted ? " (interrupted)" : "",
             mlflow::format_table(header, rows));
  if (report.best) {
    const auto& b = report.trials[*report.best];
    fmt::print(out_, "best: trial {} ({}) {} = {:.6g}, run {}\n", b.trial.index,
               b.trial.label(spec), spec.metric.name, *b.metric, b.run_id);
  }
  if (report.registration) {
    const auto& reg = *report.registration;
    fmt::print(out_, "registry: {} version {}{}; @{} {} ({})\n", reg.model_name, reg.version,
               reg.existing ? " (registered before)" : "", reg.alias,
               reg.alias_moved ? "now points to it" : "unchanged", reg.reason);
  }
  if (report.failed() > 0) {
    fmt::print(out_,
               "{} trial(s) failed or were killed: run the same command again to retry them\n",
               report.failed());
  }
  if (!report.ui_link.empty()) fmt::print(out_, "sweep run: {}\n", report.ui_link);
  std::fflush(out_);
}

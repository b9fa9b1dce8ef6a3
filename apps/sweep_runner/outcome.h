// SPDX-License-Identifier: Apache-2.0
// What sweep_runner prints last: the champion and its test accuracy, and how to look at the runs.
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "mlflow/client.h"
#include "mlflow/sweep/runner.h"

/// The run's latest value of `key`, when it logged one (a failed look-up counts as none).
std::optional<double> run_metric(mlflow::MlflowClient& client, const std::string& run_id,
                                 const std::string& key);

/// After a sweep that registers: which version holds the alias now and its test accuracy, then the
/// MLflow UI: the command for a local-mode store (run in the working directory), or the server's
/// link.
void print_outcome(std::FILE* out, mlflow::MlflowClient& client,
                   const mlflow::sweep::SweepReport& report);

/// Lists the failed and killed trials `mine` selects: trial, status, why (exit code or signal, or
/// the error the run was tagged with) and, for those run by this invocation, the end of their
/// output and where it is. Returns how many there were.
int print_failures(std::FILE* out, const mlflow::sweep::SweepReport& report,
                   const std::function<bool(const mlflow::sweep::Trial&)>& mine);

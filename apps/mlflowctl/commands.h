// SPDX-License-Identifier: Apache-2.0
// The command groups of mlflowctl; each registers its subcommands on the root app.
#pragma once

#include "context.h"

namespace CLI {
class App;
}

namespace mlflowctl {

void add_experiments_commands(CLI::App& app, Context& ctx);
void add_runs_commands(CLI::App& app, Context& ctx);
void add_artifacts_commands(CLI::App& app, Context& ctx);
void add_models_commands(CLI::App& app, Context& ctx);
void add_sync_command(CLI::App& app, Context& ctx);

/// Largest page requested from paged search endpoints.
inline constexpr int kSearchPageSize = 1000;
/// Upper bound of --max: keeps a typo from pulling a whole server into memory.
inline constexpr int kMaxResults = 1'000'000;

}  // namespace mlflowctl

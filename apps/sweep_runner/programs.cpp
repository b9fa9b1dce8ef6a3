// SPDX-License-Identifier: Apache-2.0
// The programs sweep specs may name, and where fmnist_train is: found at run time (beside
// sweep_runner when installed, in the build tree's apps/fmnist_train/ otherwise), so no build path
// is compiled in.
#include "programs.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;
namespace sw = mlflow::sweep;

bool executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::string find_fmnist_train(const char* argv0) {
  if (const char* env = std::getenv("MLFLOW_CPP_FMNIST_TRAIN"); env && *env) return env;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const fs::path dir = ec ? fs::path(argv0).parent_path() : self.parent_path();
  for (const fs::path& p : {dir / "fmnist_train", dir / ".." / "fmnist_train" / "fmnist_train"}) {
    if (executable(p)) return fs::weakly_canonical(p, ec).string();
  }
  return {};
}

}  // namespace

sw::ProgramTable sweep_programs(const char* argv0) {
  sw::ProgramDef train;
  train.name = "fmnist_train";
  train.executable = find_fmnist_train(argv0);
  train.unavailable =
      "fmnist_train was not found next to sweep_runner; set MLFLOW_CPP_FMNIST_TRAIN to its path";
  train.threads_param =
      "threads";  // results depend on the thread count, so a trial's is pinned and logged
  train.experiment_param = "experiment";
  train.logs_params = true;  // every effective setting, defaults included

  sw::ProgramDef pretrain = train;
  pretrain.name = "fmnist_pretrain";
  pretrain.args = {"--no-register"};
  pretrain.defaults = {{"task", "rotation"}};

  sw::ProgramTable table;
  table.add(train);
  table.add(pretrain);
  table.set_default(train.name);
  return table;
}

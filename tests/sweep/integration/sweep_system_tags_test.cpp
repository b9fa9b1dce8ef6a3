// SPDX-License-Identifier: Apache-2.0
// sweep_runner started in a git checkout without LOGNAME/USER/LNAME/USERNAME: its parent and trial
// runs carry the checkout's commit and the password database's user, as the Python client's would;
// its experiment is tagged as model training and its links open the UI's model-training view.
#include <doctest/doctest.h>
#include <pwd.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "mlflow/sweep/sweep_state.h"
#include "support/process.h"
#include "support/test_support.h"

using mlflow::sweep::tag_value;
using mlflow::testing::run_process;
using mlflow::testing::server_url;
using mlflow::testing::shell_quote;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;

namespace {
// `script` run by /bin/sh in `dir`, with the user variables removed from the environment.
mlflow::testing::ProcessResult sh_in(const std::string& dir, const std::string& script) {
  return run_process("/bin/sh", {"-c", "cd " + shell_quote(dir) +
                                           " && unset LOGNAME USER LNAME USERNAME && " + script});
}
}  // namespace

TEST_CASE(
    "sweep_runner: runs created in a git checkout carry its commit and the user without $USER") {
  TempDir repo;
  const std::string experiment = unique_name("sweep-systags");
  write_file(repo.path() + "/tags.yaml",
             "name: tags\nexperiment: " + experiment + "\nprogram: " + FAKE_TRAINER_PATH +
                 "\nmetric: {name: score, goal: maximize}\nparameters:\n"
                 "  score: {values: [0.1, 0.2]}\n");
  auto git =
      sh_in(repo.path(),
            "git init -q . && git add tags.yaml && git -c user.name=t -c user.email=t@example.com "
            "commit -q -m spec && git rev-parse HEAD");
  REQUIRE_MESSAGE(git.exit_code == 0, git.err);
  const std::string commit = git.out.substr(0, git.out.find('\n'));
  REQUIRE(commit.size() == 40);

  auto sweep = sh_in(repo.path(), "MLFLOW_TRACKING_URI=" + shell_quote(server_url()) + " " +
                                      shell_quote(SWEEP_RUNNER_PATH) + " tags.yaml");
  CAPTURE(sweep.out);
  CAPTURE(sweep.err);
  REQUIRE(sweep.exit_code == 0);

  const passwd* pw = ::getpwuid(::getuid());
  REQUIRE(pw != nullptr);
  auto client = test_client();
  auto exp = client.get_experiment_by_name(experiment);
  REQUIRE(exp.ok());
  CHECK(mlflow::find_value(exp->tags, "mlflow.experimentKind") == "custom_model_development");

  auto runs = client.search_runs({exp->experiment_id});
  REQUIRE(runs.ok());
  REQUIRE(runs->items.size() == 3);  // the parent and two trials
  std::string parent_id;
  for (const auto& run : runs->items) {
    CAPTURE(run.info.run_name);
    CHECK(tag_value(run, "mlflow.source.git.commit") == commit);
    CHECK(tag_value(run, "mlflow.user") == pw->pw_name);
    CHECK(tag_value(run, "mlflow.source.name") == "sweep_runner");
    if (tag_value(run, "mlflow.parentRunId").empty()) parent_id = run.info.run_id;
  }
  REQUIRE_FALSE(parent_id.empty());
  // The parent's link, as printed, opens the runs view rather than the GenAI overview.
  CHECK(sweep.out.find(server_url() + "/#/experiments/" + exp->experiment_id + "/runs/" +
                       parent_id + "?workflowType=machine_learning") != std::string::npos);
}

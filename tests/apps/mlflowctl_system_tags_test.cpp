// SPDX-License-Identifier: Apache-2.0
// `mlflowctl runs create` starts runs with the same system tags as the library and sweep_runner:
// run in a git checkout without LOGNAME/USER/LNAME/USERNAME, its run carries the checkout's commit
// and the password database's user, and the experiment it creates is tagged as model training.
#include <doctest/doctest.h>
#include <pwd.h>
#include <unistd.h>

#include <string>

#include "support/process.h"
#include "support/test_support.h"

using mlflow::testing::run_process;
using mlflow::testing::server_url;
using mlflow::testing::shell_quote;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;

TEST_CASE("mlflowctl: runs create in a git checkout without $USER tags the commit and the user") {
  TempDir repo;
  write_file(repo.path() + "/train.sh", "true\n");
  const std::string in_repo =
      "cd " + shell_quote(repo.path()) + " && unset LOGNAME USER LNAME USERNAME && ";
  auto git =
      run_process("/bin/sh", {"-c", in_repo + "git init -q . && git add train.sh && git -c "
                                              "user.name=t -c user.email=t@example.com commit -q "
                                              "-m init && git rev-parse HEAD"});
  REQUIRE_MESSAGE(git.exit_code == 0, git.err);
  const std::string commit = git.out.substr(0, git.out.find('\n'));

  const std::string experiment = unique_name("ctl-systags");
  auto created = run_process(
      "/bin/sh", {"-c", in_repo + "MLFLOW_TRACKING_URI=" + shell_quote(server_url()) + " " +
                            shell_quote(MLFLOWCTL_PATH) + " runs create --experiment " +
                            shell_quote(experiment) + " --tag mlflow.source.name=mine"});
  INFO("stderr: " << created.err);
  REQUIRE(created.exit_code == 0);
  const std::string run_id = created.out.substr(0, created.out.find('\n'));

  const passwd* pw = ::getpwuid(::getuid());
  REQUIRE(pw != nullptr);
  auto client = test_client();
  auto run = client.get_run(run_id);
  REQUIRE(run.ok());
  CHECK(mlflow::find_value(run->data.tags, "mlflow.source.git.commit") == commit);
  CHECK(mlflow::find_value(run->data.tags, "mlflow.user") == pw->pw_name);
  CHECK(mlflow::find_value(run->data.tags, "mlflow.source.type") == "LOCAL");
  CHECK(mlflow::find_value(run->data.tags, "mlflow.source.name") == "mine");  // --tag wins
  auto exp = client.get_experiment_by_name(experiment);
  REQUIRE(exp.ok());
  CHECK(mlflow::find_value(exp->tags, "mlflow.experimentKind") == "custom_model_development");
}

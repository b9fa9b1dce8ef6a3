// SPDX-License-Identifier: Apache-2.0
// The system tags every run starts with: the user as Python's getpass.getuser() finds it, and the
// git commit read from .git.
#include "mlflow/system_tags.h"

#include <doctest/doctest.h>
#include <pwd.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>

#include "support/test_support.h"

using mlflow::current_user;
using mlflow::git_commit;
using mlflow::testing::TempDir;
using mlflow::testing::write_file;

namespace {

mlflow::ClientOptions::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const std::string kSha1 = "0123456789abcdef0123456789abcdef01234567";
const std::string kSha2 = "89abcdef0123456789abcdef0123456789abcdef";

}  // namespace

TEST_CASE(
    "system tags: the user is LOGNAME, USER, LNAME, USERNAME, in that order, skipping empty ones") {
  CHECK(current_user(env_of({{"LOGNAME", "ada"}, {"USER", "bob"}, {"USERNAME", "cy"}})) == "ada");
  CHECK(current_user(env_of({{"LOGNAME", ""}, {"USER", "bob"}, {"LNAME", "dee"}})) == "bob");
  CHECK(current_user(env_of({{"LNAME", "dee"}, {"USERNAME", "cy"}})) == "dee");
  CHECK(current_user(env_of({{"USERNAME", "cy"}})) == "cy");
}

TEST_CASE("system tags: with none of the variables set, the user is the password database's name") {
  const passwd* pw = ::getpwuid(::getuid());
  REQUIRE(pw != nullptr);  // the test runs as a user the system knows
  CHECK(current_user(env_of({{"HOME", "/nowhere"}})) == pw->pw_name);
  CHECK(current_user(env_of({{"USER", ""}})) == pw->pw_name);
}

TEST_CASE("system tags: git commit from a branch ref, walking up from a subdirectory") {
  TempDir repo;
  write_file(repo.path() + "/.git/HEAD", "ref: refs/heads/main\n");
  write_file(repo.path() + "/.git/refs/heads/main", kSha1 + "\n");
  write_file(repo.path() + "/src/deep/file.txt", "x");
  CHECK(git_commit(repo.path()) == kSha1);
  CHECK(git_commit(repo.path() + "/src/deep") == kSha1);
}

TEST_CASE("system tags: git commit from packed-refs, a detached HEAD and a worktree's .git file") {
  TempDir repo;
  SUBCASE("packed refs") {
    write_file(repo.path() + "/.git/HEAD", "ref: refs/heads/dev\n");
    write_file(repo.path() + "/.git/packed-refs", "# pack-refs with: peeled fully-peeled sorted\n" +
                                                      kSha2 + " refs/heads/main\n" + kSha1 +
                                                      " refs/heads/dev\n");
    CHECK(git_commit(repo.path()) == kSha1);
  }
  SUBCASE("detached HEAD") {
    write_file(repo.path() + "/.git/HEAD", kSha2 + "\n");
    CHECK(git_commit(repo.path()) == kSha2);
  }
  SUBCASE("worktree: .git names the git dir, whose commondir holds the refs") {
    write_file(repo.path() + "/main/.git/refs/heads/feature", kSha2 + "\n");
    write_file(repo.path() + "/main/.git/worktrees/wt/HEAD", "ref: refs/heads/feature\n");
    write_file(repo.path() + "/main/.git/worktrees/wt/commondir", "../..\n");
    write_file(repo.path() + "/wt/.git", "gitdir: " + repo.path() + "/main/.git/worktrees/wt\n");
    CHECK(git_commit(repo.path() + "/wt") == kSha2);
  }
}

TEST_CASE("system tags: no readable commit, none; a source inside a checkout carries its commit") {
  TempDir broken;
  write_file(broken.path() + "/a/.git", "not a gitdir line\n");  // the nearest .git decides
  write_file(broken.path() + "/b/.git/HEAD", "ref: refs/heads/gone\n");
  CHECK(git_commit(broken.path() + "/a") == "");
  CHECK(git_commit(broken.path() + "/b") == "");
  TempDir repo;
  write_file(repo.path() + "/.git/HEAD", kSha1 + "\n");
  write_file(repo.path() + "/train.py", "");
  const mlflow::Tags tags = mlflow::system_tags(repo.path() + "/train.py");
  CHECK(mlflow::find_value(tags, "mlflow.source.git.commit") == kSha1);
  CHECK(mlflow::find_value(tags, "mlflow.source.name") == repo.path() + "/train.py");
  CHECK(mlflow::find_value(tags, "mlflow.source.type") == "LOCAL");
  CHECK(mlflow::find_value(tags, "mlflow.user") == current_user());
}

TEST_CASE("system tags: extra tags follow, replacing a system tag of the same key in place") {
  const mlflow::Tags tags =
      mlflow::system_tags("tool", {{"team", "vision"}, {"mlflow.user", "ci-bot"}, {"team", "nlp"}});
  int users = 0;
  for (const auto& t : tags) users += t.key == "mlflow.user" ? 1 : 0;
  CHECK(users == 1);  // MLflow refuses to create a run that names a tag twice
  CHECK(tags.front().key == "mlflow.user");
  CHECK(tags.front().value == "ci-bot");
  CHECK(tags.back().key == "team");
  CHECK(tags.back().value == "nlp");
  CHECK(mlflow::find_value(tags, "mlflow.source.name") == "tool");
}

TEST_CASE("system tags: the host name is gethostname's (one helper for the spool and the sweeps)") {
  char buf[256] = {};
  REQUIRE(::gethostname(buf, sizeof buf - 1) == 0);
  CHECK(mlflow::host_name() == std::string(buf));
  CHECK_FALSE(mlflow::host_name().empty());
}

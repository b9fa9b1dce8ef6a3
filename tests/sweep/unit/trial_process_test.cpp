// SPDX-License-Identifier: Apache-2.0
// Trial processes: spawning with an environment and a log file, exit codes and signals, and the
// last line of a log for status output. No sleeping: poll() is retried with yields.
#include <doctest/doctest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>

#include <cerrno>
#include <string>
#include <thread>

#include "mlflow/sweep/trial_process.h"
#include "support/test_support.h"

using mlflow::sweep::last_line;
using mlflow::sweep::TrialProcess;

namespace {

// Polls until the process ends; false if it did not within a very large number of tries.
bool wait_done(TrialProcess& p) {
  for (long i = 0; i < 200'000'000L; ++i) {
    if (p.poll()) return true;
    std::this_thread::yield();
  }
  return false;
}

std::string log_in(const mlflow::testing::TempDir& dir) { return dir.path() + "/trial.log"; }

}  // namespace

TEST_CASE("trial process: last_line of a log with progress updates") {
  mlflow::testing::TempDir dir;
  const std::string log = dir.path() + "/log.txt";
  mlflow::testing::write_file(
      log, "starting\nepoch 1 step 1/10\repoch 1 step 5/10\repoch 1 step 10/10\n\n\n");
  CHECK(last_line(log) == "epoch 1 step 10/10");
  mlflow::testing::write_file(log, "a\nb\rc  \r\n \n");
  CHECK(last_line(log) == "c");
  mlflow::testing::write_file(log, "no newline at all");
  CHECK(last_line(log) == "no newline at all");
  mlflow::testing::write_file(log, "first\n" + std::string(300, 'x') + "\n");
  const std::string cut = last_line(log, 20);
  CHECK(cut == std::string(17, 'x') + "...");
  // Only the tail of a long file is read.
  mlflow::testing::write_file(log, std::string(100'000, 'y') + "\nthe end\n");
  CHECK(last_line(log) == "the end");
  mlflow::testing::write_file(log, "");
  CHECK(last_line(log).empty());
  CHECK(last_line(dir.path() + "/missing.txt").empty());
}

TEST_CASE("trial process: environment, log file and exit code") {
  mlflow::testing::TempDir dir;
  // FOO is replaced, not added twice; the rest of our environment is inherited.
  REQUIRE(::setenv("FOO", "from-parent", 1) == 0);
  REQUIRE(::setenv("MLFLOW_CPP_H11_INHERITED", "inherited", 1) == 0);
  auto p = TrialProcess::spawn({"/bin/sh", "-c",
                                "echo $FOO; env | grep -c '^FOO='; echo $MLFLOW_CPP_H11_INHERITED; "
                                "echo to-stderr >&2; exit 3"},
                               {{"FOO", "bar"}}, log_in(dir));
  ::unsetenv("FOO");
  ::unsetenv("MLFLOW_CPP_H11_INHERITED");
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  CHECK(p->pid() > 0);
  REQUIRE(wait_done(*p));
  CHECK(p->done());
  CHECK(p->exit().code == 3);
  CHECK(p->exit().signal == 0);
  CHECK_FALSE(p->exit().ok());
  CHECK_FALSE(p->exit().interrupted());
  CHECK(p->exit().describe() == "exit 3");
  CHECK(mlflow::testing::read_file(log_in(dir)) == "bar\n1\ninherited\nto-stderr\n");
  CHECK(last_line(log_in(dir)) == "to-stderr");
  // Polling again after the end changes nothing.
  CHECK(p->poll());
  CHECK(p->exit().code == 3);
}

TEST_CASE("trial process: the log is appended to and stdin is empty") {
  mlflow::testing::TempDir dir;
  mlflow::testing::write_file(log_in(dir), "earlier attempt\n");
  auto p = TrialProcess::spawn({"/bin/sh", "-c", "cat; echo done"}, {}, log_in(dir));
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  REQUIRE(wait_done(*p));
  CHECK(p->exit().ok());
  CHECK(p->exit().describe() == "exit 0");
  CHECK(mlflow::testing::read_file(log_in(dir)) == "earlier attempt\ndone\n");
}

TEST_CASE("trial process: its own process group, which signal() reaches") {
  mlflow::testing::TempDir dir;
  // Prints its process group (field 5 of /proc/PID/stat; sh's name has no spaces), then spins
  // until signalled.
  auto p = TrialProcess::spawn(
      {"/bin/sh", "-c", "set -- $(cat /proc/$$/stat); echo $5; while :; do :; done"}, {},
      log_in(dir));
  REQUIRE_MESSAGE(p.ok(), p.status().message());
  // Wait for the line, then signal: the group is the child's own.
  bool printed = false;
  for (long i = 0; i < 200'000'000L && !printed; ++i) {
    printed = mlflow::testing::read_file(log_in(dir)).find('\n') != std::string::npos;
    if (!printed) std::this_thread::yield();
  }
  REQUIRE(printed);
  CHECK(mlflow::testing::read_file(log_in(dir)) == std::to_string(p->pid()) + "\n");
  CHECK_FALSE(p->poll());
  p->signal(SIGTERM);
  REQUIRE(wait_done(*p));
  CHECK(p->exit().signal == SIGTERM);
  CHECK(p->exit().interrupted());
  CHECK(p->exit().describe().find("killed by signal 15") == 0);
}

TEST_CASE("trial process: the destructor kills and reaps a running process") {
  mlflow::testing::TempDir dir;
  pid_t pid = -1;
  {
    auto p = TrialProcess::spawn({"/bin/sh", "-c", "while :; do :; done"}, {}, log_in(dir));
    REQUIRE_MESSAGE(p.ok(), p.status().message());
    pid = p->pid();
    TrialProcess moved = std::move(*p);  // the moved-from object must not kill it twice
    CHECK(moved.pid() == pid);
    CHECK_FALSE(moved.poll());
  }
  // Reaped: no such process (not even a zombie).
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}

TEST_CASE("trial process: a program that cannot start") {
  mlflow::testing::TempDir dir;
  auto p = TrialProcess::spawn({"/nonexistent/h11/trainer", "--x", "1"}, {}, log_in(dir));
  if (p.ok()) {
    // Some libcs report exec failure only through the child's exit status.
    REQUIRE(wait_done(*p));
    CHECK(p->exit().code == 127);
  } else {
    CHECK(p.status().code() == mlflow::StatusCode::kFailedPrecondition);
    CHECK(p.status().message().find("/nonexistent/h11/trainer") != std::string::npos);
  }

  auto no_log =
      TrialProcess::spawn({"/bin/sh", "-c", "exit 0"}, {}, dir.path() + "/no/such/dir/trial.log");
  if (no_log.ok()) {
    REQUIRE(wait_done(*no_log));
    CHECK_FALSE(no_log->exit().ok());
  } else {
    CHECK(no_log.status().code() == mlflow::StatusCode::kFailedPrecondition);
    CHECK(no_log.status().message().find("no/such/dir/trial.log") != std::string::npos);
  }

  auto empty = TrialProcess::spawn({}, {}, log_in(dir));
  CHECK_FALSE(empty.ok());
}

#include "relay/base/result.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>

namespace {

/// Runs `misuse` in a child process with stderr on a pipe; returns what the
/// child wrote and whether it died of SIGABRT (the only honest way to test a
/// path that must abort, without Catch2 death tests).
template <class F>
std::pair<bool, std::string> abortsWith(F misuse) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    misuse();
    _exit(0);  // reached only if the misuse did not abort
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, out};
}

using IntResult = tw::Result<int, std::string>;

}  // namespace

TEST_CASE("Result holds a value or an error and gives back the side it holds") {
  IntResult good = 7;
  IntResult bad = tw::err(std::string("nope"));
  CHECK(good.ok());
  CHECK(good.value() == 7);
  CHECK(*good == 7);
  CHECK_FALSE(bad.ok());
  CHECK(bad.error() == "nope");
  tw::Status<int> fine;
  tw::Status<int> failed = tw::err(5);
  CHECK(fine.ok());
  CHECK(failed.error() == 5);
}

TEST_CASE("Result::value() on an error aborts with a message instead of dereferencing null") {
  auto [aborted, out] = abortsWith([] {
    IntResult bad = tw::err(std::string("nope"));
    volatile int v = bad.value();
    (void)v;
  });
  CHECK(aborted);
  CHECK(out.find("Result::value() called on a Result holding an error") != std::string::npos);
}

TEST_CASE("operator-> and operator* on an error abort too") {
  using StrResult = tw::Result<std::string, int>;
  CHECK(abortsWith([] {
          StrResult bad = tw::err(1);
          volatile size_t n = bad->size();
          (void)n;
        }).first);
  CHECK(abortsWith([] {
          StrResult bad = tw::err(1);
          volatile size_t n = (*bad).size();
          (void)n;
        }).first);
}

TEST_CASE("Result::error() on a value and Status::error() on success abort with a message") {
  auto [aborted, out] = abortsWith([] {
    IntResult good = 3;
    volatile size_t n = good.error().size();
    (void)n;
  });
  CHECK(aborted);
  CHECK(out.find("Result::error() called on a Result holding a value") != std::string::npos);
  auto [aborted2, out2] = abortsWith([] {
    tw::Status<int> fine;
    volatile int e = fine.error();
    (void)e;
  });
  CHECK(aborted2);
  CHECK(out2.find("Status::error() called on a success") != std::string::npos);
}

// Catch's main with one more option: `--io YAML`, the io: section (config
// `io:`, docs/config.md) every Harness worker of the run uses, so the same
// tests cover the epoll path (`--io "{uring: off}"`).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tests/relay/io/harness.h"

int main(int argc, char* argv[]) {
  Catch::Session session;
  std::string io;
  session.cli(session.cli() |
              Catch::clara::Opt(io, "yaml")["--io"]("the io: section of every worker, e.g. {uring: off}"));
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  tw::testing::harnessIo() = io;
  return session.run();
}
